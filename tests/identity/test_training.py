"""Model lifecycle: versioned training with charts, the current pointer, reuse and retraining."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from dagster_project.identity import training
from dagster_project.identity.settings import IdentitySettings

from .helpers import crowd, write_records

SETTINGS = IdentitySettings(u_max_pairs=2e5, em_max_pairs=None)
MONDAY = datetime(2026, 11, 30, 6, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One training run on a small crowd (reused by the tests that only read its output)."""
    root = tmp_path_factory.mktemp("training")
    con = duckdb.connect(str(root / "cdp.duckdb"))
    write_records(con, crowd(300))
    result = training.train_model(con, root / "models", SETTINGS, now=MONDAY)
    con.close()
    assert result is not None
    return {"root": root, "model_dir": root / "models", "result": result}


def test_training_writes_a_versioned_model_and_points_at_it(trained):
    model_dir, result = trained["model_dir"], trained["result"]
    version = result.version
    assert version.version == "20261130T060000Z"
    assert version.path == model_dir / "splink_model_20261130T060000Z.json"
    model = json.loads(version.path.read_text())
    assert model["probability_two_random_records_match"] == pytest.approx(version.prior)
    pointer = json.loads((model_dir / training.POINTER).read_text())
    assert pointer["version"] == version.version and pointer["model_file"] == version.path.name
    current = training.current_version(model_dir)
    assert current is not None and current.path == version.path
    assert current.records == version.records and version.records > 300


def test_charts_are_non_empty_html(trained):
    charts = trained["result"].version.charts
    assert set(charts) == {
        "match_weights",
        "m_u_parameters",
        "unlinkables",
        "match_weights_histogram",
    }
    for path in charts.values():
        text = path.read_text()
        assert text.startswith("<!DOCTYPE html>") and "vega" in text and len(text) > 10_000


def test_weights_table_has_the_prior_and_every_comparison(trained):
    result = trained["result"]
    table = training.weights_markdown(result.weights, result.version.prior)
    assert table.splitlines()[2].startswith("| prior |")
    for comparison in result.weights:
        assert f"| {comparison} |" in table
    # different first names count against a match
    assert result.weights["first_name"]["All other comparisons"] < 0


def test_new_version_ids_are_unique_within_a_second(tmp_path):
    first = training.new_version_id(tmp_path, MONDAY)
    training.version_path(tmp_path, first).write_text("{}")
    second = training.new_version_id(tmp_path, MONDAY)
    training.version_path(tmp_path, second).write_text("{}")
    third = training.new_version_id(tmp_path, MONDAY)
    assert (first, second, third) == (
        "20261130T060000Z",
        "20261130T060000Z-2",
        "20261130T060000Z-3",
    )
    assert training.list_versions(tmp_path) == [first, second]


def test_register_keeps_the_last_k_versions(tmp_path):
    for day in range(1, 5):
        version = f"202611{day:02d}T030000Z"
        training.version_path(tmp_path, version).write_text("{}")
        training.charts_dir(tmp_path, version).mkdir()
        removed = training.register_version(
            tmp_path, training.ModelVersion(version, training.version_path(tmp_path, version)), 2
        )
    assert removed == ["20261102T030000Z"]
    assert training.list_versions(tmp_path) == ["20261103T030000Z", "20261104T030000Z"]
    assert not training.charts_dir(tmp_path, "20261101T030000Z").exists()
    assert training.current_version(tmp_path).version == "20261104T030000Z"


def test_current_version_falls_back_to_newest_file_then_legacy(tmp_path, trained):
    assert training.current_version(tmp_path) is None
    legacy = tmp_path / training.LEGACY_MODEL
    legacy.write_text(trained["result"].version.path.read_text())
    assert training.current_version(tmp_path).version == training.LEGACY_VERSION
    assert training.usable_version(tmp_path, SETTINGS).path == legacy
    training.version_path(tmp_path, "20261201T000000Z").write_text("{}")
    (tmp_path / training.POINTER).write_text(
        json.dumps({"version": "x", "model_file": "gone.json"})
    )
    assert training.current_version(tmp_path).version == "20261201T000000Z"


def test_a_model_that_no_longer_matches_the_comparisons_is_not_usable(tmp_path, trained):
    model = json.loads(trained["result"].version.path.read_text())
    model["comparisons"][0]["comparison_levels"][1]["sql_condition"] = "1 = 1"
    (tmp_path / training.LEGACY_MODEL).write_text(json.dumps(model))
    assert training.current_version(tmp_path) is not None
    assert training.usable_version(tmp_path, SETTINGS) is None


