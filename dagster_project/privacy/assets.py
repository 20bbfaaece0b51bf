"""The privacy asset: purge erased people from the tables that survive runs."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.privacy.erasure import PENDING_EXIT_SCHEMAS, REBUILT_SCHEMAS, purge_erased
from dagster_project.privacy.suppression import (
    SuppressionKeyError,
    load_suppression_list,
    suppression_key,
)

ERASURE_KEY = dg.AssetKey(["privacy", "erasure"])


def build_privacy_assets(upstream: list[dg.AssetKey]) -> list[dg.AssetsDefinition]:
    """`upstream`: every asset that must run first (the serving copy follows; deliveries may run
    in any order, a failed destination must not hold back the purge)."""

    @dg.asset(
        key=ERASURE_KEY,
        group_name="privacy",
        deps=upstream,
        kinds={"duckdb"},
        description=(
            "Deletes the rows of erased people (the suppression list of `cdp forget`) from every "
            "warehouse table with identifier columns (person_id, record_key, source_record_id, "
            "cookie_id, account_id, email, phone, ...; found through information_schema) outside "
            f"the schemas rebuilt from the suppressed files ({', '.join(REBUILT_SCHEMAS)}), and "
            "from the quarantine, before the serving copy is published. Delivery state "
            f"({', '.join(PENDING_EXIT_SCHEMAS)}) is left to the deliveries: the one that sends an "
            "erased member's exit removes it, so no destination keeps an erased person."
        ),
    )
    def erasure(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
        suppression = load_suppression_list()
        try:
            key = suppression_key() if suppression else b""
        except SuppressionKeyError as exc:
            raise dg.Failure(description=str(exc)) from exc
        with duckdb.get_connection() as con:
            result = purge_erased(
                con, suppression, key, skip_schemas=REBUILT_SCHEMAS + PENDING_EXIT_SCHEMAS
            )
        if result.deleted:
            context.log.info(f"purged {sum(result.deleted.values())} rows of erased people")
        return dg.MaterializeResult(
            metadata={
                "erasure_requests": suppression.requests,
                "rows_deleted": sum(result.deleted.values()),
                "rows_deleted_per_table": dg.MetadataValue.json(result.deleted),
                "tables_scanned": result.tables_scanned,
                "values_hashed": result.values_hashed,
                "seconds": round(result.seconds, 2),
            }
        )

    return [erasure]
