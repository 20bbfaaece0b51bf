"""The one Definitions object: every layer's assets, checks, the daily job, schedule and sensor."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from dagster_project.audiences.assets import build_audience_assets
from dagster_project.audiences.spec import RESERVED_NAMES
from dagster_project.automation import (
    daily_job,
    daily_schedule,
    weekly_retrain_job,
    weekly_retrain_schedule,
)
from dagster_project.dbt.assets import build_dbt_assets
from dagster_project.exports.assets import build_export_assets
from dagster_project.identity.assets import (
    SPLINK_MODEL,
    build_identity_assets,
    build_identity_checks,
)
from dagster_project.privacy.assets import ERASURE_KEY, build_privacy_assets
from dagster_project.resources import build_resources
from dagster_project.sources.assets import build_source_assets
from dagster_project.sources.sensors import build_landing_sensor


def build_definitions() -> dg.Definitions:
    resources = build_resources()
    dbt_models = build_dbt_assets()
    identity = build_identity_assets(dbt_models)
    audiences = build_audience_assets(dbt_models)
    marts = [
        get_asset_key_for_model([dbt_models], m) for m in ("customer_profiles", "customer_events")
    ]
    audience_keys = [key for a in audiences for key in a.keys]
    exports = build_export_assets(
        [*marts, *audience_keys, ERASURE_KEY],  # publish only after the purge
        audience_tables={k.path[-1] for k in audience_keys} | RESERVED_NAMES,
    )
    sources = build_source_assets()
    # The purge runs after everything that writes person data but the exports: a failed
    # destination must not hold it back (delivery state is left to the deliveries, see privacy/).
    before_purge = [*sources, dbt_models, *identity, *audiences]
    privacy = build_privacy_assets(
        [k for a in before_purge for k in a.keys if k != SPLINK_MODEL]  # SPLINK_MODEL: weekly
    )
    return dg.Definitions(
        assets=[*sources, dbt_models, *identity, *audiences, *exports, *privacy],
        asset_checks=build_identity_checks(),
        jobs=[daily_job, weekly_retrain_job],
        schedules=[daily_schedule, weekly_retrain_schedule],
        sensors=[build_landing_sensor(daily_job)],
        resources=resources,
        # UI-launched materialisations default to one process too (DuckDB: one writer).
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
