"""The file-arrival sensor requests a run when landing files appear or change, and only then."""

from __future__ import annotations

import dagster as dg

from dagster_project.automation import daily_job
from dagster_project.settings import get_paths
from dagster_project.sources.sensors import build_landing_sensor


def _tick(sensor, cursor):
    return sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor))


def test_sensor_fires_on_new_and_changed_files_only():
    sensor = build_landing_sensor(daily_job)
    landing = get_paths().landing_dir

    empty = _tick(sensor, None)
    assert not empty.run_requests

    (landing / "webshop").mkdir(parents=True)
    path = landing / "webshop" / "customers.csv"
    path.write_text("customer_id\nC1\n")
    first = _tick(sensor, None)
    assert len(first.run_requests) == 1

    same = _tick(sensor, first.cursor)
    assert not same.run_requests

    path.write_text("customer_id\nC1\nC2\n")
    changed = _tick(sensor, first.cursor)
    assert len(changed.run_requests) == 1
    assert changed.run_requests[0].run_key != first.run_requests[0].run_key


def test_files_outside_any_source_glob_do_not_trigger():
    sensor = build_landing_sensor(daily_job)
    stray = get_paths().landing_dir / "notes" / "readme.txt"
    stray.parent.mkdir(parents=True)
    stray.write_text("not a source")
    assert not _tick(sensor, None).run_requests
