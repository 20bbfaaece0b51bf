"""Incremental daily linking: only new/changed records are scored, the result equals a full re-link."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dagster_project.identity.incremental import state_threshold
from dagster_project.identity.resolve import IdentityStats, resolve_identities
from dagster_project.identity.rules import parse_rules
from dagster_project.identity.settings import IdentitySettings
from dagster_project.sources.demo_increment import kept_id_share

from .helpers import crowd, rec, write_records

PEOPLE = 400
PERSON_RECORDS = (
    "select record_key, person_id from identity.person_map where source <> 'web_analytics__cookies'"
)


def all_rows() -> list[dict[str, Any]]:
    return crowd(PEOPLE, seed=11)


def day_one(rows: list[dict[str, Any]], every: int = 25) -> list[dict[str, Any]]:
    """All rows but every `every`-th: the held-back rows arrive on day two."""
    return [r for i, r in enumerate(rows) if i % every != 3]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("inc_model") / "splink_model.json"
    con = duckdb.connect()
    write_records(con, all_rows())
    resolve_identities(con, path, IdentitySettings(u_max_pairs=2e5, em_max_pairs=None))
    con.close()
    return path


@pytest.fixture
def settings() -> IdentitySettings:
    return IdentitySettings(u_max_pairs=2e5, em_max_pairs=None)


def run(
    con: duckdb.DuckDBPyConnection,
    model: Path,
    settings: IdentitySettings,
    rows: list[dict[str, Any]],
    **kwargs: Any,
) -> IdentityStats:
    write_records(con, rows)
    return resolve_identities(con, model, settings, **kwargs)


def same_person_pairs(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    return set(
        con.execute("""
            select a.record_key, b.record_key from identity.person_map a
            join identity.person_map b on a.person_id = b.person_id and a.record_key < b.record_key
        """).fetchall()
    )


def links(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str, str]]:
    return set(
        con.execute("select record_key_l, record_key_r, rule from identity.person_links").fetchall()
    )


def scored(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], float]:
    return {
        (l_key, r_key): p
        for l_key, r_key, p in con.execute(
            "select record_key_l, record_key_r, match_probability from identity.scored_pairs"
        ).fetchall()
    }


def test_incremental_day_equals_a_full_relink(
    tmp_path: Path, model: Path, settings: IdentitySettings
) -> None:
    rows = all_rows()
    inc = duckdb.connect(str(tmp_path / "inc.duckdb"))
    first = run(inc, model, settings, day_one(rows))
    assert first.link_mode == "full" and first.link_mode_reason == "no previous state"
    inc.execute(f"create table before as {PERSON_RECORDS}")
    day_one_scores = scored(inc)
    second = run(inc, model, settings, rows)
    assert second.link_mode == "incremental", second.link_mode_reason
    assert second.new_records == len(rows) - len(day_one(rows)) > 0
    assert second.changed_records == 0 and second.deleted_records == 0
    assert second.kept_pairs > 0 and second.rescored_pairs > 0
    # every person whose records did not change keeps the id
    inc.execute(f"create table after as {PERSON_RECORDS}")
    unchanged, kept = kept_id_share(inc, "before", "after")
    assert unchanged > 0.8 * first.persons
    assert kept == unchanged

    full = duckdb.connect(str(tmp_path / "full.duckdb"))
    relinked = run(full, model, settings, rows, full_relink=True)
    assert relinked.link_mode == "full"
    # Pairs with a new record are scored exactly as a full re-link scores them.
    new_keys = {r["record_key"] for r in rows} - {r["record_key"] for r in day_one(rows)}
    inc_scored, full_scored = scored(inc), scored(full)
    fresh = {k for k in full_scored if new_keys & set(k)}
    assert {k for k in inc_scored if new_keys & set(k)} == fresh
    assert max(abs(inc_scored[k] - full_scored[k]) for k in fresh) < 1e-9
    # Pairs between records of persons that did not change keep their stored score: the
    # term-frequency drift the new records cause is applied by the next full re-link.
    carried = inc_scored.keys() - fresh
    assert carried == day_one_scores.keys()
    assert all(inc_scored[k] == day_one_scores[k] for k in carried)
    assert max(abs(inc_scored[k] - full_scored.get(k, 0.0)) for k in carried) < 0.1
    # Same people; links differ at most where drift moved a carried pair across the threshold.
    assert same_person_pairs(inc) == same_person_pairs(full)
    differ = links(inc) ^ links(full)
    assert all(rule == "splink" for *_, rule in differ)
    assert {(left, right) for left, right, _ in differ} <= carried
    inc.close()
    full.close()


def test_deleted_records_disappear(tmp_path: Path, model: Path, settings: IdentitySettings) -> None:
    con = duckdb.connect(str(tmp_path / "cdp.duckdb"))
    rows = all_rows()
    run(con, model, settings, rows)
    # delete records that are linked by Splink, so their pairs are in the state
    linked = {
        k
        for pair in con.execute(
            "select record_key_l, record_key_r from identity.scored_pairs limit 5"
        ).fetchall()
        for k in pair
    }
    assert linked
    stats = run(con, model, settings, [r for r in rows if r["record_key"] not in linked])
    assert stats.link_mode == "incremental"
    assert stats.deleted_records == len(linked) and stats.new_records == 0
    keys = {r[0] for r in con.execute("select record_key from identity.person_map").fetchall()}
    assert not keys & linked
    pairs = con.execute("select record_key_l, record_key_r from identity.scored_pairs").fetchall()
    assert not {k for pair in pairs for k in pair} & linked
    state = {r[0] for r in con.execute("select record_key from identity.match_records").fetchall()}
    assert state == keys - {k for k in keys if k.startswith("web_analytics")}
    con.close()


def test_changed_record_is_rescored(
    tmp_path: Path, model: Path, settings: IdentitySettings
) -> None:
    con = duckdb.connect(str(tmp_path / "cdp.duckdb"))
    rows = all_rows()
    run(con, model, settings, rows)
    l_key, r_key = con.execute(
        "select record_key_l, record_key_r from identity.scored_pairs "
        "order by match_probability, record_key_l limit 1"
    ).fetchall()[0]
    # the right-hand record becomes somebody else entirely: its old pair must go
    changed = [dict(r) for r in rows]
    for r in changed:
        if r["record_key"] == r_key:
            r.update(
                first_name="zygmunt",
                first_name_key="zygmunt",
                first_name_canonical="zygmunt",
                last_name_key="qwertyuiop",
                email="zq@example.net",
                phone=None,
                date_of_birth=None,
                street=None,
                house_number=None,
                postcode=None,
                city=None,
            )
    stats = run(con, model, settings, changed)
    assert stats.link_mode == "incremental" and stats.changed_records == 1
    pairs = set(
        con.execute("select record_key_l, record_key_r from identity.scored_pairs").fetchall()
    )
    assert (l_key, r_key) not in pairs
    pid = dict(con.execute("select record_key, person_id from identity.person_map").fetchall())
    assert pid[l_key] != pid[r_key]
    # and when it changes back, the pair is scored again
    stats = run(con, model, settings, rows)
    assert stats.link_mode == "incremental" and stats.changed_records == 1
    assert (l_key, r_key) in set(
        con.execute("select record_key_l, record_key_r from identity.scored_pairs").fetchall()
    )
    con.close()


def test_missing_state_means_full(tmp_path: Path, model: Path, settings: IdentitySettings) -> None:
    con = duckdb.connect(str(tmp_path / "cdp.duckdb"))
    rows = all_rows()
    run(con, model, settings, day_one(rows))
    con.execute("drop table identity.scored_pairs")
    stats = run(con, model, settings, rows)
    assert stats.link_mode == "full" and stats.comparisons > 0
    assert con.execute("select count(*) from identity.scored_pairs").fetchall()[0][0] > 0
    con.close()


def test_above_the_share_or_asked_means_full(
    tmp_path: Path, model: Path, settings: IdentitySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    con = duckdb.connect(str(tmp_path / "cdp.duckdb"))
    rows = all_rows()
    run(con, model, settings, day_one(rows))
    strict = dataclasses.replace(settings, incremental_max_share=0.01)
    stats = run(con, model, strict, rows)  # about 4% new records
    assert stats.link_mode == "full" and "above" in stats.link_mode_reason
    monkeypatch.setenv("CDP_FULL_RELINK", "1")
    stats = run(con, model, settings, rows)
    assert stats.link_mode == "full" and "requested" in stats.link_mode_reason
    monkeypatch.delenv("CDP_FULL_RELINK")
    assert run(con, model, settings, rows).link_mode == "incremental"
    con.close()


def test_another_model_means_full(tmp_path: Path, model: Path, settings: IdentitySettings) -> None:
    con = duckdb.connect(str(tmp_path / "cdp.duckdb"))
    rows = all_rows()
    run(con, model, settings, rows)
    other = tmp_path / "other_model.json"
    other.write_text(model.read_text() + "\n")  # a new version, even if equal in content
    stats = run(con, other, settings, rows)
    assert stats.link_mode == "full" and "model" in stats.link_mode_reason
    con.close()


def test_state_keeps_a_margin_below_the_threshold() -> None:
    assert 0.69 < state_threshold(0.9) < 0.7  # 2 bits of match weight below 0.9
    assert state_threshold(0.5) == pytest.approx(0.2)
    assert state_threshold(0.99) < 0.99


# ---------------------------------------------------------------- carried-over clusters

# Two persons of the demo crowd's size that nothing links on day one: Jan Smit by e-mail,
# Jan Bakker by mobile number (different surnames, no shared identifier).
PERSON_A = [
    rec("ws:9001", fn="jan", ln="smit", email="jan.smit@example.org"),
    rec("nl:9002", fn="jan", ln="smit", email="jan.smit@example.org"),
]
PERSON_B = [
    rec("lo:9003", fn="jan", ln="bakker", phone="+31687654321"),
    rec("cs:9004", fn="jan", ln="bakker", phone="+31687654321"),
]
# shares the e-mail of A and the mobile of B: one person after all
BRIDGE = rec("cs:9005", fn="jan", ln="smit", email="jan.smit@example.org", phone="+31687654321")
# joins A only
JOINER = rec("lo:9006", fn="jan", ln="smit", email="jan.smit@example.org")


def person_of(con: duckdb.DuckDBPyConnection, short: str) -> str:
    key = rec(short)["record_key"]
    return con.execute(
        "select person_id from identity.person_map where record_key = ?", [key]
    ).fetchall()[0][0]


def full_relink_agrees(
    tmp_path: Path,
    inc: duckdb.DuckDBPyConnection,
    model: Path,
    settings: IdentitySettings,
    rows: list[dict[str, Any]],
    **kwargs: Any,
) -> None:
    full = duckdb.connect(str(tmp_path / "full.duckdb"))
    run(full, model, settings, rows, full_relink=True, **kwargs)
    assert same_person_pairs(inc) == same_person_pairs(full)
    assert links(inc) == links(full)
    full.close()


def test_new_record_joins_an_existing_person(
    tmp_path: Path, model: Path, settings: IdentitySettings
) -> None:
    con = duckdb.connect(str(tmp_path / "inc.duckdb"))
    rows = all_rows() + PERSON_A + PERSON_B
    run(con, model, settings, rows)
    before = dict(con.execute(PERSON_RECORDS).fetchall())
    stats = run(con, model, settings, [*rows, JOINER])
    assert stats.link_mode == "incremental" and stats.new_records == 1
    after = dict(con.execute(PERSON_RECORDS).fetchall())
    assert (
        after[JOINER["record_key"]]
        == person_of(con, "ws:9001")
        == before[rec("ws:9001")["record_key"]]
    )
    assert all(after[k] == v for k, v in before.items())  # every person kept its id
    assert stats.id_history == {}  # joining an existing person is no id change
    full_relink_agrees(tmp_path, con, model, settings, [*rows, JOINER])
    con.close()


def test_new_record_bridging_two_persons_merges_them(
    tmp_path: Path, model: Path, settings: IdentitySettings
) -> None:
    con = duckdb.connect(str(tmp_path / "inc.duckdb"))
    rows = all_rows() + PERSON_A + PERSON_B
    run(con, model, settings, rows)
    a, b = person_of(con, "ws:9001"), person_of(con, "lo:9003")
    assert a != b
    stats = run(con, model, settings, [*rows, BRIDGE], run_id="day2")
    assert stats.link_mode == "incremental"
    merged = person_of(con, "ws:9001")
    assert merged in {a, b} and person_of(con, "lo:9003") == person_of(con, "cs:9005") == merged
    history = con.execute(
        "select kind, old_person_id, new_person_id from identity.person_id_history "
        "where run_id = 'day2'"
    ).fetchall()
    assert history == [("merge", ({a, b} - {merged}).pop(), merged)]
    full_relink_agrees(tmp_path, con, model, settings, [*rows, BRIDGE])
    con.close()


def test_never_match_holds_on_an_incremental_day(
    tmp_path: Path, model: Path, settings: IdentitySettings
) -> None:
    con = duckdb.connect(str(tmp_path / "inc.duckdb"))
    rows = all_rows() + PERSON_A + PERSON_B
    run(con, model, settings, rows)
    rules = parse_rules(
        {"never_match": [[rec("ws:9001")["record_key"], rec("lo:9003")["record_key"]]]}
    )
    stats = run(con, model, settings, [*rows, BRIDGE], rules=rules)
    assert stats.link_mode == "incremental"
    assert person_of(con, "ws:9001") != person_of(con, "lo:9003")
    full_relink_agrees(tmp_path, con, model, settings, [*rows, BRIDGE], rules=rules)
    # the day after, with nothing new, the rule still holds on carried-over clusters
    stats = run(con, model, settings, [*rows, BRIDGE], rules=rules)
    assert stats.link_mode == "incremental"
    assert person_of(con, "ws:9001") != person_of(con, "lo:9003")
    con.close()


def test_carried_over_components_equal_a_full_relink_after_deletes_and_changes(
    tmp_path: Path, model: Path, settings: IdentitySettings
) -> None:
    con = duckdb.connect(str(tmp_path / "inc.duckdb"))
    rows = all_rows() + PERSON_A + PERSON_B
    run(con, model, settings, [*rows, BRIDGE])
    # the bridge goes away again (A and B split) and a record of A changes its e-mail
    changed = [dict(r) for r in rows]
    for r in changed:
        if r["record_key"] == rec("nl:9002")["record_key"]:
            r["email"] = "someone.else@example.org"
    stats = run(con, model, settings, changed)
    assert stats.link_mode == "incremental" and stats.deleted_records == 1
    assert person_of(con, "ws:9001") != person_of(con, "lo:9003")
    full_relink_agrees(tmp_path, con, model, settings, changed)
    con.close()


def test_state_keeps_a_changed_input_that_matches_the_same(
    tmp_path: Path, model: Path, settings: IdentitySettings
) -> None:
    """A new placeholder e-mail changes the input, not what Splink reads: stored once."""
    con = duckdb.connect(str(tmp_path / "cdp.duckdb"))
    rows = [dict(r) for r in all_rows()]
    key = rows[7]["record_key"]
    rows[7]["email"] = "test@test.com"  # junk: nulled before matching
    run(con, model, settings, rows)
    rows[7]["email"] = "a@a.nl"  # another placeholder: the same prepared record
    stats = run(con, model, settings, rows)
    assert stats.link_mode == "incremental" and stats.changed_records == 0
    persons = con.execute(f"select count(distinct person_id) from ({PERSON_RECORDS})").fetchall()
    assert stats.kept_persons == persons[0][0] - 1  # the person of the changed input
    # the state holds today's input: an identical next day has no changed input at all
    stats = run(con, model, settings, rows)
    assert stats.kept_persons == persons[0][0]
    stored = con.execute(
        "select count(*) from identity.match_records where record_key = ?", [key]
    ).fetchall()
    assert stored == [(1,)]
    con.close()


def test_a_record_missing_from_the_stored_components_is_clustered_again(
    tmp_path: Path, model: Path, settings: IdentitySettings
) -> None:
    con = duckdb.connect(str(tmp_path / "inc.duckdb"))
    rows = all_rows() + PERSON_A + PERSON_B
    run(con, model, settings, rows)
    lost = rows[5]["record_key"]  # a person far from the new record
    con.execute("delete from identity.match_components where record_key = ?", [lost])
    stats = run(con, model, settings, [*rows, JOINER])
    assert stats.link_mode == "incremental" and stats.new_records == 1
    mapped = dict(con.execute(PERSON_RECORDS).fetchall())
    assert lost in mapped and len(mapped) == len(rows) + 1
    # the clustering state was rebuilt whole: one component row per record again
    assert con.execute(
        "select count(*) from identity.match_records anti join identity.match_components "
        "using (record_key)"
    ).fetchall() == [(0,)]
    full_relink_agrees(tmp_path, con, model, settings, [*rows, JOINER])
    con.close()
