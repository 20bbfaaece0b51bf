"""File-arrival sensor: start the daily job when files matching a source glob appear or change."""

import hashlib

import dagster as dg

from dagster_project.settings import get_paths
from dagster_project.sources.config import load_sources
from dagster_project.sources.loader import find_files


def landing_fingerprint() -> tuple[str, int]:
    """Hash of (path, size, mtime) of every file a source would load, and the file count."""
    paths = get_paths()
    digest, count = hashlib.sha256(), 0
    for spec in load_sources(paths.sources_config):
        for f in find_files(spec, paths.landing_dir):
            stat = f.stat()
            digest.update(f"{f}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
            count += 1
    return digest.hexdigest()[:16], count


def build_landing_sensor(job: dg.JobDefinition) -> dg.SensorDefinition:
    @dg.sensor(
        name="landing_files_sensor",
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Starts the daily job when new or changed files land in the landing folder.",
    )
    def landing_files_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        fingerprint, count = landing_fingerprint()
        if count == 0 or fingerprint == context.cursor:
            return dg.SensorResult(skip_reason=dg.SkipReason("no new files in the landing folder"))
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(run_key=f"landing-{fingerprint}", tags={"files": str(count)})
            ],
            cursor=fingerprint,
        )

    return landing_files_sensor
