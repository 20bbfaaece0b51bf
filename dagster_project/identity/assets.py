"""Identity assets: link person records into people with persistent person_ids (thin wrapper)."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.identity.resolve import resolve_identities
from dagster_project.identity.settings import IdentitySettings
from dagster_project.settings import get_paths

PERSON_MAP = dg.AssetKey(["identity", "person_map"])
INPUT_MODELS = ("int_person_records_unioned", "int_cookie_logins")


class IdentityConfig(dg.Config):
    retrain: bool = False
    """Retrain the Splink model even when a saved one exists."""


def build_identity_assets(dbt_models: dg.AssetsDefinition) -> list[dg.AssetsDefinition]:
    from dagster_dbt import get_asset_key_for_model

    inputs = [get_asset_key_for_model([dbt_models], name) for name in INPUT_MODELS]

    @dg.asset(
        key=PERSON_MAP,
        group_name="identity",
        deps=inputs,
        kinds={"splink", "duckdb"},
        description=(
            "One row per person record and per logged-in cookie with its persistent person_id. "
            "Deterministic links on shared identifiers (guarded against households and twins), then "
            "a Splink model for the rest, clustered into people. Also writes identity.person_links "
            "and identity.blocked_links."
        ),
    )
    def person_map(
        context: dg.AssetExecutionContext, config: IdentityConfig, duckdb: DuckDBResource
    ) -> dg.MaterializeResult:
        settings = IdentitySettings.from_env()
        model_path = get_paths().model_dir / "splink_model.json"
        with duckdb.get_connection() as con:
            stats = resolve_identities(con, model_path, settings, retrain=config.retrain)
            preview = con.execute(
                "select person_id, count(*) as records, string_agg(distinct source, ', ') as sources "
                "from identity.person_map group by 1 order by records desc, person_id limit 10"
            ).df()
        context.log.info(
            f"{stats.records:,} records + {stats.cookies:,} cookies -> {stats.persons:,} people"
        )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": stats.records + stats.cookies,
                "records": stats.records,
                "cookies_linked": stats.cookies,
                "people": stats.persons,
                "match_rate": round(stats.match_rate, 4),
                "deterministic_links": stats.deterministic_links,
                "splink_links": stats.splink_links,
                "blocked_links": stats.blocked_links,
                "comparisons": stats.comparisons,
                "model_trained": stats.model_trained,
                "model_path": dg.MetadataValue.path(str(model_path)),
                "cluster_size_distribution": dg.MetadataValue.json(
                    {str(k): v for k, v in stats.cluster_size_distribution.items()}
                ),
                "seconds_per_phase": dg.MetadataValue.json(
                    {k: round(v, 2) for k, v in stats.seconds.items()}
                ),
                "largest_people": dg.MetadataValue.md(preview.to_markdown(index=False)),
            }
        )

    return [person_map]


def build_identity_checks() -> list[dg.AssetChecksDefinition]:
    @dg.asset_check(
        asset=PERSON_MAP, blocking=True, description="Every record maps to exactly one person."
    )
    def every_record_has_one_person(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        with duckdb.get_connection() as con:
            missing, duplicated = con.execute(
                "select (select count(*) from identity.int_person_records_unioned r "
                "        where not exists (select 1 from identity.person_map m where m.record_key = r.record_key)), "
                "       (select count(*) from (select record_key from identity.person_map "
                "        group by 1 having count(distinct person_id) > 1))"
            ).fetchall()[0]
        return dg.AssetCheckResult(
            passed=missing == 0 and duplicated == 0,
            metadata={"unmapped_records": missing, "records_with_several_people": duplicated},
        )

    @dg.asset_check(
        asset=PERSON_MAP,
        description="No person is an implausibly large cluster (over-merging guard).",
    )
    def cluster_size_within_cap(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        cap = IdentitySettings.from_env().max_cluster_size
        with duckdb.get_connection() as con:
            largest = con.execute(
                "select coalesce(max(n), 0) from (select count(*) n from identity.person_map "
                "where source <> 'web_analytics__cookies' group by person_id)"
            ).fetchall()[0][0]
        return dg.AssetCheckResult(
            passed=cap <= 0 or largest <= cap,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"largest_cluster": largest, "cap": cap},
        )

    return [every_record_has_one_person, cluster_size_within_cap]
