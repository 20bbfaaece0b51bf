"""Identity tables after the daily job ran twice on the demo data (the shared `pipeline_run`)."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest


@pytest.fixture(scope="module")
def warehouse(pipeline_run):
    con = duckdb.connect(str(pipeline_run["paths"].warehouse), read_only=True)
    yield con
    con.close()


def test_cookies_never_seen_at_a_login_stay_anonymous(warehouse) -> None:
    anonymous, mapped_anonymous, mapped = warehouse.execute("""
        with seen as (
            select distinct cookie_id from staging.stg_web_analytics__events
            where cookie_id is not null
        ),
        anonymous as (
            select cookie_id from seen
            anti join identity.int_cookie_logins using (cookie_id)
        ),
        cookie_rows as (
            select source_record_id as cookie_id from identity.person_map
            where source = 'web_analytics__cookies'
        )
        select (select count(*) from anonymous),
               (select count(*) from cookie_rows semi join anonymous using (cookie_id)),
               (select count(*) from cookie_rows)
    """).fetchall()[0]
    assert anonymous > 0 and mapped > 0
    assert mapped_anonymous == 0


def test_history_lists_first_run_persons_as_new_and_the_rerun_nothing(
    pipeline_run, warehouse
) -> None:
    first_run, second_run = pipeline_run["first"].run_id, pipeline_run["second"].run_id
    rows = dict(
        warehouse.execute(
            "select run_id, count(*) from identity.person_id_history group by 1"
        ).fetchall()
    )
    assert second_run not in rows  # identical input: no id changed
    kinds, new_ids, records = warehouse.execute(
        "select list(distinct kind), count(distinct new_person_id), sum(n_records) "
        "from identity.person_id_history where run_id = ?",
        [first_run],
    ).fetchall()[0]
    persons, person_records = warehouse.execute(
        "select count(distinct person_id), count(*) from identity.person_map "
        "where source <> 'web_analytics__cookies'"
    ).fetchall()[0]
    assert kinds == ["new"]
    assert (new_ids, records) == (persons, person_records)


def test_match_audit_explains_refusals_without_raw_contact_data(pipeline_run, warehouse) -> None:
    audit = warehouse.execute("select * from identity.match_audit").df()
    assert set(audit["run_id"]) == {pipeline_run["second"].run_id}
    assert "blocked_link" in set(audit["kind"])
    assert audit["reason"].notna().all()
    hashes = audit["identifier_hash"].dropna()
    assert hashes.str.fullmatch("[0-9a-f]{16}").all()
    contact = {
        value
        for (value,) in warehouse.execute("""
            select email from identity.int_person_records_unioned where email is not null
            union select phone from identity.int_person_records_unioned where phone is not null
        """).fetchall()
    }
    cells = [
        part
        for value in audit.to_numpy().ravel()
        for part in (value if isinstance(value, list | np.ndarray) else [value])
    ]
    text = " ".join(str(cell) for cell in cells)
    leaked = [value for value in contact if value in text]
    assert leaked == []
