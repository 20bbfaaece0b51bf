"""Resources: the DuckDB warehouse and the dbt CLI."""

from __future__ import annotations

import os
from functools import cached_property

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource
from packaging import version

from dagster_project.dbt.project import dbt_executable, dbt_project
from dagster_project.settings import export_warehouse_env


def build_resources() -> dict[str, object]:
    """The warehouse path comes from CDP_DUCKDB_PATH (default data/cdp.duckdb)."""
    export_warehouse_env()
    return {
        "duckdb": DuckDBResource(
            database=dg.EnvVar("CDP_DUCKDB_PATH"),
            # DuckDB takes 80% of RAM by default and spills to disk beyond its limit.
            connection_config={"memory_limit": os.environ.get("CDP_DUCKDB_MEMORY_LIMIT", "4GB")},
        ),
        "dbt": LocalDbtCliResource(project_dir=dbt_project(), dbt_executable=dbt_executable()),
    }


class LocalDbtCliResource(DbtCliResource):
    """DbtCliResource for a dbt-core installed in this environment."""

    @cached_property
    def _cli_version(self) -> version.Version:
        # dagster-dbt spawns `dbt --version` (3 s) on every step to learn this; dbt-core is
        # installed beside us, so read its version in-process.
        from dbt.version import __version__

        return version.parse(__version__)

    def _initialize_dbt_core_adapter(self, args: object) -> None:  # type: ignore[override]
        # The in-process adapter only serves fetch_column_metadata()/fetch_row_counts(), which
        # we never call (they would open DuckDB while dbt writes it); loading it costs ~2 s a step.
        return None
