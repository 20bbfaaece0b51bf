"""The model lifecycle and `cdp explain` on the end-to-end run (the session `pipeline_run`)."""

from __future__ import annotations

import re

import duckdb
import pytest

from dagster_project.cli import main
from dagster_project.identity import training

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]

EMAIL = re.compile(r"[a-z0-9._%+-]{2,}@[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)


def test_two_daily_runs_train_one_version_and_reuse_it(pipeline_run):
    model_dir = pipeline_run["paths"].model_dir
    versions = training.list_versions(model_dir)
    assert len(versions) == 1, "the second daily run must reuse the model of the first"
    current = training.current_version(model_dir)
    assert current is not None and current.version == versions[0]
    assert all(p.is_file() and p.stat().st_size > 0 for p in current.charts.values())
    assert len(current.charts) == 4


def test_every_run_writes_a_masked_explain_sample(pipeline_run):
    report = pipeline_run["paths"].data_dir / "reports" / "identity_explain_sample.md"
    text = report.read_text()
    assert text.count("person P") >= 1 and "splink" in text
    assert not EMAIL.search(text), "e-mail addresses must be masked in the sample"


def test_cli_explains_a_demo_person_and_a_splink_pair(pipeline_run, monkeypatch, capsys):
    paths = pipeline_run["paths"]
    monkeypatch.setenv("CDP_DATA_DIR", str(paths.data_dir))
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        person_id, left, right = con.execute(
            "select m.person_id, l.record_key_l, l.record_key_r from identity.person_links l "
            "join identity.person_map m on m.record_key = l.record_key_l "
            "where l.rule = 'splink' order by 2, 3 limit 1"
        ).fetchone()
    assert main(["explain", "--person", person_id]) == 0
    out = capsys.readouterr().out
    assert f"person {person_id}" in out and left in out and right in out
    assert main(["explain", "--records", left, right]) == 0
    out = capsys.readouterr().out
    assert "SAME PERSON" in out and "Final score" in out and not EMAIL.search(out)
