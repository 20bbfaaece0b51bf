"""Resources: the DuckDB warehouse and the dbt CLI."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from dagster_project.dbt.project import dbt_project
from dagster_project.settings import export_warehouse_env


def build_resources() -> dict[str, object]:
    """The warehouse path comes from CDP_DUCKDB_PATH (default data/cdp.duckdb)."""
    export_warehouse_env()
    return {
        "duckdb": DuckDBResource(database=dg.EnvVar("CDP_DUCKDB_PATH")),
        "dbt": DbtCliResource(project_dir=dbt_project()),
    }
