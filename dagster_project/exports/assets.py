"""Exports assets: the read-only serving copy BI tools connect to, and one asset per destination."""

from datetime import UTC

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.exports.config import Destination, load_destinations
from dagster_project.exports.deliver import deliver_destination
from dagster_project.exports.serving import SERVING_SCHEMAS, publish_serving_copy
from dagster_project.settings import get_paths

KIND_TAGS = {"file": "csv", "postgres": "postgres", "webhook": "python"}


class DeliveryConfig(dg.Config):
    full: bool = False  # resend every member instead of the changes since the last success


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

    audience_keys = [k for k in upstream if k.path[0] == "audiences"]
    return [serving_copy, *build_destination_assets(audience_keys)]


def build_destination_assets(audience_keys: list[dg.AssetKey]) -> list[dg.AssetsDefinition]:
    """One asset per destination in config/destinations.yml (CDP_DESTINATIONS_CONFIG)."""
    known = {k.path[-1] for k in audience_keys}
    return [_destination_asset(d) for d in load_destinations(known_audiences=known)]


def _destination_asset(dest: Destination) -> dg.AssetsDefinition:
    kind_tag = getattr(dest.options, "format", None) or KIND_TAGS[dest.kind]

    @dg.asset(
        key=dg.AssetKey(["exports", dest.name]),
        group_name="exports",
        deps=[dg.AssetKey(["audiences", a]) for a in dest.audiences],
        kinds={kind_tag},
        description=(
            f"{dest.description or dest.kind + ' destination'}\n\nKind: {dest.kind}; audiences: "
            f"{', '.join(dest.audiences)}; consent required: {dest.consent}. Sends the changes "
            "since the last successful delivery (run config `full: true` resends everything)."
        ),
    )
    def _deliver(
        context: dg.AssetExecutionContext, config: DeliveryConfig, duckdb: DuckDBResource
    ) -> dg.MaterializeResult:
        full = config.full
        with duckdb.get_connection() as con:
            result = deliver_destination(con.cursor(), dest, run_id=context.run.run_id, full=full)
        totals = result.totals()
        metadata = {
            "status": result.status,
            "mode": result.mode,
            **totals,  # counts only: no personal data in metadata
            "dagster/row_count": totals["members"],
            "audiences": dg.MetadataValue.json(
                {
                    a.audience: {
                        "status": a.status,
                        "entered": a.counts.entered,
                        "updated": a.counts.updated,
                        "exited": a.counts.exited,
                        "members": a.counts.members,
                        "rows_sent": a.rows,
                        "files": a.files,
                    }
                    for a in result.audiences
                }
            ),  # fmt: skip
        }
        if result.status == "skipped":
            context.log.warning(f"destination {dest.name} skipped: {result.detail}")
            metadata["skipped_because"] = result.detail
        if result.status == "failed":
            raise dg.Failure(
                description=f"delivery to {dest.name} failed: {result.detail}", metadata=metadata
            )
        return dg.MaterializeResult(metadata=metadata)

    _deliver.__name__ = dest.name
    return _deliver
