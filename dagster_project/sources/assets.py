"""One Dagster asset per declared source: load its files into raw.<system>__<table>."""

from datetime import UTC

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.privacy.suppression import SuppressionKeyError
from dagster_project.settings import get_paths
from dagster_project.sources.config import SourceSpec, load_sources
from dagster_project.sources.entities import ENTITIES
from dagster_project.sources.loader import SourceLoadError, load_source


def _source_asset(spec: SourceSpec) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey([spec.system, spec.table]),
        group_name="sources",
        kinds={"duckdb", spec.format},
        description=(
            f"Loads `{spec.path}` ({spec.format}, entity `{spec.entity}`: "
            f"{ENTITIES[spec.entity].description}) into `raw.{spec.name}`. "
            "Unusable rows go to `quarantine.quarantined_rows` with a reason; rows of erased "
            "people (the suppression list) are dropped and counted."
        ),
        metadata={"path_glob": spec.path, "entity": spec.entity, "raw_table": f"raw.{spec.name}"},
    )
    def _load(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
        landing = get_paths().landing_dir
        with duckdb.get_connection() as con:
            try:
                result = load_source(con, spec, landing)
            except (SourceLoadError, SuppressionKeyError) as exc:
                raise dg.Failure(description=str(exc)) from exc
        if not result.files:
            context.log.warning(f"{spec.name}: no files match {landing / spec.path}")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": result.rows,
                "files": len(result.files),
                "file_names": dg.MetadataValue.json([f.rsplit("/", 1)[-1] for f in result.files]),
                "quarantined_rows": result.quarantined,
                "quarantine_reasons": dg.MetadataValue.json(result.reasons),
                "suppressed_rows": result.suppressed,  # erased people's rows (count only)
                "loaded_at": dg.MetadataValue.timestamp(
                    result.loaded_at.replace(tzinfo=UTC).timestamp()
                ),
                "seconds": round(result.seconds, 2),
                "rows_per_second": round(result.rows / max(result.seconds, 1e-9)),
            }
        )

    _load.__name__ = spec.name
    return _load


def build_source_assets() -> list[dg.AssetsDefinition]:
    return [_source_asset(spec) for spec in load_sources(get_paths().sources_config)]
