"""Persistent person ids: carry ids over from the previous run, mint deterministic new ones.

Rules, applied by `assign_person_ids_sql`-style steps on DuckDB:

1. Each new cluster votes for the previous person ids of its records (count per id).
2. Clusters and old ids are matched in rounds: every unmatched cluster proposes the oldest
   old id among its records (first seen earliest in identity.person_id_history; ids older
   than the history count as oldest; ties: the id held by most of its records, then the
   smallest id); every proposed id goes to the proposing cluster that holds most of its
   records (ties: the cluster it makes up the larger share of, then the smallest anchor). A cluster that lost its first choice
   proposes its next one in the following round. So an old id is inherited by at most one
   cluster, a merge keeps the id of the older person (without history: the larger one) and
   a split leaves the id with the part holding most of its records.
3. A cluster without an inherited id gets 'P' + the first 12 hex digits of md5 of its
   anchor (smallest record_key). If that id is already taken (inherited this run, or ever
   used in the previous map, e.g. a retired id), md5(anchor || '#' || n) is tried for
   n = 1, 2, ... So identical input gives identical ids, even on a fresh warehouse.
4. Every change is listed (`changes_table`) for identity.person_id_history: 'merge' (old id
   no longer used, its records now under new id), 'split' (records left an id that lives
   on), 'new' (a person without any previous record). Identical input lists nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import duckdb
import pandas as pd

logger = logging.getLogger(__name__)

MAX_MATCHING_ROUNDS = 100


@dataclass(frozen=True)
class PersonIdStats:
    """What happened to ids in one assignment.

    Attributes:
        clusters: Number of clusters that received an id.
        inherited: Clusters that kept a previous person id.
        new: Clusters that got a freshly minted id.
        retired: Previous ids not inherited by any cluster (merged away or deleted).
        rounds: Matching rounds needed.
    """

    clusters: int
    inherited: int
    new: int
    retired: int
    rounds: int


def new_person_id_sql(anchor_expr: str, salt_expr: str = "0") -> str:
    """SQL for a minted id: 'P' + 12 hex of md5(anchor), salted when salt > 0.

    Args:
        anchor_expr: SQL expression of the anchor record_key.
        salt_expr: SQL expression of the integer salt.

    Returns:
        str: The SQL expression.
    """
    return (
        f"'P' || substr(md5(case when {salt_expr} = 0 then {anchor_expr} "
        f"else {anchor_expr} || '#' || cast({salt_expr} as varchar) end), 1, 12)"
    )


def assign_person_ids(
    con: duckdb.DuckDBPyConnection,
    clusters_table: str,
    output_table: str,
    previous_table: str | None = None,
    first_seen_table: str | None = None,
    changes_table: str = "person_id_changes",
    reserved_table: str | None = None,
) -> PersonIdStats:
    """Give every cluster a person id, inheriting ids from a previous person map.

    Args:
        con: Connection (or cursor) holding the tables; work tables are TEMP tables.
        clusters_table: Table with columns record_key, cluster_id (one row per record).
        output_table: Table to (re)create with record_key, cluster_id, person_id,
            is_inherited (one row per record).
        previous_table: Table with record_key, person_id of the previous run (person
            records only), or None on a first run.
        first_seen_table: Table with person_id, first_seen (when each id first appeared),
            or None when there is no history.
        changes_table: Table to create: kind ('new', 'merge', 'split'), old_person_id,
            new_person_id, n_records, record_keys (the records that changed id).
        reserved_table: More ids (person_id) a minted id must not equal, when
            `previous_table` is only the part of the previous map being re-assigned (an
            incremental day: the other persons keep their ids).

    Returns:
        PersonIdStats: Counts of inherited, new and retired ids.
    """
    prev = (
        previous_table
        or "(select null::varchar as record_key, null::varchar as person_id where false)"
    )
    seen = (
        first_seen_table
        or "(select null::varchar as person_id, null::timestamp as first_seen where false)"
    )
    # A cluster made of exactly the records of one previous person keeps that id: it is the
    # only cluster voting for it and votes for nothing else, so the matching below would
    # give it that id in its first round. Settling those first keeps the matching (and the
    # change list) to the few clusters that changed: most of an incremental day.
    con.execute(f"""
        create or replace temp table __pid_stable as
        with prev_sizes as (
            select person_id, count(*) as n from {prev}
            where person_id is not null group by person_id
        ),
        per_cluster as (
            select c.cluster_id, count(*) as n, count(p.person_id) as n_prev,
                   min(p.person_id) as person_id, max(p.person_id) as max_person_id
            from {clusters_table} as c left join {prev} as p using (record_key)
            group by c.cluster_id
        )
        select c.cluster_id, c.person_id from per_cluster as c
        join prev_sizes as s using (person_id)
        where c.n = c.n_prev and c.person_id = c.max_person_id and s.n = c.n
    """)
    con.execute(f"""
        create or replace temp table __pid_open as
        select record_key, cluster_id from {clusters_table}
        anti join __pid_stable using (cluster_id)
    """)
    con.execute("""
        create or replace temp table __pid_anchor as
        select cluster_id, min(record_key) as anchor, count(*) as n_records
        from __pid_open group by cluster_id
    """)
    con.execute(f"""
        create or replace temp table __pid_votes as
        select v.*, s.first_seen from (
            select c.cluster_id, p.person_id as old_id, count(*) as n
            from __pid_open as c
            join {prev} as p on c.record_key = p.record_key
            where p.person_id is not null
            group by all
        ) as v left join {seen} as s on s.person_id = v.old_id
    """)
    con.execute("create or replace temp table __pid_taken (cluster_id varchar, person_id varchar)")
    rounds = 0
    while rounds < MAX_MATCHING_ROUNDS:
        rounds += 1
        added = _matching_round(con)
        if added == 0:
            break
    con.execute(f"""
        create or replace temp table __pid_reserved as
        select person_id from __pid_taken
        union select distinct person_id from {prev} where person_id is not null
    """)
    _mint_new_ids(con, reserved_table)
    con.execute(f"""
        create or replace table {output_table} as
        select c.record_key, c.cluster_id,
               coalesce(s.person_id, t.person_id, m.person_id) as person_id,
               s.person_id is not null or t.person_id is not null as is_inherited
        from {clusters_table} as c
        left join __pid_stable as s using (cluster_id)
        left join __pid_taken as t using (cluster_id)
        left join __pid_minted as m using (cluster_id)
    """)
    _list_changes(con, output_table, prev, changes_table)
    clusters, inherited = con.execute(f"""
        select count(distinct cluster_id),
               (select count(*) from __pid_taken) + (select count(*) from __pid_stable)
        from {clusters_table}
    """).fetchall()[0]
    retired = con.execute(f"""
        select count(distinct person_id) from {prev}
        where person_id is not null
          and person_id not in (select person_id from __pid_taken)
          and person_id not in (select person_id from __pid_stable)
    """).fetchall()[0][0]
    for name in ("anchor", "votes", "taken", "reserved", "minted", "stable", "open"):
        con.execute(f"drop table if exists __pid_{name}")
    stats = PersonIdStats(clusters, inherited, clusters - inherited, retired, rounds)
    logger.info(
        "person ids: %d clusters, %d inherited, %d new, %d retired (%d matching rounds)",
        stats.clusters,
        stats.inherited,
        stats.new,
        stats.retired,
        stats.rounds,
    )
    return stats


def _matching_round(con: duckdb.DuckDBPyConnection) -> int:
    """Run one propose/accept round; return the number of clusters matched."""
    before = con.execute("select count(*) from __pid_taken").fetchall()[0][0]
    con.execute("""
        insert into __pid_taken
        with open_votes as (
            select v.cluster_id, v.old_id, v.n, v.first_seen, a.anchor, a.n_records
            from __pid_votes as v
            join __pid_anchor as a using (cluster_id)
            where v.cluster_id not in (select cluster_id from __pid_taken)
              and v.old_id not in (select person_id from __pid_taken)
        ),
        proposals as (
            select * from open_votes
            qualify row_number() over (
                partition by cluster_id order by first_seen nulls first, n desc, old_id) = 1
        )
        select cluster_id, old_id from proposals
        qualify row_number() over (
            partition by old_id order by n desc, n / n_records desc, anchor) = 1
    """)
    return con.execute("select count(*) from __pid_taken").fetchall()[0][0] - before


def _list_changes(con: duckdb.DuckDBPyConnection, output: str, prev: str, changes: str) -> None:
    """Create `changes`: one row per (old id, new id) flow of records, and per new person."""
    con.execute(f"""
        create or replace table {changes} as
        with flows as (
            select p.person_id as old_person_id, o.person_id as new_person_id,
                   count(*) as n_records, list(o.record_key order by o.record_key) as record_keys
            from {output} as o semi join __pid_open as x using (record_key)
            join {prev} as p using (record_key)
            where p.person_id is not null and p.person_id <> o.person_id
            group by all
        ),
        fresh as (
            select null::varchar as old_person_id, o.person_id as new_person_id,
                   count(*) as n_records, list(o.record_key order by o.record_key) as record_keys
            from {output} as o semi join __pid_open as x using (record_key)
            left join {prev} as p using (record_key)
            group by o.person_id
            having count(p.person_id) = 0 and not bool_or(o.is_inherited)
        )
        select case when f.old_person_id in (select person_id from {output})
                    then 'split' else 'merge' end as kind, f.*
        from flows as f
        union all
        select 'new', * from fresh
        order by kind, new_person_id, old_person_id
    """)


def _mint_new_ids(con: duckdb.DuckDBPyConnection, reserved_table: str | None = None) -> None:
    """Mint ids for clusters without an inherited one, salting away collisions."""
    also = f"or person_id in (select person_id from {reserved_table})" if reserved_table else ""
    con.execute(f"""
        create or replace temp table __pid_minted as
        select a.cluster_id, a.anchor, 0 as salt, {new_person_id_sql("a.anchor")} as person_id
        from __pid_anchor as a
        where a.cluster_id not in (select cluster_id from __pid_taken)
    """)
    for _ in range(MAX_MATCHING_ROUNDS):
        # A minted id collides when it is reserved or when a smaller anchor minted it too.
        con.execute(f"""
            create or replace temp table __pid_clash as
            select cluster_id from (
                select cluster_id,
                       person_id in (select person_id from __pid_reserved) {also} as reserved,
                       row_number() over (partition by person_id order by anchor) as rn
                from __pid_minted
            ) where reserved or rn > 1
        """)
        clashes = con.execute("select count(*) from __pid_clash").fetchall()[0][0]
        if clashes == 0:
            break
        logger.info("person ids: re-minting %d colliding ids", clashes)
        con.execute(f"""
            update __pid_minted set salt = salt + 1,
                person_id = {new_person_id_sql("anchor", "salt + 1")}
            where cluster_id in (select cluster_id from __pid_clash)
        """)
    else:
        raise RuntimeError("could not mint unique person ids")
    con.execute("drop table if exists __pid_clash")


def assign_person_ids_df(
    clusters: pd.DataFrame,
    previous: pd.DataFrame | None = None,
    first_seen: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Pandas convenience wrapper around `assign_person_ids` on a throw-away connection.

    Args:
        clusters: Columns record_key, cluster_id.
        previous: Columns record_key, person_id, or None.
        first_seen: Columns person_id, first_seen (timestamp), or None.

    Returns:
        pd.DataFrame: record_key, cluster_id, person_id, is_inherited sorted by record_key.

    Examples:
        ```py
        ids = assign_person_ids_df(pd.DataFrame({"record_key": ["a", "b"], "cluster_id": [1, 1]}))
        ```
    """
    return person_id_changes_df(clusters, previous, first_seen)[0]


def person_id_changes_df(
    clusters: pd.DataFrame,
    previous: pd.DataFrame | None = None,
    first_seen: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Like `assign_person_ids_df`, also returning the changes (kind, old/new id, records)."""
    con = duckdb.connect()
    try:
        con.register("clusters_df", clusters)
        con.execute(
            "create temp table clusters as select record_key::varchar as record_key, "
            "cluster_id::varchar as cluster_id from clusters_df"
        )
        prev_name = seen_name = None
        if previous is not None:
            con.register("previous_df", previous)
            con.execute(
                "create temp table previous as select record_key::varchar as record_key, "
                "person_id::varchar as person_id from previous_df"
            )
            prev_name = "previous"
        if first_seen is not None:
            con.register("first_seen_df", first_seen)
            con.execute(
                "create temp table first_seen as select person_id::varchar as person_id, "
                "first_seen::timestamp as first_seen from first_seen_df"
            )
            seen_name = "first_seen"
        assign_person_ids(con, "clusters", "person_ids_out", prev_name, seen_name, "changes")
        ids = con.execute("select * from person_ids_out order by record_key").df()
        return ids, con.execute("select * from changes").df()
    finally:
        con.close()
