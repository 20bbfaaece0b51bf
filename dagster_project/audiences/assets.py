"""One Dagster asset per audience declared in config/audiences.yml (thin wrapper)."""

import json
import os
from datetime import date

import dagster as dg
from dagster_duckdb import DuckDBResource
from duckdb import DuckDBPyConnection

from dagster_project.audiences.build import HISTORY_TABLE, audience_overlaps, build_audience
from dagster_project.audiences.compile import resolve_as_of, table_sql
from dagster_project.audiences.mask import mask_record
from dagster_project.audiences.spec import AudienceConfig, AudienceSpec, load_audiences
from dagster_project.settings import get_paths

PROFILE_MODELS = ("customer_profiles", "customer_events")
OVERLAPS_ENV = "CDP_AUDIENCE_OVERLAPS"


def overlap_markdown(overlaps: dict[str, int], persons: int) -> str:
    """Markdown table of the people shared with each other audience (count and share)."""
    lines = ["| audience | people in both | share of this audience |", "|---|---:|---:|"]
    for name, count in overlaps.items():
        share = count / persons if persons else 0.0
        lines.append(f"| {name} | {count:,} | {share:.1%} |")
    return "\n".join(lines)


def overlap_metadata_enabled() -> bool:
    """False when `CDP_AUDIENCE_OVERLAPS=0`: at 1M people the overlaps cost about a build."""
    return os.environ.get(OVERLAPS_ENV, "1").strip().lower() not in {"0", "false", "no", "off"}


def run_overlaps(
    con: DuckDBPyConnection, spec: AudienceSpec, config: AudienceConfig, run_id: str, as_of: date
) -> dict[str, int]:
    """Overlap with every other audience at `as_of`, as `cdp audience preview` computes it.

    Audiences already built in this run (same run id and as_of), `spec` included, are read
    from their tables; the others are compiled: the same numbers at a fraction of the cost.
    """
    built = {
        row[0]
        for row in con.execute(
            f"SELECT audience_name FROM {HISTORY_TABLE} WHERE run_id = ? AND as_of = ?",
            [run_id, as_of],
        ).fetchall()
    }
    others = [o for o in config if o.name != spec.name]
    counts = audience_overlaps(
        con,
        spec,
        as_of,
        others=[o for o in others if o.name not in built],
        tables={o.name: table_sql(o) for o in others if o.name in built},
        self_table=table_sql(spec) if spec.name in built else None,
    )
    return {o.name: counts[o.name] for o in others}


def _audience_asset(
    spec: AudienceSpec, config: AudienceConfig, upstream: list[dg.AssetKey]
) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(["audiences", spec.name]),
        group_name="audiences",
        deps=[*upstream, *(dg.AssetKey(["audiences", name]) for name in spec.exclude)],
        kinds={"duckdb"},
        description=(
            f"{spec.description.strip()}\n\nConsent required: {spec.consent}. "
            f"Excludes: {', '.join(spec.exclude) or 'nothing'}. Table `audiences.{spec.name}`."
        ),
    )
    def _build(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
        as_of = resolve_as_of()
        with duckdb.get_connection() as con:
            result = build_audience(con, spec, as_of=as_of, run_id=context.run.run_id)
            cur = con.execute(f"select * from audiences.{spec.name} order by person_id limit 5")
            names = [d[0] for d in cur.description]
            sample = [mask_record(dict(zip(names, row, strict=True))) for row in cur.fetchall()]
            overlaps = (
                run_overlaps(con, spec, config, context.run.run_id, result.as_of)
                if overlap_metadata_enabled()
                else None
            )
        # Plain ints become numeric metadata, which the UI plots over materialisations.
        overlap_metadata = (
            {
                "overlap": dg.MetadataValue.md(overlap_markdown(overlaps, result.persons)),
                "overlap_counts": dg.MetadataValue.json(overlaps),
            }
            if overlaps is not None
            else {}
        )
        return dg.MaterializeResult(
            metadata={
                **overlap_metadata,
                "dagster/row_count": result.size,
                "size": result.size,
                "persons": result.persons,
                "size_before_consent": result.size_before_consent,
                "size_before_exclusions": result.size_before_exclusions,
                "entered": result.entered,
                "exited": result.exited,
                "as_of": str(result.as_of),
                "sample_masked": dg.MetadataValue.json(
                    json.loads(json.dumps(sample, default=str))
                ),  # no raw e-mail or phone
            }
        )

    _build.__name__ = spec.name
    return _build


def build_audience_assets(dbt_models: dg.AssetsDefinition) -> list[dg.AssetsDefinition]:
    from dagster_dbt import get_asset_key_for_model

    upstream = [get_asset_key_for_model([dbt_models], name) for name in PROFILE_MODELS]
    config = load_audiences(get_paths().audiences_config)
    return [_audience_asset(spec, config, upstream) for spec in config]
