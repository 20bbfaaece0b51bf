"""One Dagster asset per audience declared in config/audiences.yml (thin wrapper)."""

import json

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.audiences.build import build_audience
from dagster_project.audiences.compile import resolve_as_of
from dagster_project.audiences.mask import mask_record
from dagster_project.audiences.spec import AudienceSpec, load_audiences
from dagster_project.settings import get_paths

PROFILE_MODELS = ("customer_profiles", "customer_events")


def _audience_asset(spec: AudienceSpec, upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
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
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": result.size,
                "size": result.size,
                "persons": result.persons,
                "size_before_consent": result.size_before_consent,
                "size_before_exclusions": result.size_before_exclusions,
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
    return [
        _audience_asset(spec, upstream) for spec in load_audiences(get_paths().audiences_config)
    ]
