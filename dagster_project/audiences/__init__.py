"""Audience layer: declarative segments over the customer profiles and events.

Pure Python on DuckDB (no Dagster import); the Dagster assets wrap these functions.

Typical use::

    config = load_audiences()                      # config/audiences.yml, validated
    for spec in config:                            # excluded audiences come first
        build_audience(con, spec, as_of, run_id)
    preview_audience(con, config.get("cart_abandoners"), as_of, others=config)

`build_audience` also keeps `audiences.membership_history` (entered/exited, see `history.py`).
"""

from dagster_project.audiences.build import (
    HISTORY_TABLE,
    AudienceResult,
    audience_overlaps,
    build_audience,
    build_audiences,
    ensure_audience_schema,
    preview_audience,
    validate_against_database,
)
from dagster_project.audiences.compile import audience_sql, resolve_as_of, stage_counts_sql
from dagster_project.audiences.history import MEMBERSHIP_TABLE, update_membership_history
from dagster_project.audiences.spec import (
    AudienceConfig,
    AudienceSpec,
    AudienceSpecError,
    EventCondition,
    Rule,
    load_audiences,
    parse_audiences,
    topological_order,
)

__all__ = [
    "HISTORY_TABLE",
    "MEMBERSHIP_TABLE",
    "AudienceConfig",
    "AudienceResult",
    "AudienceSpec",
    "AudienceSpecError",
    "EventCondition",
    "Rule",
    "audience_overlaps",
    "audience_sql",
    "build_audience",
    "build_audiences",
    "ensure_audience_schema",
    "load_audiences",
    "parse_audiences",
    "preview_audience",
    "resolve_as_of",
    "stage_counts_sql",
    "topological_order",
    "update_membership_history",
    "validate_against_database",
]
