"""The daily job and its schedule (the file-arrival sensor lives with the sources)."""

from __future__ import annotations

import dagster as dg

# DuckDB allows one writing process: every step of the job runs in this one process, in turn.
daily_job = dg.define_asset_job(
    name="daily",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Everything, in order: load sources, dbt staging, identity, profiles, audiences, publish.",
)

daily_schedule = dg.ScheduleDefinition(
    name="daily_schedule",
    job=daily_job,
    cron_schedule="0 6 * * *",
    execution_timezone="Europe/Amsterdam",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Runs the daily job at 06:00 Amsterdam time.",
)
