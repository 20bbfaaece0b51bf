"""File-arrival sensor: start the daily job when files matching a source glob appear or change."""

import hashlib
import os
import time

import dagster as dg

from dagster_project.settings import get_paths
from dagster_project.sources.config import load_sources
from dagster_project.sources.loader import find_files

IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def landing_fingerprint(settle_seconds: float = 0.0) -> tuple[str, int, int]:
    """Hash of (path, size, mtime) of every file a source would load.

    Returns the hash, the file count and how many files changed within `settle_seconds`
    (probably still being copied).
    """
    paths = get_paths()
    digest, count, settling = hashlib.sha256(), 0, 0
    now = time.time()
    for spec in load_sources(paths.sources_config):
        for f in find_files(spec, paths.landing_dir):
            stat = f.stat()
            digest.update(f"{f}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
            count += 1
            settling += now - stat.st_mtime < settle_seconds
    return digest.hexdigest()[:16], count, settling


def build_landing_sensor(job: dg.JobDefinition) -> dg.SensorDefinition:
    @dg.sensor(
        name="landing_files_sensor",
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Starts the daily job when files in the landing folder are added or changed. The first "
            "tick only records what is there (the schedule covers it); files still being written "
            "(changed in the last CDP_SENSOR_SETTLE_SECONDS, default 30) and runs already in "
            "progress make it wait."
        ),
    )
    def landing_files_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        settle = float(os.environ.get("CDP_SENSOR_SETTLE_SECONDS", "30"))
        fingerprint, count, settling = landing_fingerprint(settle)
        if context.cursor is None:
            return dg.SensorResult(
                skip_reason=dg.SkipReason(f"baseline recorded: {count} landing file(s)"),
                cursor=fingerprint,
            )
        if fingerprint == context.cursor:
            return dg.SensorResult(skip_reason=dg.SkipReason("no new or changed landing files"))
        if settling:
            return dg.SensorResult(
                skip_reason=dg.SkipReason(f"{settling} file(s) still being written")
            )
        running = context.instance.get_runs_count(
            dg.RunsFilter(job_name=job.name, statuses=IN_PROGRESS)
        )
        if running:
            return dg.SensorResult(skip_reason=dg.SkipReason("a daily run is in progress"))
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(run_key=f"landing-{fingerprint}", tags={"files": str(count)})
            ],
            cursor=fingerprint,
        )

    return landing_files_sensor
