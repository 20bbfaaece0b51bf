"""Exports assets: the read-only serving copy BI tools connect to."""

from datetime import UTC

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.exports.serving import SERVING_SCHEMAS, publish_serving_copy
from dagster_project.settings import get_paths


def build_export_assets(
    upstream: list[dg.AssetKey], audience_tables: set[str]
) -> list[dg.AssetsDefinition]:
    """`audience_tables`: the audiences currently declared; tables of removed audiences stay out."""

    def include(schema: str, table: str) -> bool:
        return schema != "audiences" or table in audience_tables

    @dg.asset(
        key=dg.AssetKey(["exports", "serving_copy"]),
        group_name="exports",
        deps=upstream,
        kinds={"duckdb"},
        description=(
            "Read-only copy of the marts and audiences schemas for BI tools, published atomically "
            "after the profiles and audiences are built (CDP_SERVING_PATH)."
        ),
    )
    def serving_copy(
        context: dg.AssetExecutionContext, duckdb: DuckDBResource
    ) -> dg.MaterializeResult:
        target = get_paths().serving
        with duckdb.get_connection() as con:
            result = publish_serving_copy(con, target, run_id=context.run.run_id, include=include)
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(result.path)),
                "schemas": ", ".join(SERVING_SCHEMAS),
                "tables": dg.MetadataValue.json(result.tables),
                "size_mb": round(result.bytes / 1e6, 2),
                "published_at": dg.MetadataValue.timestamp(
                    result.published_at.replace(tzinfo=UTC).timestamp()
                ),
            }
        )

    return [serving_copy]
