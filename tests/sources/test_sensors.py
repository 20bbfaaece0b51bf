"""The file-arrival sensor requests a run when landing files appear or change, and only then."""

from __future__ import annotations

import dagster as dg
import pytest

from dagster_project.automation import daily_job
from dagster_project.settings import get_paths
from dagster_project.sources.sensors import build_landing_sensor


@pytest.fixture
def sensor(monkeypatch):
    monkeypatch.setenv("CDP_SENSOR_SETTLE_SECONDS", "0")
    return build_landing_sensor(daily_job)


def _tick(sensor, cursor, instance=None):
    instance = instance or dg.DagsterInstance.ephemeral()
    return sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor, instance=instance))


def _write(text: str) -> None:
    path = get_paths().landing_dir / "webshop" / "customers.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_first_tick_records_a_baseline_then_new_or_changed_files_start_a_run(sensor):
    baseline = _tick(sensor, None)
    assert not baseline.run_requests and baseline.cursor

    _write("customer_id\nC1\n")
    arrived = _tick(sensor, baseline.cursor)
    assert len(arrived.run_requests) == 1

    assert not _tick(sensor, arrived.cursor).run_requests  # nothing changed

    _write("customer_id\nC1\nC2\n")
    changed = _tick(sensor, arrived.cursor)
    assert len(changed.run_requests) == 1
    assert changed.run_requests[0].run_key != arrived.run_requests[0].run_key


def test_files_outside_any_source_glob_do_not_trigger(sensor):
    baseline = _tick(sensor, None)
    stray = get_paths().landing_dir / "notes" / "readme.txt"
    stray.parent.mkdir(parents=True)
    stray.write_text("not a source")
    assert not _tick(sensor, baseline.cursor).run_requests


def test_files_still_being_written_wait(monkeypatch):
    monkeypatch.setenv("CDP_SENSOR_SETTLE_SECONDS", "3600")
    sensor = build_landing_sensor(daily_job)
    baseline = _tick(sensor, None)
    _write("customer_id\nC1\n")
    result = _tick(sensor, baseline.cursor)
    assert not result.run_requests
    assert result.cursor in (None, baseline.cursor)  # the arrival is not swallowed


def test_no_second_run_while_one_is_in_progress(sensor):
    from dagster._core.storage.dagster_run import DagsterRun

    instance = dg.DagsterInstance.ephemeral()
    baseline = _tick(sensor, None, instance)
    _write("customer_id\nC1\n")
    instance.add_run(DagsterRun(job_name="daily", run_id="r1", status=dg.DagsterRunStatus.STARTED))
    busy = _tick(sensor, baseline.cursor, instance)
    assert not busy.run_requests
    assert "in progress" in busy.skip_message