def test_keep_versions_from_environment():
    assert training.keep_versions({}) == training.DEFAULT_KEEP_VERSIONS
    assert training.keep_versions({training.KEEP_VERSIONS_ENV: "2"}) == 2
    with pytest.raises(ValueError, match="at least 1"):
        training.keep_versions({training.KEEP_VERSIONS_ENV: "0"})
    with pytest.raises(ValueError, match="not an integer"):
        training.keep_versions({training.KEEP_VERSIONS_ENV: "many"})


def test_too_few_records_train_nothing(tmp_path):
    con = duckdb.connect()
    write_records(con, crowd(10))
    assert training.train_model(con, tmp_path, SETTINGS) is None
    assert training.current_version(tmp_path) is None


# ---------------------------------------------------------------- the Dagster assets


def identity_assets() -> dict[str, dg.AssetsDefinition]:
    from dagster_project.dbt.assets import build_dbt_assets
    from dagster_project.identity.assets import build_identity_assets

    return {a.key.path[-1]: a for a in build_identity_assets(build_dbt_assets())}


def materialize(
    asset: dg.AssetsDefinition, warehouse: Path, **config: Any
) -> dg.ExecuteInProcessResult:
    run_config = {"ops": {asset.op.name: {"config": config}}} if config else None
    return dg.materialize(
        [asset],
        resources={"duckdb": DuckDBResource(database=str(warehouse))},
        run_config=run_config,
    )


def metadata_of(result: dg.ExecuteInProcessResult, key: str | None = None) -> dict[str, Any]:
    events = [
        e.materialization
        for e in result.get_asset_materialization_events()
        if key is None or e.materialization.asset_key.path[-1] == key
    ]
    return events[0].metadata


def test_assets_train_reuse_and_retrain(tmp_path, monkeypatch):
    monkeypatch.setenv("CDP_U_MAX_PAIRS", "200000")
    monkeypatch.setenv("CDP_EM_MAX_PAIRS", "none")
    warehouse = tmp_path / "cdp.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        write_records(con, crowd(150))
    model_dir = tmp_path / "data" / "models"
    assets = identity_assets()

    # first person_map run: no model yet, so it trains one and registers it as a version
    bootstrap = materialize(assets["person_map"], warehouse)
    first = metadata_of(bootstrap, "person_map")
    versions = training.list_versions(model_dir)
    assert len(versions) == 1 and first["model_version"].value == versions[0]
    assert first["model_trained"].value is True
    assert Path(first["chart_match_weights"].value).is_file()
    assert "| prior |" in first["match_weights"].value
    assert Path(first["explain_sample"].value).is_file()
    # ... and records it as a materialisation of the training asset too
    assert metadata_of(bootstrap, "splink_model")["model_version"].value == versions[0]

    # second run reuses it
    second = metadata_of(materialize(assets["person_map"], warehouse), "person_map")
    assert second["model_trained"].value is False
    assert second["model_version"].value == versions[0]
    assert training.list_versions(model_dir) == versions

    # the training asset adds a version and makes it current
    trained = metadata_of(materialize(assets["splink_model"], warehouse))
    assert trained["records"].value == second["records"].value
    assert trained["training_seconds"].value > 0
    assert {f"chart_{n}" for n in ("match_weights", "m_u_parameters", "unlinkables")} <= set(
        trained
    )
    newest = training.list_versions(model_dir)[-1]
    assert trained["model_version"].value == newest != versions[0]
    assert training.current_version(model_dir).version == newest

    # retrain=True (cdp run --retrain) trains before linking
    fourth = metadata_of(materialize(assets["person_map"], warehouse, retrain=True), "person_map")
    assert fourth["model_trained"].value is True
    assert fourth["model_version"].value == training.list_versions(model_dir)[-1] != newest


def test_daily_job_never_trains_and_weekly_job_does():
    from dagster_project.definitions import build_definitions
    from dagster_project.identity.assets import PERSON_MAP, SPLINK_MODEL

    defs = build_definitions()
    daily = defs.resolve_job_def("daily").asset_layer.selected_asset_keys
    weekly = defs.resolve_job_def("weekly_retrain").asset_layer.selected_asset_keys
    assert PERSON_MAP in daily and SPLINK_MODEL not in daily
    assert weekly == {SPLINK_MODEL}
    schedule = defs.resolve_schedule_def("weekly_retrain_schedule")
    assert schedule.cron_schedule == "0 3 * * 0"
    assert schedule.execution_timezone == "Europe/Amsterdam"
    assert defs.resolve_job_def("weekly_retrain").executor_def.name == "in_process"
