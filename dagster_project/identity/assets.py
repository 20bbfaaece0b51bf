"""Identity assets: train the Splink model, link person records into people (thin wrappers)."""

import logging
import os
import time
from pathlib import Path

import dagster as dg
import duckdb as duckdb_lib
from dagster_duckdb import DuckDBResource

from dagster_project.identity import explain_report, training
from dagster_project.identity.outputs import COOKIE_SOURCE
from dagster_project.identity.resolve import resolve_identities
from dagster_project.identity.settings import IdentitySettings
from dagster_project.settings import get_paths

logger = logging.getLogger(__name__)

PERSON_MAP = dg.AssetKey(["identity", "person_map"])
SPLINK_MODEL = dg.AssetKey(["identity", "splink_model"])
INPUT_MODELS = ("int_person_records_unioned", "int_cookie_logins")
# Persons in the explain report written by every person_map run (0: no report).
EXPLAIN_SAMPLE_ENV = "CDP_EXPLAIN_SAMPLE_PERSONS"


# The ten largest people: the smallest size among them from a count per size (one integer
# group-by), then the top-N over only the persons that large, then only their rows.
LARGEST_PEOPLE_SQL = f"""
    with sizes as (
        select cluster_size, count(*) // cluster_size as persons from identity.person_map
        where source <> '{COOKIE_SOURCE}' group by 1
    ),
    cut as (
        select coalesce(max(cluster_size), 0) as size from (
            select cluster_size, sum(persons) over (order by cluster_size desc) as from_top
            from sizes
        ) where from_top >= 10
    ),
    top as (
        select distinct person_id, cluster_size from identity.person_map
        where source <> '{COOKIE_SOURCE}' and cluster_size >= (select size from cut)
        order by cluster_size desc, person_id limit 10
    )
    select m.person_id, any_value(t.cluster_size) as records,
           string_agg(distinct m.source, ', ' order by m.source) as sources
    from identity.person_map as m join top as t using (person_id)
    group by m.person_id order by records desc, m.person_id
"""


class IdentityConfig(dg.Config):
    retrain: bool = False
    """Train a new model version before linking, even when a saved one exists."""
    full_relink: bool = False
    """Score every pair instead of only new and changed records (also CDP_FULL_RELINK=1)."""


def model_metadata(version: training.ModelVersion) -> dict[str, dg.MetadataValue]:
    """Version, file and chart links of a model version, as Dagster metadata."""
    meta: dict[str, dg.MetadataValue] = {
        "model_version": dg.MetadataValue.text(version.version),
        "model_path": dg.MetadataValue.path(str(version.path)),
    }
    for name, path in version.charts.items():
        meta[f"chart_{name}"] = dg.MetadataValue.path(str(path))
    return meta


def _training_metadata(result: training.TrainingResult) -> dict[str, dg.MetadataValue]:
    """Model metadata plus what training measured and the match-weight table."""
    version = result.version
    return {
        **model_metadata(version),
        "dagster/row_count": dg.MetadataValue.int(version.records or 0),
        "records": dg.MetadataValue.int(version.records or 0),
        "training_seconds": dg.MetadataValue.float(version.training_seconds or 0.0),
        "seconds_per_phase": dg.MetadataValue.json(result.seconds),
        "prior_probability": dg.MetadataValue.float(version.prior or 0.0),
        "match_weights": dg.MetadataValue.md(
            training.weights_markdown(result.weights, version.prior)
        ),
        "removed_versions": dg.MetadataValue.json(result.removed),
    }


