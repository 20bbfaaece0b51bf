"""The shipped destinations in the daily job (reuses the session `pipeline_run`: two runs)."""

from __future__ import annotations

import json

import duckdb
import pytest

pytestmark = pytest.mark.slow


def test_daily_job_delivers_files_and_skips_destinations_without_secrets(
    pipeline_run: dict,
) -> None:
    paths = pipeline_run["paths"]
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        log = con.execute(
            "select destination, status, count(*) from activation.deliveries group by 1, 2"
        ).fetchall()
        by_dest = {(d, s): n for d, s, n in log}
        assert by_dest[("google_ads_customer_match", "success")] == 4  # 2 audiences x 2 runs
        assert by_dest[("meta_custom_audience", "success")] == 4
        assert by_dest[("crm_service_desk", "skipped")] == 2
        assert by_dest[("marketing_tool_webhook", "skipped")] == 2
        # 0 delivered rows for people without the destination's consent (ads)
        delivered, without_consent = con.execute(
            """select count(*), count(*) filter (where c.person_id is null)
            from activation.delivered_members m
            left join marts.consent_current c
              on c.person_id = m.person_id and c.channel = 'ads' and c.is_granted
            where m.destination in ('google_ads_customer_match', 'meta_custom_audience')"""
        ).fetchone()
        assert delivered > 0 and without_consent == 0
        print(f"ad-platform state rows {delivered}, of which without ads consent {without_consent}")
        # what was delivered is exactly the consented members of the audience
        expected = con.execute(
            """select count(*) from audiences.cart_abandoners a join marts.consent_current c
            on c.person_id = a.person_id and c.channel = 'ads' and c.is_granted"""
        ).fetchone()[0]
        state = con.execute(
            "select count(*) from activation.delivered_members "
            "where destination = 'meta_custom_audience' and audience = 'cart_abandoners'"
        ).fetchone()[0]
        assert state == expected
    outbox = paths.data_dir / "outbox" / "meta_custom_audience"
    manifests = [json.loads(p.read_text()) for p in outbox.glob("cart_abandoners__*.manifest.json")]
    entered = sum(m["rows"] for m in manifests if m["change"] == "entered")
    exited = sum(m["rows"] for m in manifests if m["change"] == "exited")
    assert entered - exited == expected  # the second run on the same files sends no new members
    print(
        f"meta/cart_abandoners: {expected} consented members; files {sorted((m['change'], m['rows']) for m in manifests)}"
    )
    text = "".join(p.read_text() for p in outbox.glob("*.csv"))
    assert "@" not in text
