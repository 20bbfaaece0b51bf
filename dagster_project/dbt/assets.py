"""Every dbt model, seed and test as Dagster assets and asset checks (one multi-asset).

Dagster splits this multi-asset around the Python identity step, so one daily run makes
two dbt invocations: staging + identity prep, then profiles.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from dagster_project.dbt.project import dbt_project, prune_invocation_dirs
from dagster_project.dbt.translator import LayerTranslator


def build_dbt_assets() -> dg.AssetsDefinition:
    project = dbt_project()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=LayerTranslator(),
        name="cdp_dbt_models",
    )
    def cdp_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        """dbt build of the selected models and their data tests.

        Unit tests test the SQL, not the data: they run in `make test`, not every day.
        """
        # No fetch_row_counts()/fetch_column_metadata(): they open the DuckDB file from this
        # process while dbt still writes it, and DuckDB allows one writing process.
        run_project = dbt_project(for_run=True)  # partial parsing valid for this warehouse
        args = ["build", "--exclude-resource-type", "unit_test"]
        yield from dbt.cli(args, context=context).stream()
        prune_invocation_dirs(run_project.target_path)

    return cdp_dbt_models
