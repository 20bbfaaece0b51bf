"""Membership history: entries, exits, re-entries, identity merges, and the sizes per run."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from dagster_project.audiences import (
    HISTORY_TABLE,
    build_audience,
    parse_audiences,
    preview_audience,
)
from dagster_project.audiences.history import MEMBERSHIP_TABLE

from .conftest import AS_OF, Warehouse


def spec_of(*audiences: dict):
    return parse_audiences({"audiences": list(audiences)})


def aud(name: str, **extra) -> dict:
    base = {"name": name, "description": name, "consent": "none", "rule": {"profile": "true"}}
    base.update(extra)
    return base


VIP = spec_of(aud("vip", rule={"profile": "loyalty_tier = 'gold'"})).get("vip")


def history(wh: Warehouse, audience: str = "vip") -> list[tuple]:
    return wh.con.execute(
        f"SELECT person_id, category, entered_run_id, exited_run_id, exit_reason, old_person_id "
        f"FROM {MEMBERSHIP_TABLE} WHERE audience = ? ORDER BY entered_at, person_id, category",
        [audience],
    ).fetchall()


def set_tier(wh: Warehouse, person_id: str, tier: str | None) -> None:
    wh.con.execute(
        "UPDATE marts.customer_profiles SET loyalty_tier = ? WHERE person_id = ?", [tier, person_id]
    )


def test_enter_stay_leave_and_reenter(wh: Warehouse) -> None:
    wh.person("p1", loyalty_tier="gold")
    wh.person("p2", loyalty_tier="gold")
    wh.person("p3", loyalty_tier="silver")
    first = build_audience(wh.con, VIP, AS_OF, run_id="r1")
    assert (first.entered, first.exited) == (2, 0)

    set_tier(wh, "p2", "silver")
    set_tier(wh, "p3", "gold")
    second = build_audience(wh.con, VIP, AS_OF, run_id="r2")
    assert (second.entered, second.exited) == (1, 1)

    same = build_audience(wh.con, VIP, AS_OF, run_id="r3")
    assert (same.entered, same.exited) == (0, 0)

    set_tier(wh, "p2", "gold")
    back = build_audience(wh.con, VIP, AS_OF, run_id="r4")
    assert (back.entered, back.exited) == (1, 0)

    assert history(wh) == [
        ("p1", None, "r1", None, None, None),
        ("p2", None, "r1", "r2", "left", None),
        ("p3", None, "r2", None, None, None),
        ("p2", None, "r4", None, None, None),
    ]
    open_ids = wh.con.execute(
        f"SELECT person_id FROM {MEMBERSHIP_TABLE} WHERE exited_at IS NULL ORDER BY 1"
    ).fetchall()
    assert [r[0] for r in open_ids] == sorted(
        r[0] for r in wh.con.execute("SELECT person_id FROM audiences.vip").fetchall()
    )
    sizes = wh.con.execute(
        f"SELECT run_id, size, size_before_consent, entered, exited FROM {HISTORY_TABLE} "
        "ORDER BY computed_at"
    ).fetchall()
    assert sizes == [
        ("r1", 2, 2, 2, 0),
        ("r2", 2, 2, 1, 1),
        ("r3", 2, 2, 0, 0),
        ("r4", 3, 3, 1, 0),
    ]
    entered, exited = wh.con.execute(
        f"SELECT entered_at, exited_at FROM {MEMBERSHIP_TABLE} WHERE exited_run_id = 'r2'"
    ).fetchone()
    assert isinstance(entered, datetime) and exited > entered


def test_per_category_rows_are_kept_per_category(wh: Warehouse) -> None:
    spec = spec_of(
        aud("interest", per_category=True, rule={"events": [{"type": "page_view"}]})
    ).get("interest")
    wh.person("p1")
    wh.event("p1", "page_view", 1, "shoes")
    wh.event("p1", "page_view", 1, "books")
    build_audience(wh.con, spec, AS_OF, run_id="r1")
    wh.con.execute("DELETE FROM marts.customer_events WHERE category = 'books'")
    result = build_audience(wh.con, spec, AS_OF, run_id="r2")
    assert (result.entered, result.exited) == (0, 1)
    assert history(wh, "interest") == [
        ("p1", "books", "r1", "r2", "left", None),
        ("p1", "shoes", "r1", None, None, None),
    ]


def _person_id_history(wh: Warehouse, *rows: tuple[str, str, str]) -> None:
    wh.con.execute("CREATE SCHEMA IF NOT EXISTS identity")
    wh.con.execute(
        "CREATE TABLE IF NOT EXISTS identity.person_id_history (run_id VARCHAR, "
        "changed_at TIMESTAMP, kind VARCHAR, old_person_id VARCHAR, new_person_id VARCHAR, "
        "n_records INTEGER, record_keys VARCHAR[])"
    )
    for kind, old, new in rows:
        wh.con.execute(
            "INSERT INTO identity.person_id_history VALUES ('idrun', now()::TIMESTAMP, ?, ?, ?, "
            "1, [])",
            [kind, old, new],
        )


def rename_person(wh: Warehouse, old: str, new: str) -> None:
    wh.con.execute(
        "UPDATE marts.customer_profiles SET person_id = ? WHERE person_id = ?", [new, old]
    )


def test_merge_moves_the_open_row_to_the_surviving_id(wh: Warehouse) -> None:
    wh.person("absorbed", loyalty_tier="gold")
    build_audience(wh.con, VIP, AS_OF, run_id="r1")
    rename_person(wh, "absorbed", "survivor")
    _person_id_history(wh, ("merge", "absorbed", "survivor"))
    result = build_audience(wh.con, VIP, AS_OF, run_id="r2")
    assert (result.entered, result.exited) == (0, 0)
    assert history(wh) == [("survivor", None, "r1", None, None, "absorbed")]


def test_merge_of_two_members_keeps_the_earliest_stay(wh: Warehouse) -> None:
    wh.person("older", loyalty_tier="gold")
    build_audience(wh.con, VIP, AS_OF, run_id="r1")
    wh.person("younger", loyalty_tier="gold")
    build_audience(wh.con, VIP, AS_OF, run_id="r2")
    wh.con.execute("DELETE FROM marts.customer_profiles WHERE person_id = 'older'")
    _person_id_history(wh, ("merge", "older", "younger"))
    result = build_audience(wh.con, VIP, AS_OF, run_id="r3")
    assert (result.entered, result.exited) == (0, 0)
    assert history(wh) == [
        ("younger", None, "r1", None, None, "older"),
        ("younger", None, "r2", "r3", "merged", None),
    ]


def test_chained_merges_are_followed(wh: Warehouse) -> None:
    wh.person("a", loyalty_tier="gold")
    build_audience(wh.con, VIP, AS_OF, run_id="r1")
    rename_person(wh, "a", "c")
    _person_id_history(wh, ("merge", "a", "b"), ("merge", "b", "c"), ("new", None, "z"))
    build_audience(wh.con, VIP, AS_OF, run_id="r2")
    assert history(wh) == [("c", None, "r1", None, None, "b")]


def test_without_person_id_history_a_merge_is_exit_and_entry(wh: Warehouse) -> None:
    wh.person("absorbed", loyalty_tier="gold")
    build_audience(wh.con, VIP, AS_OF, run_id="r1")
    rename_person(wh, "absorbed", "survivor")
    result = build_audience(wh.con, VIP, AS_OF, run_id="r2")
    assert (result.entered, result.exited) == (1, 1)


def test_failed_build_leaves_the_membership_history_alone(wh: Warehouse) -> None:
    wh.person("p1", loyalty_tier="gold")
    build_audience(wh.con, VIP, AS_OF, run_id="ok")
    before = history(wh)
    bad = spec_of(aud("vip", rule={"profile": "cast(email AS INTEGER) > 0"})).get("vip")
    with pytest.raises(duckdb.Error):
        build_audience(wh.con, bad, AS_OF, run_id="bad")
    assert history(wh) == before


def test_old_size_history_gets_the_new_columns(wh: Warehouse) -> None:
    wh.con.execute("CREATE SCHEMA audiences")
    wh.con.execute(
        f"CREATE TABLE {HISTORY_TABLE} (run_id VARCHAR NOT NULL, audience_name VARCHAR NOT NULL, "
        "computed_at TIMESTAMP NOT NULL, as_of DATE NOT NULL, size BIGINT NOT NULL, "
        "size_before_consent BIGINT NOT NULL, size_before_exclusions BIGINT NOT NULL)"
    )
    wh.person("p1", loyalty_tier="gold")
    build_audience(wh.con, VIP, AS_OF, run_id="r1")
    row = wh.con.execute(f"SELECT entered, exited FROM {HISTORY_TABLE}").fetchone()
    assert row == (1, 0)


def test_preview_overlaps_count_people_and_shares(wh: Warehouse) -> None:
    config = spec_of(
        aud("gold", rule={"profile": "loyalty_tier = 'gold'"}),
        aud("dutch", rule={"profile": "country = 'NL'"}),
        aud("nobody", rule={"profile": "false"}),
    )
    for pid, tier, country in [("a", "gold", "NL"), ("b", "gold", "DK"), ("c", None, "NL")]:
        wh.person(pid, loyalty_tier=tier, country=country)
    preview = preview_audience(wh.con, config.get("gold"), AS_OF, others=config)
    assert preview["overlaps"] == {"dutch": 1, "nobody": 0}
    assert preview["overlap_shares"] == {"dutch": 0.5, "nobody": 0.0}
    for spec in config:
        build_audience(wh.con, spec, AS_OF, run_id="r1")
    from_tables = preview_audience(wh.con, config.get("gold"), AS_OF)
    assert from_tables["overlap_source"] == "tables"
    # History tables of the schema are not audiences.
    assert from_tables["overlaps"] == {"dutch": 1, "nobody": 0}


def test_audience_asset_reports_numeric_sizes_and_overlaps(wh: Warehouse) -> None:
    import dagster as dg
    from dagster_duckdb import DuckDBResource

    from dagster_project.audiences.assets import _audience_asset

    config = spec_of(
        aud("gold", rule={"profile": "loyalty_tier = 'gold'"}),
        aud("dutch", rule={"profile": "country = 'NL'"}),
    )
    wh.person("a", loyalty_tier="gold", country="NL", email="anna.devries@provider.nl")
    wh.person("b", loyalty_tier="gold", country="DK", has_email_consent=False)
    wh.con.close()
    upstream = [dg.AssetKey(["marts", "customer_profiles"])]
    assets = [_audience_asset(spec, config, upstream) for spec in config]
    resources = {"duckdb": DuckDBResource(database=str(wh.path))}
    result = dg.materialize(assets, resources=resources, run_config={}, raise_on_error=True)
    wh.con = duckdb.connect(str(wh.path))
    (event,) = result.asset_materializations_for_node("audiences__gold")
    metadata = {k: v.value for k, v in event.metadata.items()}
    for key in ("size", "size_before_consent", "size_before_exclusions", "entered", "exited"):
        assert type(metadata[key]) is int, key
    assert (metadata["size"], metadata["entered"], metadata["exited"]) == (2, 2, 0)
    assert metadata["overlap_counts"] == {"dutch": 1}
    # Whichever was built first compiled the other, the second read the first's table.
    (dutch,) = result.asset_materializations_for_node("audiences__dutch")
    assert dutch.metadata["overlap_counts"].value == {"gold": 1}
    assert "| dutch | 1 | 50.0% |" in metadata["overlap"]
    assert "anna.devries" not in repr(metadata)


def test_run_overlaps_read_tables_built_in_the_run_and_agree_with_preview(wh: Warehouse) -> None:
    from dagster_project.audiences.assets import run_overlaps

    config = spec_of(
        aud("gold", rule={"profile": "loyalty_tier = 'gold'"}),
        aud("dutch", rule={"profile": "country = 'NL'"}),
        aud("danish", rule={"profile": "country = 'DK'"}),
    )
    for pid, tier, country in [("a", "gold", "NL"), ("b", "gold", "DK"), ("c", None, "NL")]:
        wh.person(pid, loyalty_tier=tier, country=country)
    build_audience(wh.con, config.get("dutch"), AS_OF, run_id="old")
    wh.con.execute("UPDATE marts.customer_profiles SET country = 'DK' WHERE person_id = 'a'")
    build_audience(wh.con, config.get("gold"), AS_OF, run_id="now")
    # dutch's table is stale (run "old"): it must be compiled, not read.
    expected = preview_audience(wh.con, config.get("gold"), AS_OF, others=config)["overlaps"]
    assert run_overlaps(wh.con, config.get("gold"), config, "now", AS_OF) == expected
    assert expected == {"dutch": 0, "danish": 2}
    build_audience(wh.con, config.get("danish"), AS_OF, run_id="now")
    wh.con.execute("UPDATE marts.customer_profiles SET country = 'NL'")  # tables now win
    assert run_overlaps(wh.con, config.get("gold"), config, "now", AS_OF)["danish"] == 2


@pytest.mark.parametrize(
    ("value", "enabled"), [(None, True), ("1", True), ("0", False), ("off", False)]
)
def test_overlap_metadata_can_be_switched_off(
    value: str | None, enabled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster_project.audiences.assets import OVERLAPS_ENV, overlap_metadata_enabled

    if value is None:
        monkeypatch.delenv(OVERLAPS_ENV, raising=False)
    else:
        monkeypatch.setenv(OVERLAPS_ENV, value)
    assert overlap_metadata_enabled() is enabled
