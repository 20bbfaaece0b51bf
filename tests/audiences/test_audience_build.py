"""Building and previewing audiences: consent, exclusions, per-category grain, history."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from dagster_project.audiences import (
    HISTORY_TABLE,
    AudienceSpecError,
    build_audience,
    build_audiences,
    load_audiences,
    parse_audiences,
    preview_audience,
)

from .conftest import AS_OF, Warehouse


def spec_of(*audiences: dict):
    return parse_audiences({"audiences": list(audiences)})


def aud(name: str, consent: str = "none", **extra) -> dict:
    base = {"name": name, "description": name, "consent": consent, "rule": {"profile": "true"}}
    base.update(extra)
    return base


def ids(wh: Warehouse, name: str) -> set[str]:
    return {r[0] for r in wh.con.execute(f"SELECT person_id FROM audiences.{name}").fetchall()}


@pytest.mark.parametrize(
    ("consent", "column"),
    [("email", "has_email_consent"), ("sms", "has_sms_consent"), ("ads", "has_ads_consent")],
)
def test_consent_is_enforced_per_channel(wh: Warehouse, consent: str, column: str) -> None:
    wh.person("yes")
    wh.person("no", **{column: False})
    for other in {"has_email_consent", "has_sms_consent", "has_ads_consent"} - {column}:
        wh.person(f"only_{other}", **{column: False, other: True})
    config = spec_of(aud("everyone", consent))
    result = build_audience(wh.con, config.get("everyone"), AS_OF, run_id="r")
    assert ids(wh, "everyone") == {"yes"}
    assert (result.size_before_consent, result.size_before_exclusions, result.size) == (4, 1, 1)


def test_consent_none_keeps_everyone(wh: Warehouse) -> None:
    wh.person("a", has_email_consent=False, has_sms_consent=False, has_ads_consent=False)
    wh.person("b")
    build_audience(wh.con, spec_of(aud("all_people")).get("all_people"), AS_OF, run_id="r")
    assert ids(wh, "all_people") == {"a", "b"}


def test_exclusions_use_final_membership_transitively(wh: Warehouse) -> None:
    # c <- b <- a : a excludes b's members, b excludes c's members.
    for pid in ("p1", "p2", "p3"):
        wh.person(pid)
    wh.person("p4", has_email_consent=False)
    config = spec_of(
        aud("a_list", exclude=["b_list"]),
        aud(
            "b_list",
            "email",
            exclude=["c_list"],
            rule={"profile": "person_id in ('p1', 'p2', 'p4')"},
        ),
        aud("c_list", rule={"profile": "person_id = 'p1'"}),
    )
    assert config.names == ["c_list", "b_list", "a_list"]
    results = build_audiences(wh.con, config, AS_OF, run_id="r")
    assert [r.name for r in results] == ["c_list", "b_list", "a_list"]
    assert ids(wh, "c_list") == {"p1"}
    assert ids(wh, "b_list") == {"p2"}  # p1 excluded by c, p4 lacks consent
    assert ids(wh, "a_list") == {"p1", "p3", "p4"}  # only b's members are removed
    a = results[-1]
    assert (a.size_before_consent, a.size_before_exclusions, a.size) == (4, 4, 3)


def test_exclusion_does_not_read_stale_tables(wh: Warehouse) -> None:
    wh.person("p1")
    config = spec_of(
        aud("main", exclude=["supp"]), aud("supp", rule={"profile": "person_id = 'p1'"})
    )
    wh.con.execute("CREATE SCHEMA audiences")
    wh.con.execute("CREATE TABLE audiences.supp AS SELECT 'nobody' AS person_id")
    build_audience(wh.con, config.get("main"), AS_OF, run_id="r")
    assert ids(wh, "main") == set()


def test_per_category_membership_and_any_category(wh: Warehouse) -> None:
    wh.person("p1")
    wh.events("p1", "page_view", [1, 2], "shoes")
    wh.events("p1", "page_view", [1], "bags")
    wh.event("p1", "login", 1)
    wh.person("p2")  # interested, but never logged in
    wh.events("p2", "page_view", [1, 2], "shoes")
    wh.person("p3")  # interested in shoes, bought a bag: the any_category no_event removes p3
    wh.events("p3", "page_view", [1, 2], "shoes")
    wh.event("p3", "login", 1)
    wh.event("p3", "purchase", 20, "bags")
    config = spec_of(
        aud(
            "interest",
            per_category=True,
            fields=["first_name", "top_category"],
            rule={
                "events": [
                    {"type": "page_view", "within_days": 7, "min_count": 1},
                    {"type": "login", "within_days": 7, "any_category": True},
                ],
                "no_events": [{"type": "purchase", "within_days": 30, "any_category": True}],
            },
        )
    )
    result = build_audience(wh.con, config.get("interest"), AS_OF, run_id="r")
    rows = wh.con.execute(
        "SELECT person_id, category FROM audiences.interest ORDER BY ALL"
    ).fetchall()
    assert rows == [("p1", "bags"), ("p1", "shoes")]
    assert (result.size, result.persons) == (2, 1)


def test_per_person_audience_excluding_a_per_category_one(wh: Warehouse) -> None:
    wh.person("p1")
    wh.events("p1", "page_view", [1], "shoes")
    wh.person("p2")
    config = spec_of(
        aud("all_but_browsers", exclude=["browsers"]),
        aud(
            "browsers",
            per_category=True,
            rule={"events": [{"type": "page_view", "within_days": 7}]},
        ),
    )
    build_audiences(wh.con, config, AS_OF, run_id="r")
    assert ids(wh, "all_but_browsers") == {"p2"}


def test_size_history_appends_one_row_per_build(wh: Warehouse) -> None:
    config = load_audiences()
    wh.person("buyer", has_email_consent=False)
    wh.event("buyer", "purchase", 1)
    build_audiences(wh.con, config, AS_OF, run_id="run-1")
    wh.person("buyer2")
    wh.event("buyer2", "purchase", 2)
    spec = config.get("bought_last_7_days")
    second = build_audience(wh.con, spec, date(2024, 6, 16), run_id="run-2")
    rows = wh.con.execute(
        f"SELECT run_id, as_of, size, size_before_consent, size_before_exclusions, computed_at "
        f"FROM {HISTORY_TABLE} WHERE audience_name = 'bought_last_7_days' ORDER BY computed_at"
    ).fetchall()
    assert [r[:5] for r in rows] == [
        ("run-1", AS_OF, 1, 1, 1),
        ("run-2", date(2024, 6, 16), 2, 2, 2),
    ]
    total = wh.con.execute(f"SELECT count(*) FROM {HISTORY_TABLE}").fetchone()[0]
    assert total == len(config) + 1
    table_ts = wh.con.execute(
        "SELECT DISTINCT computed_at FROM audiences.bought_last_7_days"
    ).fetchall()
    assert table_ts == [(second.computed_at,)] == [(rows[-1][5],)]
    names = wh.con.execute(
        "SELECT DISTINCT audience_name FROM audiences.bought_last_7_days"
    ).fetchall()
    assert names == [("bought_last_7_days",)]


def test_as_of_comes_from_env_when_not_given(
    wh: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    wh.person("p1")
    wh.event("p1", "purchase", 10)  # 2024-06-05
    spec = load_audiences().get("bought_last_7_days")
    monkeypatch.setenv("CDP_AS_OF", "2024-06-06")
    result = build_audience(wh.con, spec, run_id="env")
    assert (result.as_of, result.size) == (date(2024, 6, 6), 1)
    monkeypatch.setenv("CDP_AS_OF", "2024-06-30")
    assert build_audience(wh.con, spec, run_id="env2").size == 0
    assert build_audience(wh.con, spec, date(2024, 6, 5), run_id="explicit").size == 1
    monkeypatch.setenv("CDP_AS_OF", "June 6th")
    with pytest.raises(ValueError, match="CDP_AS_OF"):
        build_audience(wh.con, spec, run_id="bad")


def test_profile_type_error_is_reported_before_anything_is_written(wh: Warehouse) -> None:
    wh.person("p1")
    config = spec_of(aud("broken", rule={"profile": "list_contains(email, 'x')"}))
    before = wh.tables()
    with pytest.raises(AudienceSpecError, match="'broken'.*does not run"):
        build_audience(wh.con, config.get("broken"), AS_OF, run_id="r")
    assert wh.tables() == before


def test_failed_build_rolls_back_table_and_history(wh: Warehouse) -> None:
    wh.person("p1")
    config = spec_of(aud("fragile"))
    spec = config.get("fragile")
    build_audience(wh.con, spec, AS_OF, run_id="ok")
    # The profile passes EXPLAIN but fails at run time.
    bad = spec_of(aud("fragile", rule={"profile": "cast(email AS INTEGER) > 0"})).get("fragile")
    with pytest.raises(duckdb.Error):
        build_audience(wh.con, bad, AS_OF, run_id="bad")
    assert ids(wh, "fragile") == {"p1"}
    runs = wh.con.execute(f"SELECT run_id FROM {HISTORY_TABLE}").fetchall()
    assert runs == [("ok",)]


def test_preview_writes_nothing_and_masks_contacts(wh: Warehouse) -> None:
    config = load_audiences()
    wh.person("sanne", email="sanne.devries@provider.nl", phone="+31612345678")
    wh.event("sanne", "add_to_cart", 2)
    wh.event("sanne", "email_open", 2)
    wh.person("piet", has_email_consent=False)
    wh.event("piet", "add_to_cart", 2)
    before = wh.tables()
    preview = preview_audience(wh.con, config.get("cart_abandoners"), AS_OF, others=config)
    assert wh.tables() == before
    assert "audiences" not in {
        r[0]
        for r in wh.con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()
    }

    assert preview["name"] == "cart_abandoners"
    assert (preview["size_before_consent"], preview["size_before_exclusions"], preview["size"]) == (
        2,
        1,
        1,
    )
    sample = preview["sample"]
    assert len(sample) == 1
    assert sample[0]["person_id"] == "sanne"
    assert sample[0]["email"] == "s***@provider.nl"
    assert "sanne.devries" not in repr(preview)
    assert preview["overlaps"]["newsletter_engaged_non_buyers"] == 1
    assert preview["overlaps"]["bought_last_7_days"] == 0
    assert "cart_abandoners" not in preview["overlaps"]


def test_preview_on_a_read_only_connection(wh: Warehouse) -> None:
    config = load_audiences()
    wh.person("p1")
    wh.event("p1", "purchase", 1)
    build_audiences(wh.con, config, AS_OF, run_id="r")
    history = wh.con.execute(f"SELECT count(*) FROM {HISTORY_TABLE}").fetchone()[0]
    wh.con.close()
    with duckdb.connect(str(wh.path), read_only=True) as ro:
        preview = preview_audience(ro, config.get("newsletter_engaged_non_buyers"), AS_OF)
        assert preview["overlap_source"] == "tables"
        assert preview["overlaps"]["bought_last_7_days"] == 0
        assert ro.execute(f"SELECT count(*) FROM {HISTORY_TABLE}").fetchone()[0] == history
    wh.con = duckdb.connect(str(wh.path))
