"""Audience membership history: who entered and who left each audience, run by run.

`audiences.membership_history` holds one row per stay of a person (x category) in an audience:
`entered_at`/`entered_run_id` when the row was opened, `exited_at`/`exited_run_id` when the
person was no longer a member (NULL while a member). Leaving and coming back opens a new row.
`category` is NULL for audiences whose grain is the person.

Identity merges: when `identity.person_id_history` exists, open rows of an absorbed person id
(kind `merge`) are moved to the surviving id (`old_person_id` keeps the previous one) instead of
an exit and an entry; if the survivor already had an open row, the moved row is closed with
`exit_reason = 'merged'`. Splits need no remapping: the part that keeps the id keeps its rows,
the other parts enter under their new ids. Without that table a merge shows as exit + entry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import duckdb

from dagster_project.audiences.compile import quote_literal_sql
from dagster_project.warehouse import table_columns

logger = logging.getLogger(__name__)

MEMBERSHIP_TABLE = "audiences.membership_history"
PERSON_ID_HISTORY = ("identity", "person_id_history")
MEMBERSHIP_DDL = f"""
CREATE TABLE IF NOT EXISTS {MEMBERSHIP_TABLE} (
    membership_id VARCHAR NOT NULL,
    audience VARCHAR NOT NULL,
    person_id VARCHAR NOT NULL,
    category VARCHAR,
    entered_at TIMESTAMP NOT NULL,
    exited_at TIMESTAMP,
    entered_run_id VARCHAR NOT NULL,
    exited_run_id VARCHAR,
    exit_reason VARCHAR,
    old_person_id VARCHAR
)
"""
# Chains of merges (a -> b, later b -> c) are followed at most this many steps per run.
_MAX_REMAP_STEPS = 20


@dataclass(frozen=True)
class MembershipChanges:
    """Rows opened and closed by one update of one audience."""

    entered: int
    exited: int
    remapped: int
    merged: int


def ensure_membership_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create `audiences.membership_history` if missing (the schema must exist)."""
    con.execute(MEMBERSHIP_DDL)


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> int:
    """Run a DML statement and return the number of rows it changed."""
    row = con.execute(sql, params or []).fetchone()
    return int(row[0]) if row else 0


def remap_merged_person_ids(
    con: duckdb.DuckDBPyConnection, audience: str, run_id: str, now: datetime
) -> tuple[int, int]:
    """Move open rows of absorbed person ids to the surviving id.

    Only merges recorded after the row was opened apply (`changed_at >= entered_at`, when the
    history has `changed_at`), so an id that is minted again later is not remapped by mistake.

    Returns:
        (rows moved, rows closed because the survivor already had an open row).
    """
    columns = table_columns(con, *PERSON_ID_HISTORY)
    if not {"kind", "old_person_id", "new_person_id"} <= columns:
        return 0, 0
    table = ".".join(PERSON_ID_HISTORY)
    when = "min(changed_at)" if "changed_at" in columns else "NULL::TIMESTAMP"
    guard = "AND (m.changed_at IS NULL OR m.changed_at >= h.entered_at)"
    moved = 0
    for _ in range(_MAX_REMAP_STEPS):
        step = _count(
            con,
            f"""
            UPDATE {MEMBERSHIP_TABLE} AS h
            SET person_id = m.new_person_id, old_person_id = h.person_id
            FROM (
                SELECT old_person_id, min(new_person_id) AS new_person_id, {when} AS changed_at
                FROM {table}
                WHERE kind = 'merge' AND old_person_id <> new_person_id
                GROUP BY old_person_id
            ) AS m
            WHERE h.audience = ? AND h.exited_at IS NULL
              AND h.person_id = m.old_person_id {guard}
            """,
            [audience],
        )
        moved += step
        if step == 0:
            break
    merged = 0
    if moved:
        # Two stays of one person now: keep the earliest open row, close the others.
        merged = _count(
            con,
            f"""
            UPDATE {MEMBERSHIP_TABLE} AS h
            SET exited_at = ?, exited_run_id = ?, exit_reason = 'merged'
            FROM (
                SELECT membership_id, row_number() OVER (
                    PARTITION BY person_id, category ORDER BY entered_at, membership_id
                ) AS n
                FROM {MEMBERSHIP_TABLE}
                WHERE audience = ? AND exited_at IS NULL
            ) AS d
            WHERE h.membership_id = d.membership_id AND d.n > 1
            """,
            [now, run_id, audience],
        )
    return moved, merged


def update_membership_history(
    con: duckdb.DuckDBPyConnection,
    audience: str,
    members_table: str,
    run_id: str,
    now: datetime,
    per_category: bool = False,
) -> MembershipChanges:
    """Compare the audience's new members with the open history rows and record the changes.

    Call inside the transaction that rebuilt `members_table`.

    Args:
        con: DuckDB connection.
        audience: Audience name.
        members_table: Quoted table holding the new members (person_id[, category]).
        run_id: Run identifier stored on opened and closed rows.
        now: Timestamp stored as entered_at / exited_at.
        per_category: Whether the grain is person x category.

    Returns:
        How many rows were opened (entered), closed (exited), remapped and closed by a merge.
    """
    ensure_membership_table(con)
    moved, merged = remap_merged_person_ids(con, audience, run_id, now)
    category = "category" if per_category else "NULL::VARCHAR"
    same = "t.person_id = h.person_id AND t.category IS NOT DISTINCT FROM h.category"
    if not per_category:
        same = "t.person_id = h.person_id AND h.category IS NULL"
    exited = _count(
        con,
        f"""
        UPDATE {MEMBERSHIP_TABLE} AS h
        SET exited_at = ?, exited_run_id = ?, exit_reason = 'left'
        WHERE h.audience = ? AND h.exited_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM {members_table} AS t WHERE {same})
        """,
        [now, run_id, audience],
    )
    name = quote_literal_sql(audience)
    entered = _count(
        con,
        f"""
        INSERT INTO {MEMBERSHIP_TABLE} (membership_id, audience, person_id, category,
            entered_at, entered_run_id)
        SELECT md5(concat_ws('|', {name}, t.person_id, coalesce(t.category, ''), ?)),
            {name}, t.person_id, t.category, ?, ?
        FROM (SELECT DISTINCT person_id, {category} AS category FROM {members_table}) AS t
        WHERE NOT EXISTS (
            SELECT 1 FROM {MEMBERSHIP_TABLE} AS h
            WHERE h.audience = {name} AND h.exited_at IS NULL AND {same}
        )
        """,
        [run_id, now, run_id],
    )
    logger.info(
        "membership history of %s: %d entered, %d exited, %d remapped after merges (%d closed)",
        audience, entered, exited, moved, merged,
    )  # fmt: skip
    return MembershipChanges(entered=entered, exited=exited, remapped=moved, merged=merged)
