"""Build audience tables in DuckDB, record their sizes, and preview audiences read-only.

`build_audience` writes `audiences.<name>` with one CREATE OR REPLACE TABLE ... AS, records who
entered and left in `audiences.membership_history` and appends one row to
`audiences.audience_size_history`, all in a single transaction.
`preview_audience` only runs SELECTs.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb

from dagster_project.audiences.compile import (
    PROFILES_TABLE,
    audience_sql,
    key_columns,
    overlaps_sql,
    quote_ident_sql,
    resolve_as_of,
    stage_counts_sql,
    table_sql,
    utc_now,
)
from dagster_project.audiences.history import ensure_membership_table, update_membership_history
from dagster_project.audiences.mask import mask_record
from dagster_project.audiences.spec import (
    RESERVED_NAMES,
    AudienceConfig,
    AudienceSpec,
    AudienceSpecError,
)

logger = logging.getLogger(__name__)

SCHEMA = "audiences"
HISTORY_TABLE = f"{SCHEMA}.audience_size_history"
HISTORY_DDL = f"""
CREATE TABLE IF NOT EXISTS {HISTORY_TABLE} (
    run_id VARCHAR NOT NULL,
    audience_name VARCHAR NOT NULL,
    computed_at TIMESTAMP NOT NULL,
    as_of DATE NOT NULL,
    size BIGINT NOT NULL,
    size_before_consent BIGINT NOT NULL,
    size_before_exclusions BIGINT NOT NULL,
    entered BIGINT,
    exited BIGINT
)
"""
# Columns added after the first release; ALTER keeps older warehouses working.
HISTORY_MIGRATIONS = (
    f"ALTER TABLE {HISTORY_TABLE} ADD COLUMN IF NOT EXISTS entered BIGINT",
    f"ALTER TABLE {HISTORY_TABLE} ADD COLUMN IF NOT EXISTS exited BIGINT",
)


@dataclass(frozen=True)
class AudienceResult:
    """Outcome of one audience build.

    Attributes:
        name: Audience name.
        table: Table written (`audiences.<name>`).
        run_id: Run identifier recorded in the size history.
        as_of: Reference date.
        computed_at: Timestamp stored in the table and the history (UTC).
        size: Rows in the table (person x category pairs for per-category audiences).
        size_before_consent: Rows matching the rule, before the consent filter.
        size_before_exclusions: Rows after the consent filter, before exclusions.
        persons: Distinct people in the table.
        entered: Members (rows of the grain) who were not members after the previous build.
        exited: Former members who are no longer in the audience.
    """

    name: str
    table: str
    run_id: str
    as_of: date
    computed_at: datetime
    size: int
    size_before_consent: int
    size_before_exclusions: int
    persons: int
    entered: int = 0
    exited: int = 0


def ensure_audience_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the `audiences` schema, the size history and the membership history if missing."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    con.execute(HISTORY_DDL)
    for statement in HISTORY_MIGRATIONS:
        con.execute(statement)
    ensure_membership_table(con)


def validate_against_database(
    con: duckdb.DuckDBPyConnection, spec: AudienceSpec, as_of: date | str | None = None
) -> None:
    """Check that the compiled audience runs against the real tables (DuckDB EXPLAIN).

    This catches what the load-time checks cannot: column types (e.g. a profile expression
    comparing a DATE with text) and contract drift in `marts.*`.

    Raises:
        AudienceSpecError: Naming the audience and DuckDB's message.
    """
    as_of = resolve_as_of(as_of)
    profile_columns = {
        row[0]
        for row in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ?",
            PROFILES_TABLE.split("."),
        ).fetchall()
    }
    if not profile_columns:
        raise AudienceSpecError(f"audience {spec.name!r}: table {PROFILES_TABLE} does not exist")
    needed = set(spec.fields) | {"person_id"} | ({spec.consent_column} - {None})
    missing = sorted(needed - profile_columns)
    if missing:
        raise AudienceSpecError(f"audience {spec.name!r}: {PROFILES_TABLE} lacks columns {missing}")
    try:
        con.execute(f"EXPLAIN {audience_sql(spec, as_of)}").fetchall()
    except duckdb.Error as exc:
        raise AudienceSpecError(
            f"audience {spec.name!r}: compiled SQL does not run against the database "
            f"(check rule.profile {spec.rule.profile!r}): {exc}"
        ) from exc


def build_audience(
    con: duckdb.DuckDBPyConnection,
    spec: AudienceSpec,
    as_of: date | str | None = None,
    run_id: str | None = None,
) -> AudienceResult:
    """Materialise `audiences.<name>` and append its sizes to the history.

    Args:
        con: DuckDB connection with `marts.customer_profiles` and `marts.customer_events`.
        spec: The audience (loaded with `load_audiences`, so exclusions are resolved).
        as_of: Reference date; default `CDP_AS_OF` or today.
        run_id: Identifier of the run (e.g. the Dagster run id); default a random uuid.

    Returns:
        The sizes and metadata of the build.

    Raises:
        AudienceSpecError: If the compiled SQL does not run against the database.
    """
    as_of = resolve_as_of(as_of)
    run_id = run_id or uuid.uuid4().hex
    computed_at = utc_now()
    validate_against_database(con, spec, as_of)
    table = table_sql(spec)

    con.execute("BEGIN TRANSACTION")
    try:
        ensure_audience_schema(con)
        before_consent, before_exclusions, _, persons = con.execute(
            stage_counts_sql(spec, as_of)
        ).fetchone()
        con.execute(f"CREATE OR REPLACE TABLE {table} AS\n{audience_sql(spec, as_of, computed_at)}")
        (size,) = con.execute(f"SELECT count(*) FROM {table}").fetchone()
        changes = update_membership_history(
            con, spec.name, table, run_id, computed_at, per_category=spec.per_category
        )
        con.execute(
            f"INSERT INTO {HISTORY_TABLE} (run_id, audience_name, computed_at, as_of, size, "
            "size_before_consent, size_before_exclusions, entered, exited) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id, spec.name, computed_at, as_of, size, before_consent, before_exclusions,
                changes.entered, changes.exited,
            ],
        )  # fmt: skip
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        logger.exception("building audience %s failed; rolled back", spec.name)
        raise

    result = AudienceResult(
        name=spec.name,
        table=f"{SCHEMA}.{spec.name}",
        run_id=run_id,
        as_of=as_of,
        computed_at=computed_at,
        size=int(size),
        size_before_consent=int(before_consent),
        size_before_exclusions=int(before_exclusions),
        persons=int(persons),
        entered=changes.entered,
        exited=changes.exited,
    )
    logger.info(
        "built %s as_of %s: %d rows (%d before consent, %d before exclusions), "
        "%d entered, %d exited",
        result.table, as_of, result.size, result.size_before_consent,
        result.size_before_exclusions, result.entered, result.exited,
    )  # fmt: skip
    return result


def build_audiences(
    con: duckdb.DuckDBPyConnection,
    config: AudienceConfig,
    as_of: date | str | None = None,
    run_id: str | None = None,
    only: Iterable[str] | None = None,
) -> list[AudienceResult]:
    """Build several audiences in dependency order (excluded audiences first).

    Args:
        con: DuckDB connection.
        config: Loaded spec.
        as_of: Reference date shared by all audiences of the run.
        run_id: Run identifier shared by all history rows; default a random uuid.
        only: Names to build (default all).

    Returns:
        One result per audience built, in build order.
    """
    as_of = resolve_as_of(as_of)
    run_id = run_id or uuid.uuid4().hex
    wanted = set(only) if only is not None else None
    if wanted is not None:
        unknown = wanted - set(config.names)
        if unknown:
            raise KeyError(f"unknown audiences {sorted(unknown)}")
    return [
        build_audience(con, spec, as_of, run_id)
        for spec in config
        if wanted is None or spec.name in wanted
    ]


def preview_audience(
    con: duckdb.DuckDBPyConnection,
    spec: AudienceSpec,
    as_of: date | str | None = None,
    *,
    others: Iterable[AudienceSpec] | None = None,
    sample_size: int = 5,
) -> dict[str, Any]:
    """Describe an audience without writing anything (SELECTs only).

    Args:
        con: DuckDB connection (may be read-only).
        spec: The audience.
        as_of: Reference date; default `CDP_AS_OF` or today.
        others: Audiences to compute overlaps with, at the same `as_of`. When None, overlaps
            are taken against the audience tables that already exist in the database.
        sample_size: Number of sample rows.

    Returns:
        A dict with name, as_of, consent, sizes (before consent, before exclusions, final),
        persons, a masked sample, `overlaps` (audience name -> people in both) and
        `overlap_shares` (that count as a share of this audience's people).
    """
    as_of = resolve_as_of(as_of)
    validate_against_database(con, spec, as_of)
    before_consent, before_exclusions, size, persons = con.execute(
        stage_counts_sql(spec, as_of)
    ).fetchone()
    cursor = con.execute(f"SELECT * FROM ({audience_sql(spec, as_of)}) LIMIT {int(sample_size)}")
    columns = [d[0] for d in cursor.description]
    hidden = {"audience_name", "computed_at"}
    sample = [
        mask_record({c: _plain(v) for c, v in zip(columns, row, strict=True) if c not in hidden})
        for row in cursor.fetchall()
    ]

    if others is not None:
        overlaps = audience_overlaps(con, spec, as_of, others=others)
        source = "computed"
    else:
        tables = {
            name: f"{SCHEMA}.{quote_ident_sql(name)}" for name in _existing_audience_tables(con)
        }
        overlaps = audience_overlaps(con, spec, as_of, tables=tables)
        source = "tables"
    shares = {name: round(n / persons, 4) if persons else 0.0 for name, n in overlaps.items()}

    logger.info("previewed %s as_of %s: %d rows", spec.name, as_of, size)
    return {
        "name": spec.name,
        "description": spec.description,
        "as_of": as_of.isoformat(),
        "consent": spec.consent,
        "grain": key_columns(spec),
        "size_before_consent": int(before_consent),
        "size_before_exclusions": int(before_exclusions),
        "size": int(size),
        "persons": int(persons),
        "sample": sample,
        "overlaps": overlaps,
        "overlap_shares": shares,
        "overlap_source": source,
    }


def audience_overlaps(
    con: duckdb.DuckDBPyConnection,
    spec: AudienceSpec,
    as_of: date | str | None = None,
    *,
    others: Iterable[AudienceSpec] | None = None,
    tables: dict[str, str] | None = None,
    self_table: str | None = None,
) -> dict[str, int]:
    """People of `spec` (at `as_of`) who are also in each other audience, by audience name.

    Args:
        con: DuckDB connection (may be read-only).
        spec: The audience.
        as_of: Reference date; default `CDP_AS_OF` or today.
        others: Audiences compiled at the same `as_of` (the audience itself is skipped).
        tables: Audience name -> existing table to compare with instead.
        self_table: A table holding `spec`'s members at `as_of` (e.g. just built), read
            instead of compiling `spec` again.
    """
    as_of = resolve_as_of(as_of)
    sql = overlaps_sql(spec, list(others or []), tables, as_of, self_table)
    counts = dict(con.execute(sql).fetchall())
    order = [o.name for o in others or []] + list(tables or {})
    return {name: int(counts[name]) for name in order if name in counts}


def _existing_audience_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of audience tables (tables of the audiences schema with a person_id column)."""
    rows = con.execute(
        "SELECT DISTINCT table_name FROM information_schema.columns "
        "WHERE table_schema = ? AND column_name = 'person_id' ORDER BY table_name",
        [SCHEMA],
    ).fetchall()
    return [r[0] for r in rows if r[0] not in RESERVED_NAMES]


def _plain(value: Any) -> Any:
    """Make a DuckDB value JSON friendly (dates as ISO strings, decimals as floats)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value
