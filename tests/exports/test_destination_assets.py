"""The destination assets in Dagster: counts-only metadata, skips, failures, the full-resync config."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from dagster_project.exports.assets import _destination_asset

from .helpers import create_warehouse, destination


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "wh.duckdb"
    with duckdb.connect(str(path)) as con:
        create_warehouse(con)
    return str(path)


def materialize(asset: dg.AssetsDefinition, db: str, **config: object) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [asset],
        resources={"duckdb": DuckDBResource(database=db)},
        run_config={"ops": {asset.op.name: {"config": config}}} if config else None,
        raise_on_error=False,
    )


def test_file_destination_asset_reports_counts_and_paths_only(db: str, tmp_path: Path) -> None:
    asset = _destination_asset(
        destination(fields=["email", "phone"], options={"outbox": str(tmp_path / "o")})
    )
    assert asset.key == dg.AssetKey(["exports", "dest"])
    assert dg.AssetKey(["audiences", "loyal"]) in asset.dependency_keys
    result = materialize(asset, db)
    assert result.success
    (event,) = result.get_asset_materialization_events()
    meta = event.materialization.metadata
    assert meta["entered"].value == 16 and meta["status"].value == "success"
    assert meta["mode"].value == "delta"
    text = str({k: v.value for k, v in meta.items()})
    assert "@" not in text and "+316" not in text and str(tmp_path / "o") in text
    full = materialize(asset, db, full=True)
    assert (
        full.get_asset_materialization_events()[0].materialization.metadata["mode"].value == "full"
    )


def test_skipped_destination_materialises_with_the_reason(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_SUCH_URL", raising=False)
    asset = _destination_asset(destination(kind="postgres", options={"url_env": "NO_SUCH_URL"}))
    result = materialize(asset, db)
    assert result.success
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    assert meta["status"].value == "skipped" and "NO_SUCH_URL" in meta["skipped_because"].value


def test_failed_delivery_fails_the_asset_clearly(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEAD_HOOK_URL", "http://127.0.0.1:9/nothing-listens-here")
    asset = _destination_asset(
        destination(
            kind="webhook",
            options={
                "url_env": "DEAD_HOOK_URL",
                "retries": 1,
                "backoff_seconds": 0.001,
                "timeout_seconds": 2,
            },
        )
    )
    result = materialize(asset, db)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "delivery to dest failed" in str(failure.event_specific_data.error)
    assert "dead-lettered" in str(failure.event_specific_data.error)
