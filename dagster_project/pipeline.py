"""Run the daily job in this process (for `cdp run`, `make demo`, benchmarks and tests)."""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg


@dataclass
class JobRun:
    success: bool
    run_id: str
    step_seconds: dict[str, float] = field(default_factory=dict)
    failed_steps: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def run_daily_job(
    retrain: bool = False, instance: dg.DagsterInstance | None = None, log_level: str = "WARNING"
) -> JobRun:
    """Execute the `daily` job in-process, on the DAGSTER_HOME instance when one is set."""
    from dagster_project.definitions import build_definitions

    defs = build_definitions()
    job = defs.resolve_job_def("daily")
    run_config = {
        "ops": {"identity__person_map": {"config": {"retrain": retrain}}},
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }
    if instance is None:
        instance = dg.DagsterInstance.get() if _has_home() else dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(instance=instance, run_config=run_config, raise_on_error=False)
    stats = instance.get_run_step_stats(result.run_id)
    steps = {
        s.step_key: round((s.end_time or s.start_time or 0) - (s.start_time or 0), 2) for s in stats
    }
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    errors = []
    for event in failures:
        data = event.step_failure_data
        if data is not None and data.error is not None:
            errors.append(f"{event.step_key}: {data.error.message.strip().splitlines()[0]}")
    return JobRun(
        success=result.success,
        run_id=result.run_id,
        step_seconds=steps,
        failed_steps=[e.step_key for e in failures if e.step_key],
        errors=errors,
    )


def _has_home() -> bool:
    import os

    return bool(os.environ.get("DAGSTER_HOME"))
