"""End to end: resolve_identities on a small warehouse with hand-made hard cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dagster_project.identity.resolve import resolve_identities
from dagster_project.identity.settings import IdentitySettings

from .helpers import crowd, rec, write_cookies, write_records

LANDLINE = "+31201112233"
FAMILY_MAIL = "fam.devries@example.org"


def hard_cases() -> list[dict[str, Any]]:
    """Twins, a couple on a family mailbox, father and son, a nickname, two loose records."""
    home = {"street": "kerkstraat", "house_number": "12", "postcode": "3511AB", "city": "utrecht"}
    return [
        # twins: same surname, address, birth date and landline; different first names
        rec(
            "ws:T1",
            fn="sophie",
            ln="de vries",
            dob="2001-05-04",
            phone=LANDLINE,
            email="sophie.dv@example.org",
            **home,
        ),
        rec(
            "lo:T1",
            fn="sophie",
            ln="de vries",
            dob="2001-05-04",
            phone=LANDLINE,
            postcode="3511AB",
            house_number="12",
        ),
        rec(
            "ws:T2",
            fn="sara",
            ln="de vries",
            dob="2001-05-04",
            phone=LANDLINE,
            email="sara.dv@example.org",
            **home,
        ),
        rec(
            "lo:T2",
            fn="sara",
            ln="de vries",
            dob="2001-05-04",
            phone=LANDLINE,
            postcode="3511AB",
            house_number="12",
        ),
        rec("cs:T9", fn="s", phone=LANDLINE),  # which twin called? nobody knows
        # parents on the family mailbox, and a nameless newsletter record on it
        rec("ws:M1", fn="marie", ln="de vries", dob="1970-02-02", email=FAMILY_MAIL, **home),
        rec(
            "ws:J1",
            fn="jan",
            ln="de vries",
            dob="1968-08-08",
            email=FAMILY_MAIL,
            phone="+31655500001",
            **home,
        ),
        rec("cs:J1", fn="jan", ln="de vries", phone="+31655500001"),
        rec("nl:F1", email=FAMILY_MAIL),
        # father and son with the same name at the same address
        rec(
            "ws:B1",
            fn="kees",
            ln="bakker",
            dob="1955-03-03",
            email="k.bakker@example.org",
            street="dorpsweg",
            house_number="5",
            postcode="1234CD",
            city="delft",
        ),
        rec(
            "lo:B2",
            fn="kees",
            ln="bakker",
            dob="1985-09-09",
            email="k.bakker@example.org",
            postcode="1234CD",
            house_number="5",
        ),
        # nickname on the same e-mail address
        rec("ws:N1", fn="sophia", ln="kramer", email="sophia.kramer@example.org", dob="1990-01-01"),
        rec("nl:N1", fn="sofie", email="sophia.kramer@example.org"),
        # one person, two records with nothing in common but a rare first name
        rec("nl:X1", fn="xandra", email="xandra@example.org"),
        rec("cs:X2", fn="xandra", phone="+31699900002"),
    ]


def person_of(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("select record_key, person_id from identity.person_map").fetchall())


def key(short: str) -> str:
    return rec(short)["record_key"]


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Train the Splink model once on crowd + hard cases; tests reuse the JSON."""
    path = tmp_path_factory.mktemp("model") / "splink_model.json"
    con = duckdb.connect()
    write_records(con, crowd(400) + hard_cases())
    stats = resolve_identities(con, path, IdentitySettings(u_max_pairs=2e5, em_max_pairs=None))
    assert stats.model_trained and path.is_file()
    # "same surname, different first name" must count against a match
    first_name = next(
        c
        for c in json.loads(path.read_text())["comparisons"]
        if c["output_column_name"] == "first_name"
    )
    different = first_name["comparison_levels"][-1]
    assert different["m_probability"] < different["u_probability"]
    con.close()
    return path


@pytest.fixture
def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "cdp.duckdb"))
    write_records(con, crowd(400) + hard_cases())
    write_cookies(con, {"c1": "T1", "c2": "NOT_AN_ACCOUNT", "c3": "N1"})
    yield con
    con.close()


def test_guards_keep_twins_couples_and_generations_apart(
    warehouse: duckdb.DuckDBPyConnection, trained_model: Path, fast_settings: IdentitySettings
) -> None:
    stats = resolve_identities(warehouse, trained_model, fast_settings)
    assert not stats.model_trained
    pid = person_of(warehouse)
    assert pid[key("ws:T1")] == pid[key("lo:T1")]
    assert pid[key("ws:T2")] == pid[key("lo:T2")]
    assert pid[key("ws:T1")] != pid[key("ws:T2")]
    assert pid[key("cs:T9")] not in {pid[key("ws:T1")], pid[key("ws:T2")]}
    assert pid[key("ws:J1")] == pid[key("cs:J1")]
    assert pid[key("ws:M1")] != pid[key("ws:J1")]
    assert pid[key("nl:F1")] not in {pid[key("ws:M1")], pid[key("ws:J1")]}
    assert pid[key("ws:B1")] != pid[key("lo:B2")]
    assert pid[key("ws:N1")] == pid[key("nl:N1")]
    blocked = warehouse.execute(
        "select reason from identity.blocked_links where record_key_l = ? and record_key_r = ?",
        [key("lo:T1"), key("lo:T2")],
    ).fetchall()
    assert ("first_name_conflict",) in blocked


