"""`cdp explain`: why two records are (not) one person, and what holds a person together."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from dagster_project.cli import main
from dagster_project.identity import explain, explain_report, training
from dagster_project.identity.resolve import resolve_identities
from dagster_project.identity.settings import IdentitySettings

from .helpers import crowd, rec, write_records

SETTINGS = IdentitySettings(u_max_pairs=2e5, em_max_pairs=None)
FAMILY_MAIL = "fam.bakker@example.org"


def cases() -> list[dict[str, Any]]:
    """A family mailbox shared by two different people, and a stranger."""
    return [
        rec("ws:F1", fn="anna", ln="bakker", dob="1970-02-03", email=FAMILY_MAIL),
        rec("nl:F2", fn="peter", ln="bakker", dob="1968-11-30", email=FAMILY_MAIL),
        rec("cs:S1", fn="zoltan", ln="quaak", phone="+31687654321"),
    ]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A warehouse linked with a trained model version (one run)."""
    root = tmp_path_factory.mktemp("explain")
    warehouse, model_dir = root / "cdp.duckdb", root / "models"
    con = duckdb.connect(str(warehouse))
    write_records(con, crowd(300) + cases())
    result = training.train_model(con, model_dir, SETTINGS)
    assert result is not None
    resolve_identities(con, result.version.path, SETTINGS)
    links = con.execute(
        "select rule, record_key_l, record_key_r from identity.person_links order by 2, 3"
    ).fetchall()
    emails = dict(
        con.execute(
            "select record_key, email from identity.int_person_records_unioned "
            "where email is not null"
        ).fetchall()
    )
    con.close()
    return {
        "warehouse": warehouse,
        "model_dir": model_dir,
        "model": result.version.path,
        "links": links,
        "emails": emails,
    }


@pytest.fixture
def ctx(built: dict[str, Any]) -> Iterator[explain.ExplainContext]:
    with (
        explain.open_warehouse(built["warehouse"]) as con,
        explain.explain_context(con, "wh", built["model"], SETTINGS) as context,
    ):
        yield context


def first_link(built: dict[str, Any], rule: str) -> tuple[str, str]:
    return next((left, right) for r, left, right in built["links"] if r == rule)


def test_deterministic_pair_names_the_shared_identifier_masked(built, ctx):
    left, right = first_link(built, "same_email")
    pair = explain.explain_pair(ctx, left, right)
    assert pair.same_person and [e.rule for e in pair.path] == ["same_email"]
    rules = dict(pair.shared)
    raw = built["emails"][left]
    assert "same_email" in rules and rules["same_email"] == raw[0] + "***@" + raw.split("@")[1]
    text = explain_report.format_pair(pair)
    assert "SAME PERSON" in text and raw not in text


def test_splink_pair_shows_a_waterfall_that_adds_up(built, ctx):
    left, right = first_link(built, "splink")
    pair = explain.explain_pair(ctx, left, right)
    assert pair.same_person and pair.path[0].rule == "splink"
    score = pair.score
    assert score is not None and score.match_probability >= SETTINGS.match_threshold
    bars = {row.comparison: row for row in score.rows}
    assert {"Prior", "first_name", "Final score"} <= set(bars)
    partial = sum(r.weight for r in score.rows if r.comparison != "Final score")
    assert partial == pytest.approx(score.match_weight, abs=1e-6)
    # the stored edge and the re-scored pair agree
    assert pair.path[0].match_weight == pytest.approx(score.match_weight, abs=1e-6)
    assert "waterfall" in explain_report.format_pair(pair)


def test_unlinked_pair_is_two_persons_scored_below_the_threshold(ctx):
    left, right = rec("ws:W1")["record_key"], rec("cs:S1")["record_key"]
    pair = explain.explain_pair(ctx, left, right)
    assert not pair.same_person and not pair.path
    assert pair.score is not None and pair.score.match_probability < SETTINGS.match_threshold
    assert "DIFFERENT PERSONS" in explain_report.format_pair(pair)


def test_refused_family_mailbox_is_listed_with_its_reason(ctx):
    left, right = rec("ws:F1")["record_key"], rec("nl:F2")["record_key"]
    pair = explain.explain_pair(ctx, left, right)
    assert not pair.same_person
    assert pair.blocked and all(e.reason for e in pair.blocked)
    text = explain_report.format_pair(pair)
    assert "refused links" in text and FAMILY_MAIL not in text