def build_identity_assets(dbt_models: dg.AssetsDefinition) -> list[dg.AssetsDefinition]:
    from dagster_dbt import get_asset_key_for_model

    inputs = [get_asset_key_for_model([dbt_models], name) for name in INPUT_MODELS]

    @dg.asset(
        key=SPLINK_MODEL,
        group_name="identity",
        deps=inputs[:1],
        kinds={"splink", "duckdb"},
        description=(
            "Trains a new version of the Splink model (u by random sampling, the prior, m by EM) "
            "on the current person records, saves it as splink_model_<UTC time>.json with "
            "Splink's charts beside it and makes it current (models/current.json). Not in the "
            "daily job: the weekly_retrain job runs it; person_map reuses the current version."
        ),
    )
    def splink_model(duckdb: DuckDBResource) -> dg.MaterializeResult:
        settings = IdentitySettings.from_env()
        with duckdb.get_connection() as con:
            result = training.train_model(con, get_paths().model_dir, settings)
        if result is None:
            raise dg.Failure(
                description=(
                    f"too few person records to train a model (need "
                    f"{training.MIN_TRAINING_RECORDS}); the current model stays in use"
                )
            )
        return dg.MaterializeResult(metadata=_training_metadata(result))

    @dg.asset(
        key=PERSON_MAP,
        group_name="identity",
        # the model is a soft input: the daily job reuses the current version, never trains it
        deps=[*inputs, SPLINK_MODEL],
        kinds={"splink", "duckdb"},
        description=(
            "One row per person record and per logged-in cookie with its persistent person_id. "
            "Deterministic links on shared identifiers (guarded against households and twins), then "
            "a Splink model for the rest, clustered into people. Also writes identity.person_links "
            "and identity.blocked_links, replaces identity.match_audit (every refusal and rule "
            "override, values hashed) and appends id changes to identity.person_id_history. "
            "Rules: config/identity.yml."
        ),
    )
    def person_map(
        context: dg.AssetExecutionContext, config: IdentityConfig, duckdb: DuckDBResource
    ) -> dg.MaterializeResult:
        settings = IdentitySettings.from_env()
        paths = get_paths()
        with duckdb.get_connection() as con:
            version = training.usable_version(paths.model_dir, settings)
            trained = None
            if config.retrain or version is None:  # bootstrap on a first run, or asked
                trained = training.train_model(con, paths.model_dir, settings)
                version = trained.version if trained else version
            # no model (too few records to train): a missing file means deterministic links only
            model_path = version.path if version else paths.model_dir / training.LEGACY_MODEL
            stats = resolve_identities(
                con,
                model_path,
                settings,
                retrain=False,
                full_relink=config.full_relink,
                run_id=context.run.run_id,
            )
            preview = con.execute(LARGEST_PEOPLE_SQL).df()
            explain_report = _explain_sample(
                con, model_path, paths.data_dir, settings, refresh=stats.link_mode == "full"
            )
        context.log.info(
            f"{stats.records:,} records + {stats.cookies:,} cookies -> {stats.persons:,} people "
            f"(model {version.version if version else 'none'})"
        )
        extra: dict[str, dg.MetadataValue] = model_metadata(version) if version else {}
        if trained is not None:
            extra.update(_training_metadata(trained))
            # the version trained here is also the training asset's latest materialisation
            context.log_event(
                dg.AssetMaterialization(
                    asset_key=SPLINK_MODEL,
                    description="trained by identity/person_map (first run or retrain=True)",
                    metadata=_training_metadata(trained),
                )
            )
        if explain_report is not None:
            extra["explain_sample"] = dg.MetadataValue.path(str(explain_report))
        return dg.MaterializeResult(
            metadata={
                **extra,
                "dagster/row_count": stats.records + stats.cookies,
                "records": stats.records,
                "cookies_linked": stats.cookies,
                "people": stats.persons,
                "match_rate": round(stats.match_rate, 4),
                "deterministic_links": stats.deterministic_links,
                "splink_links": stats.splink_links,
                "blocked_links": stats.blocked_links,
                "match_audit_rows": dg.MetadataValue.json(stats.audit),
                "person_id_changes": dg.MetadataValue.json(stats.id_history),
                "comparisons": stats.comparisons,
                "link_mode": stats.link_mode,
                "link_mode_reason": stats.link_mode_reason,
                "rescored_records": stats.new_records + stats.changed_records,
                "kept_persons": stats.kept_persons,
                "kept_apart_edges": stats.kept_apart_edges,
                "model_trained": trained is not None or stats.model_trained,
                "cluster_size_distribution": dg.MetadataValue.json(
                    {str(k): v for k, v in stats.cluster_size_distribution.items()}
                ),
                "seconds_per_phase": dg.MetadataValue.json(
                    {k: round(v, 2) for k, v in stats.seconds.items()}
                ),
                "largest_people": dg.MetadataValue.md(preview.to_markdown(index=False)),
            }
        )

    return [splink_model, person_map]


def _explain_sample(
    con: duckdb_lib.DuckDBPyConnection,
    model_path: Path,
    data_dir: Path,
    settings: IdentitySettings,
    refresh: bool = True,
) -> Path | None:
    """Write the explain report of a few Splink-linked persons; None (and a warning) on failure.

    With `refresh` False (an incremental day) an existing report is kept: it is rewritten by
    every full re-link, and it is only a sample (`cdp explain` explains any person today).
    """
    out = data_dir / "reports" / "identity_explain_sample.md"
    persons = int(os.environ.get(EXPLAIN_SAMPLE_ENV, "3") or 0)
    if persons <= 0:
        return None
    if not refresh and out.is_file():
        return out
    started = time.perf_counter()
    try:
        n = explain_report.write_sample_report(con, model_path, out, settings, persons=persons)
    except Exception as err:  # an auxiliary report must not fail the linkage
        logger.warning("identity: explain sample not written: %s", type(err).__name__)
        return None
    logger.info("identity: explain sample (%d persons) in %.1f s", n, time.perf_counter() - started)
    return out if n else None


def build_identity_checks() -> list[dg.AssetChecksDefinition]:
    @dg.asset_check(
        asset=PERSON_MAP, blocking=True, description="Every record maps to exactly one person."
    )
    def every_record_has_one_person(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        with duckdb.get_connection() as con:
            missing, duplicated = con.execute(
                "select (select count(*) from identity.int_person_records_unioned "
                "        anti join identity.person_map using (record_key)), "
                # distinct 64-bit hashes count faster than distinct strings
                "       (select count(*) - count(distinct hash(record_key)) "
                "        from identity.person_map)"
            ).fetchall()[0]
            if duplicated:  # equal hashes: a record on several rows, or rarely a collision
                duplicated = con.execute(
                    "select count(*) from (select record_key from identity.person_map "
                    "group by 1 having count(*) > 1)"
                ).fetchall()[0][0]
        return dg.AssetCheckResult(
            passed=missing == 0 and duplicated == 0,
            metadata={"unmapped_records": missing, "records_on_several_rows": duplicated},
        )

    @dg.asset_check(
        asset=PERSON_MAP,
        description="No person is an implausibly large cluster (over-merging guard).",
    )
    def cluster_size_within_cap(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        cap = IdentitySettings.from_env().max_cluster_size
        with duckdb.get_connection() as con:
            # every person record row carries its person's record count
            largest = con.execute(
                "select coalesce(max(cluster_size), 0) from identity.person_map "
                f"where source <> '{COOKIE_SOURCE}'"
            ).fetchall()[0][0]
        return dg.AssetCheckResult(
            passed=cap <= 0 or largest <= cap,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"largest_cluster": largest, "cap": cap},
        )

    return [every_record_has_one_person, cluster_size_within_cap]
