"""The daily state an identity run leaves for the next one, written in one transaction.

The tables are described in `incremental` (match_records, scored_pairs, match_state,
match_components, match_edges) and `deterministic` (match_identifier_pairs). After an
incremental day they are updated in place: only the rows of new, changed and deleted
records, of re-scored pairs and of redone components and identifier groups are replaced,
which at a million records costs a fraction of rewriting them.
"""

from __future__ import annotations

import duckdb

from dagster_project.identity.deterministic import STATE_COLUMNS as DET_COLUMNS
from dagster_project.identity.deterministic import STATE_PAIRS as DET_STATE_PAIRS
from dagster_project.identity.incremental import (
    SCORED_COLUMNS,
    STATE_COMPONENTS,
    STATE_EDGES,
    STATE_META,
    STATE_PAIRS,
    STATE_RECORDS,
    carried_pairs_sql,
)
from dagster_project.identity.outputs import Warehouse

# Whole-data counts left out of match_records: one new 'jan' moves every 'jan' row's count,
# so storing them would mean updating many rows a day, and no reader of the state needs them
# (Splink never reads them; `prepare_records` counts them again every run).
NOT_STORED = ("first_name_freq",)


def deterministic_state(
    cur: duckdb.DuckDBPyConnection, wh: Warehouse, signature: str
) -> str | None:
    """Yesterday's judged identifier pairs when reusable today (`deterministic.STATE_PAIRS`).

    Args:
        cur: Cursor on the scratch catalog.
        wh: The warehouse location.
        signature: `deterministic.state_signature` of this run, compared with the one
            `write_state` stored beside the pairs.

    Returns:
        str | None: The qualified state table, or None (judge every identifier group).
    """
    if not wh.exists(cur, DET_STATE_PAIRS) or not wh.exists(cur, STATE_META):
        return None
    columns = {
        r[0]
        for r in cur.execute(
            f"select column_name from (describe {wh.table(STATE_META)})"
        ).fetchall()
    }
    if "det_signature" not in columns:  # written before the pairs were kept
        return None
    stored = cur.execute(f"select max(det_signature) from {wh.table(STATE_META)}").fetchall()[0][0]
    return wh.table(DET_STATE_PAIRS) if stored == signature else None