def test_person_lists_records_links_and_refusals(built, ctx):
    left, right = first_link(built, "splink")
    person_id = explain.explain_pair(ctx, left, right).left.person_id
    person = explain.explain_person(ctx, person_id, score=True)
    keys = {r.record_key for r in person.records}
    assert {left, right} <= keys
    assert all(e.record_key_l in keys and e.record_key_r in keys for e in person.edges)
    assert person.scores, "the person's Splink links are scored"
    family = explain.explain_person(ctx, explain.explain_pair(ctx, left, right).left.person_id)
    assert family.person_id == person_id
    mailbox = explain.load_records(ctx, [rec("ws:F1")["record_key"]])
    blocked = explain.explain_person(ctx, next(iter(mailbox.values())).person_id)
    assert blocked.blocked and set(blocked.blocked_other_person)
    assert "refused links touching" in explain_report.format_person(blocked)


def test_unmasked_shows_contact_data(built):
    left, right = first_link(built, "same_email")
    with (
        explain.open_warehouse(built["warehouse"]) as con,
        explain.explain_context(con, "wh", built["model"], SETTINGS, masked=False) as ctx,
    ):
        text = explain_report.format_pair(explain.explain_pair(ctx, left, right))
    assert built["emails"][left] in text


def test_unknown_record_and_person_are_clear_errors(ctx):
    with pytest.raises(explain.ExplainError, match="unknown record webshop__customers:NOPE"):
        explain.explain_pair(ctx, "webshop__customers:NOPE", rec("ws:W1")["record_key"])
    with pytest.raises(explain.ExplainError, match="unknown person_id"):
        explain.explain_person(ctx, "P-does-not-exist")


def test_waterfall_html_is_a_chart_file(built, ctx, tmp_path):
    left, right = first_link(built, "splink")
    score = explain.explain_pair(ctx, left, right).score
    html = explain.waterfall_html(ctx, [score], tmp_path / "w.html")
    assert html.stat().st_size > 1000 and "<html" in html.read_text()[:200]


def test_sample_report_explains_splink_linked_persons_masked(built, tmp_path):
    con = duckdb.connect(str(built["warehouse"]))
    report = tmp_path / "sample.md"
    try:
        n = explain_report.write_sample_report(con, built["model"], report, SETTINGS, persons=2)
    finally:
        con.close()
    text = report.read_text()
    assert n == 2 and text.count("person P") == 2
    assert not any(email in text for email in built["emails"].values())
    with duckdb.connect(str(built["warehouse"]), read_only=True) as ro:
        dobs = [
            str(r[0])
            for r in ro.execute(
                "select distinct date_of_birth from identity.int_person_records_unioned "
                "where date_of_birth is not null"
            ).fetchall()
        ]
    assert dobs and not any(dob in text for dob in dobs)  # the report stays on disk: redacted
    assert report.with_suffix(".html").is_file()


def test_link_path_follows_a_chain():
    edges = [explain.Edge("a", "b", "same_email"), explain.Edge("b", "c", "splink", 0.95, 4.3)]
    assert [e.rule for e in explain.link_path(edges, "a", "c")] == ["same_email", "splink"]
    assert explain.link_path(edges, "a", "z") == []


def test_cli_explain_exit_codes(built, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(built["warehouse"]))
    monkeypatch.setenv("CDP_MODEL_DIR", str(built["model_dir"]))
    left, right = first_link(built, "splink")
    html = tmp_path / "pair.html"
    assert main(["explain", "--records", left, right, "--html", str(html)]) == 0
    out = capsys.readouterr().out
    assert "SAME PERSON" in out and html.is_file()
    assert main(["explain", "--records", left, "webshop__customers:NOPE"]) == 2
    err = capsys.readouterr().err
    assert "unknown record webshop__customers:NOPE" in err and "webshop__customers" in err
    assert main(["explain", "--person", "P-none"]) == 2
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(tmp_path / "missing.duckdb"))
    assert main(["explain", "--person", "P-none"]) == 2
    assert "no warehouse" in capsys.readouterr().err


def test_without_kept_matching_records_the_input_is_prepared_again(built, tmp_path):
    import shutil

    copy = tmp_path / "old.duckdb"
    shutil.copyfile(built["warehouse"], copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("drop table if exists identity.match_records")
    left, right = first_link(built, "splink")
    scores = []
    for path in (built["warehouse"], copy):
        with (
            explain.open_warehouse(path) as con,
            explain.explain_context(con, "wh", built["model"], SETTINGS) as ctx,
        ):
            scores.append(explain.explain_pair(ctx, left, right).score.match_weight)
    assert scores[0] == pytest.approx(scores[1], abs=1e-9)
