"""Persistent person ids through merges and splits, and identity.person_id_history."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from dagster_project.identity.person_ids import person_id_changes_df
from dagster_project.identity.resolve import resolve_identities
from dagster_project.identity.rules import IdentityRules, default_rules, parse_rules
from dagster_project.identity.settings import IdentitySettings

from .helpers import rec, write_records


def _clusters(groups: dict[str, list[str]]) -> pd.DataFrame:
    rows = [(key, cid) for cid, keys in groups.items() for key in keys]
    return pd.DataFrame(rows, columns=["record_key", "cluster_id"])


def _previous(ids: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"record_key": list(ids), "person_id": list(ids.values())})


def _seen(ages: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"person_id": list(ages), "first_seen": [datetime.fromisoformat(v) for v in ages.values()]}
    )


def _changes(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    return [
        (r.kind, r.old_person_id, r.new_person_id, sorted(r.record_keys))
        for r in frame.itertuples()
    ]


# ---------------------------------------------------------------- assignment rules


def test_first_run_lists_every_person_as_new() -> None:
    ids, changes = person_id_changes_df(_clusters({"1": ["a", "b"], "2": ["c"]}))
    new_id = dict(zip(ids["record_key"], ids["person_id"], strict=True))
    assert sorted(_changes(changes)) == [
        ("new", None, new_id["a"], ["a", "b"]),
        ("new", None, new_id["c"], ["c"]),
    ]


def test_identical_input_changes_nothing() -> None:
    previous = _previous({"a": "P1", "b": "P1", "c": "P2"})
    ids, changes = person_id_changes_df(
        _clusters({"x": ["a", "b"], "y": ["c"]}), previous, _seen({"P1": "2026-01-01"})
    )
    assert list(ids["person_id"]) == ["P1", "P1", "P2"]
    assert changes.empty


def test_new_record_joining_takes_the_id_without_a_history_row() -> None:
    ids, changes = person_id_changes_df(
        _clusters({"x": ["a", "b", "new"]}), _previous({"a": "P1", "b": "P1"})
    )
    assert set(ids["person_id"]) == {"P1"}
    assert changes.empty


def test_merge_keeps_the_older_id_even_when_it_has_fewer_records() -> None:
    previous = _previous({"a": "P_YOUNG", "b": "P_YOUNG", "c": "P_YOUNG", "d": "P_OLD"})
    seen = _seen({"P_OLD": "2026-01-01", "P_YOUNG": "2026-06-01"})
    ids, changes = person_id_changes_df(_clusters({"1": ["a", "b", "c", "d"]}), previous, seen)
    assert set(ids["person_id"]) == {"P_OLD"}
    assert _changes(changes) == [("merge", "P_YOUNG", "P_OLD", ["a", "b", "c"])]
    # without history the larger person survives (the rule before history existed)
    ids, _ = person_id_changes_df(_clusters({"1": ["a", "b", "c", "d"]}), previous)
    assert set(ids["person_id"]) == {"P_YOUNG"}


def test_ids_older_than_the_history_count_as_oldest() -> None:
    previous = _previous({"a": "P_LEGACY", "b": "P_NEW", "c": "P_NEW"})
    ids, changes = person_id_changes_df(
        _clusters({"1": ["a", "b", "c"]}), previous, _seen({"P_NEW": "2026-06-01"})
    )
    assert set(ids["person_id"]) == {"P_LEGACY"}
    assert _changes(changes) == [("merge", "P_NEW", "P_LEGACY", ["b", "c"])]


def test_split_keeps_the_id_on_the_largest_part_and_records_the_rest() -> None:
    previous = _previous({k: "P1" for k in "abcde"})
    ids, changes = person_id_changes_df(
        _clusters({"1": ["a", "b"], "2": ["c", "d", "e"]}), previous
    )
    got = dict(zip(ids["record_key"], ids["person_id"], strict=True))
    assert got["c"] == got["d"] == got["e"] == "P1"
    assert got["a"] == got["b"] != "P1"
    assert _changes(changes) == [("split", "P1", got["a"], ["a", "b"])]


# ---------------------------------------------------------------- end to end, over runs

SETTINGS = IdentitySettings()  # no model file, under 100 records: deterministic links only


def _run(
    con: duckdb.DuckDBPyConnection,
    tmp: Path,
    rows: list[dict[str, Any]],
    run: str,
    rules: IdentityRules | None = None,
) -> tuple[dict[str, str], list[tuple[Any, ...]]]:
    write_records(con, rows)
    resolve_identities(
        con, tmp / "no_model.json", SETTINGS, rules=rules or default_rules(), run_id=run
    )
    ids = dict(con.execute("select record_key, person_id from identity.person_map").fetchall())
    history = con.execute(
        "select kind, old_person_id, new_person_id, n_records, record_keys "
        "from identity.person_id_history where run_id = ? order by kind, new_person_id",
        [run],
    ).fetchall()
    return ids, history


def key(short: str) -> str:
    return rec(short)["record_key"]


def test_history_over_runs_new_merge_rerun_and_split(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "cdp.duckdb"))
    person_a = [rec("ws:1", fn="emma", email="a@x.nl"), rec("nl:1", fn="emma", email="a@x.nl")]
    person_b = [
        rec("ws:2", fn="emma", email="b@x.nl", phone="+31655500002"),
        rec("nl:2", fn="emma", email="b@x.nl"),
        rec("lo:2", fn="emma", phone="+31655500002"),
    ]
    ids1, hist1 = _run(con, tmp_path, person_a, "run1")
    id_a = ids1[key("ws:1")]
    assert hist1 == [("new", None, id_a, 2, sorted([key("ws:1"), key("nl:1")]))]

    ids2, hist2 = _run(con, tmp_path, person_a + person_b, "run2")
    id_b = ids2[key("ws:2")]
    assert ids2[key("ws:1")] == id_a and id_b != id_a
    assert [h[0] for h in hist2] == ["new"]

    # a service contact with A's e-mail and B's phone: A (older, smaller) absorbs B
    bridge = [rec("cs:3", fn="emma", email="a@x.nl", phone="+31655500002")]
    ids3, hist3 = _run(con, tmp_path, person_a + person_b + bridge, "run3")
    assert set(ids3.values()) == {id_a}
    assert hist3 == [("merge", id_b, id_a, 3, sorted(key(k) for k in ("ws:2", "nl:2", "lo:2")))]

    ids4, hist4 = _run(con, tmp_path, person_a + person_b + bridge, "run4")
    assert ids4 == ids3 and hist4 == []

    # a privacy officer rules that ws:1 and ws:2 are two people: the larger part keeps A
    rules = parse_rules({"never_match": [[key("ws:1"), key("ws:2")]]})
    ids5, hist5 = _run(con, tmp_path, person_a + person_b + bridge, "run5", rules)
    assert ids5[key("ws:1")] != ids5[key("ws:2")]
    parts: dict[str, list[str]] = {}
    for record, pid in ids5.items():
        parts.setdefault(pid, []).append(record)
    largest = max(parts, key=lambda p: len(parts[p]))
    assert largest == id_a
    (other,) = set(parts) - {id_a}
    assert hist5 == [("split", id_a, other, len(parts[other]), sorted(parts[other]))]
    assert (
        con.execute("select count(distinct run_id) from identity.person_id_history").fetchall()[0][
            0
        ]
        == 4
    )  # run4 appended nothing


def test_a_stray_record_does_not_make_a_person_lose_its_id() -> None:
    # P_OLD had two records; one now joins P_BIG's unchanged records: an even split of
    # P_OLD must leave it with the record it is all of, not take P_BIG's place
    previous = _previous({"a": "P_BIG", "b": "P_BIG", "c": "P_BIG", "x": "P_OLD", "y": "P_OLD"})
    seen = _seen({"P_OLD": "2026-01-01", "P_BIG": "2026-06-01"})
    ids, changes = person_id_changes_df(
        _clusters({"1": ["a", "b", "c", "x"], "2": ["y"]}), previous, seen
    )
    got = dict(zip(ids["record_key"], ids["person_id"], strict=True))
    assert got["a"] == got["x"] == "P_BIG" and got["y"] == "P_OLD"
    assert _changes(changes) == [("split", "P_OLD", "P_BIG", ["x"])]