def test_output_tables_have_the_promised_shape(
    warehouse: duckdb.DuckDBPyConnection, trained_model: Path, fast_settings: IdentitySettings
) -> None:
    stats = resolve_identities(warehouse, trained_model, fast_settings)
    n_records = warehouse.execute(
        "select count(*) from identity.int_person_records_unioned"
    ).fetchall()[0][0]
    rows = warehouse.execute("""
        select source, count(*), count(distinct record_key), count(person_id)
        from identity.person_map group by source""").fetchall()
    by_source = {r[0]: r[1:] for r in rows}
    assert sum(v[0] for s, v in by_source.items() if s != "web_analytics__cookies") == n_records
    assert by_source["web_analytics__cookies"] == (2, 2, 2)  # c2 logged in to no known account
    cookie = dict(
        warehouse.execute("""
        select source_record_id, person_id from identity.person_map
        where source = 'web_analytics__cookies'""").fetchall()
    )
    assert cookie["c1"] == person_of(warehouse)[key("ws:T1")]
    rules = {
        r[0]
        for r in warehouse.execute("select distinct match_rule from identity.person_map").fetchall()
    }
    assert rules <= {"singleton", "deterministic", "splink", "cookie_login"}
    sizes = warehouse.execute("""
        select count(*) from identity.person_map m
        join (select person_id, count(*) as n from identity.person_map
              where source <> 'web_analytics__cookies' group by 1) using (person_id)
        where m.cluster_size <> n and source <> 'web_analytics__cookies'""").fetchall()[0][0]
    assert sizes == 0
    assert stats.records == n_records and stats.cookies == 2
    assert sum(k * v for k, v in stats.cluster_size_distribution.items()) == n_records
    assert stats.deterministic_links > 0 and stats.splink_links > 0 and stats.comparisons > 0
    assert 0 < stats.match_rate < 1
    tables = {
        r[0]
        for r in warehouse.execute(
            "select table_name from information_schema.tables where table_schema = 'identity'"
        ).fetchall()
    }
    assert {"person_map", "person_links", "blocked_links"} <= tables
    assert not any(t.startswith("__splink") for t in tables)


def test_person_id_survives_rerun_and_fresh_warehouse(
    warehouse: duckdb.DuckDBPyConnection, trained_model: Path, fast_settings: IdentitySettings
) -> None:
    resolve_identities(warehouse, trained_model, fast_settings)
    first = person_of(warehouse)
    stats = resolve_identities(warehouse, trained_model, fast_settings)
    assert person_of(warehouse) == first
    assert stats.new_person_ids == 0
    warehouse.execute("drop table identity.person_map")
    resolve_identities(warehouse, trained_model, fast_settings)
    assert person_of(warehouse) == first


def test_new_record_joins_existing_person_and_bridging_record_merges_two(
    warehouse: duckdb.DuckDBPyConnection, trained_model: Path, fast_settings: IdentitySettings
) -> None:
    resolve_identities(warehouse, trained_model, fast_settings)
    before = person_of(warehouse)
    x1, x2 = before[key("nl:X1")], before[key("cs:X2")]
    assert x1 != x2
    rows = (
        crowd(400)
        + hard_cases()
        + [
            rec(
                "lo:N2",
                fn="sophia",
                ln="kramer",
                dob="1990-01-01",
                email="sophia.kramer@example.org",
            ),
            rec(
                "ws:X3", fn="xandra", ln="visser", email="xandra@example.org", phone="+31699900002"
            ),
        ]
    )
    write_records(warehouse, rows)
    stats = resolve_identities(warehouse, trained_model, fast_settings)
    after = person_of(warehouse)
    assert after[key("lo:N2")] == before[key("ws:N1")]
    merged = {after[key("nl:X1")], after[key("cs:X2")], after[key("ws:X3")]}
    assert merged == {min(x1, x2)}
    assert stats.retired_person_ids == 1
    unchanged = [k for k in before if k in after and before[k] not in (x1, x2)]
    assert all(after[k] == before[k] for k in unchanged)


def test_changed_model_definition_triggers_retraining(
    tmp_path: Path, trained_model: Path, fast_settings: IdentitySettings
) -> None:
    stale = tmp_path / "stale.json"
    stale.write_text(trained_model.read_text().replace('"phone"', '"phone_number"'))
    con = duckdb.connect()
    write_records(con, crowd(400) + hard_cases())
    assert resolve_identities(con, stale, fast_settings).model_trained
    assert not resolve_identities(con, stale, fast_settings).model_trained
    con.close()


def test_tiny_first_run_links_deterministically_without_training(tmp_path: Path) -> None:
    con = duckdb.connect()
    write_records(con, hard_cases())
    model = tmp_path / "model.json"
    stats = resolve_identities(con, model, IdentitySettings())
    assert not stats.model_trained and not model.exists()
    assert stats.splink_links == 0 and stats.deterministic_links > 0
    pid = person_of(con)
    assert pid[key("ws:N1")] == pid[key("nl:N1")]
    con.close()
