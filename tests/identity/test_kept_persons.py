"""On an incremental day a person none of whose records changed keeps its records and its id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from dagster_project.identity.constrained import REASON_AMBIGUOUS, constrained_clusters
from dagster_project.identity.kept_persons import REASON_KEPT_APART, drop_edges_between_kept
from dagster_project.identity.resolve import resolve_identities
from dagster_project.identity.settings import IdentitySettings

from .helpers import crowd, groups, rec, write_records
from .test_clustering import INCOMPATIBLE, NONE

# Jan (two records) and his nameless service contact share a mailbox: one person on day one. On day two
# Marie, with another surname, turns up on the same mailbox: the contact could now be either.
JAN = rec("ws:9101", fn="jan", ln="smit", email="smit.family@example.org", dob="1970-02-03")
JAN_LOYALTY = rec("lo:9104", fn="jan", ln="smit", email="smit.family@example.org", dob="1970-02-03")
CONTACT = rec("cs:9102", email="smit.family@example.org")
MARIE = rec("nl:9103", fn="marie", ln="jansen", email="smit.family@example.org")


def person_of(con: duckdb.DuckDBPyConnection, short: str) -> str:
    return con.execute(
        "select person_id from identity.person_map where record_key = ?", [rec(short)["record_key"]]
    ).fetchall()[0][0]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kept_model") / "splink_model.json"
    con = duckdb.connect()
    write_records(con, crowd(300, seed=5))
    resolve_identities(con, path, IdentitySettings(u_max_pairs=2e5, em_max_pairs=None))
    con.close()
    return path


def run(con: duckdb.DuckDBPyConnection, model: Path, rows: list[dict[str, Any]], **kw: Any):
    write_records(con, rows)
    return resolve_identities(
        con, model, IdentitySettings(u_max_pairs=2e5, em_max_pairs=None), **kw
    )


def test_evidence_a_new_record_brings_waits_for_the_full_relink(
    tmp_path: Path, model: Path
) -> None:
    con = duckdb.connect(str(tmp_path / "cdp.duckdb"))
    rows = crowd(300, seed=5)
    run(con, model, [*rows, JAN, JAN_LOYALTY, CONTACT])
    jan = person_of(con, "ws:9101")
    assert person_of(con, "cs:9102") == jan

    day_two = run(con, model, [*rows, JAN, JAN_LOYALTY, CONTACT, MARIE], run_id="day2")
    assert day_two.link_mode == "incremental" and day_two.kept_persons > 0
    # Jan's person did not change: it keeps the contact and its id; Marie is someone else
    assert person_of(con, "ws:9101") == person_of(con, "cs:9102") == jan
    assert person_of(con, "nl:9103") != jan
    assert con.execute(
        "select count(*) from identity.person_id_history where run_id = 'day2' and kind <> 'new'"
    ).fetchall() == [(0,)]
    # still explainable: the link that holds them together is in person_links
    links = con.execute(
        "select rule from identity.person_links where record_key_l = ? and record_key_r = ?",
        [CONTACT["record_key"], JAN["record_key"]],
    ).fetchall()
    assert links == [("same_email",)]

    # the full re-link weighs the new evidence: the contact can no longer be placed
    full = run(
        con, model, [*rows, JAN, JAN_LOYALTY, CONTACT, MARIE], full_relink=True, run_id="full"
    )
    assert full.link_mode == "full"
    assert person_of(con, "ws:9101") == jan and person_of(con, "cs:9102") != jan
    assert con.execute(
        "select kind, old_person_id from identity.person_id_history where run_id = 'full'"
    ).fetchall() == [("split", jan)]
    con.close()


def test_a_changed_record_releases_its_person(tmp_path: Path, model: Path) -> None:
    con = duckdb.connect(str(tmp_path / "cdp.duckdb"))
    rows = crowd(300, seed=5)
    run(con, model, [*rows, JAN, JAN_LOYALTY, CONTACT])
    jan = person_of(con, "ws:9101")
    moved = dict(CONTACT, phone="+31612345678")  # the contact itself changed
    stats = run(con, model, [*rows, JAN, JAN_LOYALTY, moved, MARIE])
    assert stats.link_mode == "incremental"
    # Jan's person had a changed record: judged like a full re-link would
    assert person_of(con, "ws:9101") == jan and person_of(con, "cs:9102") != jan
    con.close()


def test_pins_unite_a_person_before_the_guard() -> None:
    nodes = [("jan1", "jan", NONE), ("contact", None, NONE), ("marie1", "marie", NONE)]
    edges = [
        ("contact", "jan1", "same_email", None),
        ("contact", "marie1", "same_email", None),
    ]
    unpinned, refused = constrained_clusters(nodes, edges, INCOMPATIBLE)
    assert frozenset({"contact"}) in groups(unpinned)
    assert {reason for _, reason in refused} == {REASON_AMBIGUOUS}
    pinned, _ = constrained_clusters(
        nodes, edges, INCOMPATIBLE, pins={"jan1": "P1", "contact": "P1"}
    )
    assert groups(pinned) == {frozenset({"jan1", "contact"}), frozenset({"marie1"})}


def test_edges_between_two_kept_persons_are_set_aside() -> None:
    con = duckdb.connect()
    con.execute(
        "create table kept as select * from (values ('a1', 'P1'), ('a2', 'P1'), ('b1', 'P2')) "
        "t(record_key, person_id)"
    )
    con.execute(
        "create table edges as select * from (values "
        "('a1', 'a2', 'splink'), ('a1', 'b1', 'splink'), ('a2', 'b1', 'always_match'), "
        "('a1', 'n1', 'same_email'), ('b1', 'n1', 'splink')) t(record_key_l, record_key_r, rule)"
    )
    assert drop_edges_between_kept(con, "edges", "kept", "used", "apart") == 1
    assert con.execute("select * from apart").fetchall() == [
        ("a1", "b1", "splink", REASON_KEPT_APART)
    ]
    # a new record (n1) may still bridge them, and always-match pairs still apply
    assert con.execute("select count(*) from used").fetchall() == [(4,)]


def test_a_pinned_weak_record_counts_as_part_of_its_person() -> None:
    nodes = [
        ("jan1", "jan", NONE),
        ("contact", None, NONE),
        ("marie1", "marie", NONE),
        ("newsletter", None, NONE),
    ]
    edges = [
        ("contact", "jan1", "same_email", None),
        ("contact", "marie1", "same_phone", None),
        ("newsletter", "jan1", "same_email", None),
    ]
    labels, _ = constrained_clusters(
        nodes, edges, INCOMPATIBLE, pins={"contact": "P1", "jan1": "P1"}
    )
    assert groups(labels) == {
        frozenset({"jan1", "contact", "newsletter"}),
        frozenset({"marie1"}),
    }