def write_state(
    cur: duckdb.DuckDBPyConnection,
    wh: Warehouse,
    records_table: str,
    scored_table: str,
    signature: str,
    delta_table: str | None = None,
    components_table: str | None = None,
    edges_table: str | None = None,
    scope_table: str | None = None,
    det_pairs: tuple[str, str, bool] | None = None,
    pairs_in_place: str | None = None,
) -> None:
    """Replace match_records, scored_pairs, match_state (and clustering state) in one transaction.

    Args:
        cur: Cursor on the scratch catalog.
        wh: The warehouse location.
        records_table: Today's prepared records.
        scored_table: Today's Splink pairs at or above `state_threshold`, before guards.
        signature: `state_signature` of this run.
        delta_table: After an incremental run, the records whose fingerprint or input hash
            changed (`plan_link`'s two deltas): only their rows of match_records are
            replaced rather than the table rewritten, which is most of this step's cost at
            1M records.
        components_table: Today's connected components (record_key, component_id), stored
            as match_components with `edges_table`'s edge keys as match_edges; both are
            dropped when None (so a later run never pairs stale components with new edges).
        edges_table: Today's accepted edges after rules, before the clustering guard.
        scope_table: On a scoped incremental day (`clustering.cluster_records`), the
            records of the redone components: `components_table` holds only them, and only
            their rows of match_components and match_edges are replaced (no edge joins a
            redone component to another, and the others are as yesterday).
        det_pairs: (the run's `deterministic` judged pairs table, its signature, whether
            they were judged incrementally): stored as `DET_STATE_PAIRS`, in place after an
            incremental judgement (`<table>_touched` groups replaced by `<table>_new`);
            None drops the stored pairs.
        pairs_in_place: After `score_incremental` with kept records, its `uncarried_keys`
            table: the stored pairs it carried stay, the others are replaced by
            `scored_table`'s uncarried rows; None rewrites scored_pairs from `scored_table`.
    """
    cur.execute(f'create schema if not exists "{wh.catalog}"."{wh.schema}"')
    cur.execute("begin transaction")
    try:
        if delta_table is None:
            cur.execute(f"""
                create or replace table {wh.table(STATE_RECORDS)} as
                select {_stored_columns(cur, records_table)} from {records_table} as r
            """)
        else:
            _update_state_records(cur, wh.table(STATE_RECORDS), records_table, delta_table)
        if pairs_in_place is not None:
            carried = carried_pairs_sql(pairs_in_place, "p")
            cur.execute(f"delete from {wh.table(STATE_PAIRS)} as p where not {carried}")
            cur.execute(f"""
                insert into {wh.table(STATE_PAIRS)}
                select {SCORED_COLUMNS} from {scored_table} where not carried
            """)
        else:
            cur.execute(f"""
                create or replace table {wh.table(STATE_PAIRS)} as
                select {SCORED_COLUMNS} from {scored_table}
            """)
        if components_table is not None and edges_table is not None and scope_table:
            in_scope = f"in (select record_key from {scope_table})"
            cur.execute(f"delete from {wh.table(STATE_COMPONENTS)} where record_key {in_scope}")
            cur.execute(f"""
                insert into {wh.table(STATE_COMPONENTS)}
                select record_key, component_id from {components_table}
            """)
            cur.execute(f"""
                delete from {wh.table(STATE_EDGES)}
                where record_key_l {in_scope} or record_key_r {in_scope}
            """)
            cur.execute(f"""
                insert into {wh.table(STATE_EDGES)}
                select distinct record_key_l, record_key_r from {edges_table}
                where record_key_l {in_scope}
            """)
        elif components_table is not None and edges_table is not None:
            cur.execute(f"""
                create or replace table {wh.table(STATE_COMPONENTS)} as
                select record_key, component_id from {components_table}
            """)
            cur.execute(f"""
                create or replace table {wh.table(STATE_EDGES)} as
                select distinct record_key_l, record_key_r from {edges_table}
            """)
        else:
            for name in (STATE_COMPONENTS, STATE_EDGES):
                cur.execute(f"drop table if exists {wh.table(name)}")
        det_signature = _write_det_pairs(cur, wh, det_pairs)
        cur.execute(
            f"create or replace table {wh.table(STATE_META)} as "
            "select ? as signature, current_timestamp as written_at, ? as det_signature",
            [signature, det_signature],
        )
        cur.execute("commit")
    except Exception:
        cur.execute("rollback")
        raise


def _write_det_pairs(
    cur: duckdb.DuckDBPyConnection, wh: Warehouse, det_pairs: tuple[str, str, bool] | None
) -> str | None:
    """Store the deterministic judged pairs (see `write_state`); return their signature."""
    state = wh.table(DET_STATE_PAIRS)
    if det_pairs is None:
        cur.execute(f"drop table if exists {state}")
        return None
    judged, det_signature, in_place = det_pairs
    if in_place:
        cur.execute(f"""
            delete from {state} as s using {judged}_touched as t
            where s.rule = t.rule and s.value_hash = t.value_hash
        """)
        cur.execute(f"insert into {state} select {DET_COLUMNS} from {judged}_new")
    else:
        cur.execute(f"create or replace table {state} as select {DET_COLUMNS} from {judged}")
    return det_signature


def _stored_columns(cur: duckdb.DuckDBPyConnection, records_table: str) -> str:
    """Select list of `records_table` (alias r) without the `NOT_STORED` columns."""
    names = [
        r[0] for r in cur.execute(f"select column_name from (describe {records_table})").fetchall()
    ]
    return ", ".join(f'r."{n}"' for n in names if n not in NOT_STORED)


def _update_state_records(
    cur: duckdb.DuckDBPyConnection, state: str, records_table: str, delta: str
) -> None:
    """Replace the rows of the records in `delta` (all other rows are as yesterday)."""
    cur.execute(f"delete from {state} where record_key in (select record_key from {delta})")
    cur.execute(f"""
        insert into {state} by name
        select {_stored_columns(cur, records_table)} from {records_table} as r
        semi join {delta} as d using (record_key)
    """)
