"""The daily and weekly jobs and their schedules (the file-arrival sensor lives with the sources)."""

from __future__ import annotations

import dagster as dg

from dagster_project.identity.assets import SPLINK_MODEL

# DuckDB allows one writing process: every step of the job runs in this one process, in turn.
daily_job = dg.define_asset_job(
    name="daily",
    # training is weekly: the daily run reuses the current model version
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(SPLINK_MODEL),
    executor_def=dg.in_process_executor,
    description=(
        "Everything but model training, in order: load sources, dbt staging, identity "
        "(with the current Splink model), profiles, audiences, publish."
    ),
)

daily_schedule = dg.ScheduleDefinition(
    name="daily_schedule",
    job=daily_job,
    cron_schedule="0 6 * * *",
    execution_timezone="Europe/Amsterdam",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Runs the daily job at 06:00 Amsterdam time.",
)

weekly_retrain_job = dg.define_asset_job(
    name="weekly_retrain",
    selection=dg.AssetSelection.assets(SPLINK_MODEL),
    executor_def=dg.in_process_executor,
    description=(
        "Trains a new Splink model version on the current person records; the next daily run "
        "links with it (a full re-link, since the model changed)."
    ),
)

weekly_retrain_schedule = dg.ScheduleDefinition(
    name="weekly_retrain_schedule",
    job=weekly_retrain_job,
    cron_schedule="0 3 * * 0",
    execution_timezone="Europe/Amsterdam",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Retrains the Splink model on Sunday at 03:00 Amsterdam time.",
)
