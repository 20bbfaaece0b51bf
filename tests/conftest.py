"""Shared fixtures: every test gets its own data folder; the pipeline fixture runs the daily job twice."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from dagster_project.settings import get_paths

ENV_VARS = (
    "CDP_DATA_DIR",
    "CDP_DUCKDB_PATH",
    "CDP_LANDING_DIR",
    "CDP_TRUTH_DIR",
    "CDP_SERVING_PATH",
    "CDP_MODEL_DIR",
    "DAGSTER_HOME",
)


def point_data_dir(mp: pytest.MonkeyPatch, root: Path) -> None:
    """Point every CDP path at `root` (nothing under the repo's data/ is touched)."""
    for var in ENV_VARS:
        mp.delenv(var, raising=False)
    mp.setenv("CDP_DATA_DIR", str(root))


class _RecordingHandler(logging.Handler):
    """Keeps every formatted log message (the pipeline fixture's Python logs)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(record.getMessage())
        except Exception:  # a broken log call must not break the pipeline fixture
            self.messages.append(str(record.msg))


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    point_data_dir(monkeypatch, tmp_path / "data")


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Generate a small population, run the daily job, then run it again on the same files.

    The second run happens while a reader holds the serving copy open, as a BI tool would.
    """
    import dagster as dg
    import duckdb

    from dagster_project.pipeline import run_daily_job
    from dagster_project.sources import demo_data

    root = tmp_path_factory.mktemp("pipeline")
    # One instance for both runs and the Python log records at INFO, for tests/test_no_pii.py.
    instance = dg.DagsterInstance.ephemeral()
    log_records = _RecordingHandler()
    root_logger, root_level = logging.getLogger(), logging.getLogger().level
    root_logger.addHandler(log_records)
    root_logger.setLevel(min(root_level or logging.WARNING, logging.INFO))
    with pytest.MonkeyPatch.context() as mp:
        point_data_dir(mp, root)
        paths = get_paths()
        demo_data.generate(
            paths.landing_dir,
            paths.truth_dir,
            people=int(os.environ.get("CDP_TEST_PEOPLE", "1500")),
            seed=7,
        )
        first = run_daily_job(instance=instance)
        assert first.success, first.errors
        with duckdb.connect(str(paths.warehouse), read_only=True) as con:
            first_map = con.execute(
                "select record_key, person_id from identity.person_map"
            ).fetchall()
        reader = duckdb.connect(str(paths.serving), read_only=True)
        served_before = reader.execute("select run_id from meta.publications").fetchone()[0]
        second = run_daily_job(instance=instance)
        root_logger.removeHandler(log_records)
        root_logger.setLevel(root_level)
        assert second.success, second.errors
        served_during = reader.execute("select run_id from meta.publications").fetchone()[0]
        reader.close()
        yield {
            "paths": paths,
            "first": first,
            "second": second,
            "first_map": dict(first_map),
            "served_run_before": served_before,
            "served_run_during": served_during,
            "instance": instance,
            "log_messages": log_records.messages,
        }
