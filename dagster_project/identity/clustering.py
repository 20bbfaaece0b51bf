"""Clusters from accepted edges: connected components, then a guard against chaining.

1. Connected components over all accepted edges with Splink's
   `splink.clustering.cluster_pairwise_predictions_at_threshold` (iterative SQL on DuckDB,
   fine at millions of edges).
2. A component may still hold two records that contradict each other (Jan and Marie
   linked through a nameless newsletter record on the family mailbox, twins through an
   'S.' service contact on the landline; two birth dates or two mobile numbers in one
   cluster are a contradiction too). Such components, and those above
   `max_cluster_size`, are re-clustered in Python by `constrained_clusters`: edges are
   taken strongest first, never merging groups that contradict each other; records with
   no or only an initial first name join only when every group they link to is mutually
   compatible, else they stay alone (`constrained.py`). Only the few troubled components
   go through Python, so the loop stays small.
3. Rules from config/identity.yml: a never-match pair in one component makes it troubled and
   is a cannot-link constraint of the re-clustering; always-match edges are merged first,
   without the compatibility check (they override the guards).
4. On an incremental day (`previous_components`) step 1 runs only over the previous
   components that gained or lost a record or an edge; the others are carried over.
5. Also on an incremental day, `pins_table` lists the persons that did not change
   (`kept_persons`): components holding parts of one are joined, and step 2 unites each
   before any edge, so only new evidence about their own records can change them.
6. With both (`scope_table`), the output covers only the redone components. A carried-over
   component is exactly one of yesterday's persons: all its records and edges are as
   yesterday, its persons are pinned, and an edge between two pinned persons is set
   aside, which would have made the component redone. The guard would unite that one
   pinned person again, so it keeps yesterday's person and id, and every later step (ids,
   outputs, state) touches only the redone records.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

import duckdb
import pandas as pd
from splink import DuckDBAPI
from splink.clustering import cluster_pairwise_predictions_at_threshold

from dagster_project.identity.constrained import (
    Edge,
    Node,
    UnionFind,
    constrained_clusters,
)
from dagster_project.identity.guards import first_names_compatible_sql
from dagster_project.identity.settings import IdentitySettings

logger = logging.getLogger(__name__)

REASON_OVERSIZE = "cluster_too_large"


@dataclass
class ClusterStats:
    """Outcome of clustering.

    Attributes:
        components: Connected components before the guard.
        troubled_components: Components re-clustered (conflict or oversize).
        refused_edges: Accepted edges dropped by the guard.
        clusters: Final clusters (including singletons).
        size_distribution: {cluster size: number of clusters}.
    """

    components: int = 0
    troubled_components: int = 0
    refused_edges: int = 0
    clusters: int = 0
    size_distribution: dict[int, int] = field(default_factory=dict)


def cluster_records(
    con: duckdb.DuckDBPyConnection,
    splink_con: duckdb.DuckDBPyConnection,
    records_table: str,
    edges_table: str,
    settings: IdentitySettings,
    output_table: str = "clusters",
    refused_table: str = "cluster_refused",
    never_table: str | None = None,
    oversized_table: str = "cluster_oversized",
    never_split_table: str = "cluster_never_split",
    previous_components: tuple[str, str] | None = None,
    components_table: str = "cluster_components",
    pins_table: str | None = None,
    pin_joined_table: str = "cluster_pin_joined",
    scope_table: str | None = None,
) -> ClusterStats:
    """Cluster records over accepted edges, guarding against chains and giant clusters.

    Args:
        con: Cursor whose current catalog holds the tables.
        splink_con: A second cursor on the same catalog, for Splink's connected components
            (Splink's relation API refuses a cursor that holds an unread result).
        records_table: Prepared records (see `prepare`: record_key, first_name_key,
            first_name_canonical, first_name_freq, date_of_birth, phone, phone_is_mobile).
        edges_table: Accepted edges (record_key_l, record_key_r, rule, match_probability).
        settings: Supplies max_cluster_size, oversize threshold and name threshold.
        output_table: Table to create: record_key, cluster_id (anchor = smallest
            record_key of the cluster), cluster_size.
        refused_table: Table to create: record_key_l, record_key_r, rule, reason.
        never_table: Pairs (record_key_l, record_key_r) that must end in different
            clusters, or None.
        oversized_table: Table to create: cluster_id, n_records, n_clusters (after the
            guard), record_keys; one row per component above max_cluster_size.
        never_split_table: Table to create: pair_no, record_key_l, record_key_r, cluster_id;
            the never-match pairs that were connected (through others) and were split.
        previous_components: (components, affected) on an incremental day: the previous
            run's connected components (record_key, component_id) and the records whose
            component may have changed (new, changed, deleted records, every record
            without a previous component and the ends of every edge added or removed
            since). Only the previous components holding an affected record go through
            connected components again; every other component is carried over as it was:
            no edge enters or leaves it.
        components_table: Table to create: record_key, component_id (the connected
            components before the guard, the next run's `previous_components`).
        pins_table: (record_key, person_id) of persons that must stay whole (an incremental
            day's `kept_persons.kept_records`): components holding parts of one are joined,
            and the guard unites each before it looks at any edge.
        pin_joined_table: Table to create with `pins_table`: person_id, cluster_ids of
            the pinned persons whose records today's edges no longer connect.
        scope_table: With `previous_components` and `pins_table`: table to create with the
            record_key of every record, today's or yesterday's, of the redone components;
            `output_table`, `components_table` and the audit tables then cover only today's
            records among them (see step 6 above).

    Returns:
        ClusterStats: Component and cluster counts.
    """
    stats = ClusterStats()
    scoped = scope_table is not None and previous_components is not None
    if scoped and pins_table is None:
        raise ValueError("scope_table needs pins_table: only pinned persons can be carried over")
    _connected_components(
        con, splink_con, records_table, edges_table, previous_components, carry_over=not scoped
    )
    if pins_table is not None:
        _join_pinned_components(con, pins_table, pin_joined_table)
    stats.components = con.execute(
        "select count(distinct cluster_id) from __cl_components"
    ).fetchall()[0][0]
    never = never_table or "(select null::varchar as record_key_l, null::varchar as record_key_r)"
    con.execute(f"""
        create or replace table {never_split_table} as
        select row_number() over (order by n.record_key_l, n.record_key_r) as pair_no,
               n.record_key_l, n.record_key_r, l.cluster_id
        from {never} as n
        join __cl_components as l on l.record_key = n.record_key_l
        join __cl_components as r on r.record_key = n.record_key_r
        where l.cluster_id = r.cluster_id
    """)
    _find_troubled_components(con, records_table, settings, never_split_table)
    stats.troubled_components = con.execute("select count(*) from __cl_troubled").fetchall()[0][0]
    assignments, refused = _recluster_troubled(
        con, records_table, edges_table, settings, never_split_table, pins_table
    )
    _table_from_rows(con, "__cl_reassigned", ["record_key", "anchor"], list(assignments.items()))
    con.execute(f"""
        create or replace table {oversized_table} as
        select c.cluster_id, count(*) as n_records,
               count(distinct coalesce(a.anchor, c.record_key)) as n_clusters,
               list(c.record_key order by c.record_key) as record_keys
        from __cl_components as c join __cl_troubled as t using (cluster_id)
        left join __cl_reassigned as a using (record_key)
        where t.oversized
        group by c.cluster_id
    """)
    con.execute(f"""
        create or replace table {output_table} as
        with labelled as (
            select c.record_key, coalesce(a.anchor, c.cluster_id) as label
            from __cl_components as c left join __cl_reassigned as a using (record_key)
        )
        select record_key, min(record_key) over (partition by label) as cluster_id,
               count(*) over (partition by label) as cluster_size
        from labelled
    """)
    _table_from_rows(
        con,
        refused_table,
        ["record_key_l", "record_key_r", "rule", "reason"],
        [(e[0], e[1], e[2], reason) for e, reason in refused],
    )
    stats.refused_edges = len(refused)
    dist = con.execute(f"""
        select cluster_size, count(*) / cluster_size from {output_table}
        group by cluster_size order by cluster_size
    """).fetchall()
    stats.size_distribution = {int(size): int(n) for size, n in dist}
    stats.clusters = sum(stats.size_distribution.values())
    con.execute(f"""
        create or replace table {components_table} as
        select record_key, cluster_id as component_id from __cl_components
    """)
    if scoped:
        con.execute(f"create or replace table {scope_table} as select record_key from __cl_redo")
    for name in ("components", "troubled", "reassigned", "redo"):
        con.execute(f"drop table if exists __cl_{name}")
    logger.info(
        "clustering: %d components, %d troubled, %d edges refused, %d clusters, sizes %s",
        stats.components,
        stats.troubled_components,
        stats.refused_edges,
        stats.clusters,
        stats.size_distribution,
    )
    return stats


def _connected_components(
    con: duckdb.DuckDBPyConnection,
    splink_con: duckdb.DuckDBPyConnection,
    records_table: str,
    edges_table: str,
    previous: tuple[str, str] | None,
    carry_over: bool = True,
) -> None:
    """Create __cl_components(record_key, cluster_id, n); cluster_id = smallest record_key.

    With `previous`, only the redone components are computed (their records, today's and
    yesterday's, are in __cl_redo); the others are copied in when `carry_over`.
    """
    nodes, edges = records_table, edges_table
    if previous is not None:
        components, affected = previous
        # components to redo: those of affected records yesterday, and the affected records
        # (among them every record without a component yesterday)
        con.execute(f"""
            create or replace table __cl_redo as
            select record_key from {records_table} semi join {affected} using (record_key)
            union
            select p.record_key from {components} as p
            where p.component_id in (
                select c.component_id from {components} as c
                semi join {affected} as a using (record_key))
        """)
        con.execute(f"""
            create or replace table __cl_redo_nodes as
            select record_key from {records_table} semi join __cl_redo using (record_key)
        """)
        con.execute(f"""
            create or replace table __cl_redo_edges as
            select record_key_l, record_key_r from {edges_table} as e
            where record_key_l in (select record_key from __cl_redo)
        """)
        nodes, edges = "__cl_redo_nodes", "__cl_redo_edges"
    cc = cluster_pairwise_predictions_at_threshold(
        nodes,
        edges,
        db_api=DuckDBAPI(splink_con),
        node_id_column_name="record_key",
        edge_id_column_name_left="record_key_l",
        edge_id_column_name_right="record_key_r",
    )
    if previous is None or not carry_over:
        con.execute(f"""
            create or replace table __cl_components as
            select record_key, cluster_id, count(*) over (partition by cluster_id) as n
            from {cc.physical_name}
        """)
    else:
        con.execute(f"""
            create or replace table __cl_components as
            with labelled as (
                select record_key, cluster_id from {cc.physical_name}
                union all
                select p.record_key, p.component_id from {components} as p
                semi join {records_table} as r using (record_key)
                anti join __cl_redo as d using (record_key)
            )
            select record_key, cluster_id, count(*) over (partition by cluster_id) as n
            from labelled
        """)
    if previous is not None:
        logger.info(
            "clustering: connected components redone for %d of %d records",
            con.execute("select count(*) from __cl_redo_nodes").fetchall()[0][0],
            con.execute(f"select count(*) from {records_table}").fetchall()[0][0],
        )
        for name in ("redo_nodes", "redo_edges"):  # __cl_redo: until the pins are joined
            con.execute(f"drop table if exists __cl_{name}")
    cc.drop_table_from_database_and_remove_from_cache()


def _join_pinned_components(
    con: duckdb.DuckDBPyConnection, pins_table: str, joined_table: str
) -> None:
    """Give components holding parts of one pinned person one cluster_id (the smallest).

    Creates `joined_table(person_id)`: the pinned persons whose parts were joined. On an
    incremental day only persons with a record in a redone component can be in parts (a
    carried-over component holds its persons whole, as yesterday).
    """
    pins = pins_table
    redo = con.execute(
        "select count(*) from duckdb_tables() where table_name = '__cl_redo' "
        "and database_name = current_database()"
    ).fetchall()[0][0]
    if redo:
        pins = f"""(select * from {pins_table} where person_id in (
            select person_id from {pins_table} semi join __cl_redo using (record_key)))"""
    con.execute(f"""
        create or replace table {joined_table} as
        select k.person_id, list(distinct c.cluster_id) as cluster_ids
        from __cl_components as c join {pins} as k using (record_key)
        group by k.person_id having count(distinct c.cluster_id) > 1
    """)
    spans = con.execute(f"select cluster_ids from {joined_table}").fetchall()
    if not spans:
        return
    sets = UnionFind()
    for (ids,) in spans:  # a few persons whose links fell away today
        for other in ids[1:]:
            sets.union(ids[0], other)
    _table_from_rows(
        con,
        "__cl_pin_join",
        ["cluster_id", "joined_id"],
        [(k, sets.find(k)) for k in list(sets.parent)],
    )
    con.execute("""
        create or replace table __cl_components as
        with relabelled as (
            select c.record_key, coalesce(j.joined_id, c.cluster_id) as cluster_id
            from __cl_components as c left join __cl_pin_join as j using (cluster_id)
        )
        select record_key, cluster_id, count(*) over (partition by cluster_id) as n
        from relabelled
    """)
    con.execute("drop table if exists __cl_pin_join")
    logger.info(
        "clustering: %d persons that did not change kept whole across components", len(spans)
    )


def _table_from_rows(
    con: duckdb.DuckDBPyConnection, name: str, columns: list[str], rows: list[tuple[str, ...]]
) -> None:
    """Create table `name` of VARCHAR columns from Python rows (bulk, via pandas)."""
    frame = pd.DataFrame(rows, columns=columns, dtype="object")
    view = f"__cl_rows_{name}"
    con.register(view, frame)
    try:
        casts = ", ".join(f"cast({c} as varchar) as {c}" for c in columns)
        con.execute(f"create or replace table {name} as select {casts} from {view}")
    finally:
        con.unregister(view)


def _find_troubled_components(
    con: duckdb.DuckDBPyConnection, records_table: str, settings: IdentitySettings, never: str
) -> None:
    """Create __cl_troubled(cluster_id, oversized): components needing the guard."""
    compatible = first_names_compatible_sql(settings, "l", "r")
    max_size = int(settings.max_cluster_size) if settings.max_cluster_size > 0 else 2**62
    con.execute(f"""
        create or replace table __cl_troubled as
        with members as (
            select c.cluster_id, c.n, r.first_name_key, r.first_name_canonical,
                   r.first_name_freq, r.date_of_birth, r.phone, r.phone_is_mobile
            from __cl_components as c join {records_table} as r using (record_key)
            where c.n > 1
        ),
        names as (
            select distinct cluster_id, first_name_key, first_name_canonical, first_name_freq
            from members where first_name_key is not null
        ),
        name_conflicts as (
            select distinct l.cluster_id from names as l
            join names as r on l.cluster_id = r.cluster_id and l.first_name_key < r.first_name_key
            where not {compatible}
        ),
        dob_conflicts as (
            select cluster_id from members where date_of_birth is not null
            group by cluster_id having count(distinct date_of_birth) > 1
        ),
        mobile_conflicts as (
            select cluster_id from members where phone_is_mobile
            group by cluster_id having count(distinct phone) > 1
        ),
        oversized as (select distinct cluster_id from members where n > {max_size})
        select cluster_id, bool_or(is_oversized) as oversized from (
            select cluster_id, false as is_oversized from name_conflicts
            union all select cluster_id, false from dob_conflicts
            union all select cluster_id, false from mobile_conflicts
            union all select cluster_id, false from {never}
            union all select cluster_id, true from oversized
        ) group by cluster_id
    """)


def _recluster_troubled(
    con: duckdb.DuckDBPyConnection,
    records_table: str,
    edges_table: str,
    settings: IdentitySettings,
    never: str,
    pins_table: str | None = None,
) -> tuple[dict[str, str], list[tuple[Edge, str]]]:
    """Run `constrained_clusters` per troubled component; break up what stays too large."""
    compatible = first_names_compatible_sql(settings, "l", "r")
    # a never-match pair becomes two values of one fact: they contradict like two birth dates
    never_facts: dict[str, set[str]] = defaultdict(set)
    for pair_no, l_key, r_key in con.execute(
        f"select pair_no, record_key_l, record_key_r from {never}"
    ).fetchall():
        never_facts[l_key].add(f"never_match_{pair_no}=l")
        never_facts[r_key].add(f"never_match_{pair_no}=r")
    nodes_by_cluster: dict[str, list[Node]] = defaultdict(list)
    for cid, key, fn, dob, mobile in con.execute(f"""
        select c.cluster_id, c.record_key, r.first_name_key, cast(r.date_of_birth as varchar),
               case when r.phone_is_mobile then r.phone end
        from __cl_components as c join __cl_troubled as t using (cluster_id)
        join {records_table} as r using (record_key)
    """).fetchall():
        node_facts = {f"dob={dob}"} if dob else set()
        if mobile:
            node_facts.add(f"mobile={mobile}")
        node_facts |= never_facts.get(key, set())
        nodes_by_cluster[cid].append((key, fn, frozenset(node_facts)))
    if not nodes_by_cluster:
        return {}, []
    oversized = {cid for cid, flag in con.execute("select * from __cl_troubled").fetchall() if flag}
    strict = float(settings.oversize_match_threshold)
    edges_by_cluster: dict[str, list[Edge]] = defaultdict(list)
    for cid, l_key, r_key, rule, prob in con.execute(f"""
        select c.cluster_id, e.record_key_l, e.record_key_r, e.rule, e.match_probability
        from {edges_table} as e
        join __cl_components as c on c.record_key = e.record_key_l
        join __cl_troubled as t on t.cluster_id = c.cluster_id
    """).fetchall():
        edges_by_cluster[cid].append((l_key, r_key, rule, prob))
    # only names that meet in a component are ever compared: every pair of names of every
    # troubled component (the same answer) took most of the phase at 1M people
    incompatible = {
        frozenset(pair)
        for pair in con.execute(f"""
            with names as (
                select distinct c.cluster_id, r.first_name_key, r.first_name_canonical,
                       r.first_name_freq
                from __cl_components as c join __cl_troubled as t using (cluster_id)
                join {records_table} as r using (record_key)
                where r.first_name_key is not null
            ),
            key_pairs as (
                select distinct l.first_name_key as key_l, r.first_name_key as key_r
                from names as l join names as r
                    on l.cluster_id = r.cluster_id and l.first_name_key < r.first_name_key
            ),
            variants as (
                select distinct first_name_key, first_name_canonical, first_name_freq from names
            )
            select distinct p.key_l, p.key_r from key_pairs as p
            join variants as l on l.first_name_key = p.key_l
            join variants as r on r.first_name_key = p.key_r
            where not {compatible}
        """).fetchall()
    }
    pins: dict[str, str] = {}
    if pins_table is not None:
        pins = dict(
            con.execute(f"""
                select k.record_key, k.person_id from {pins_table} as k
                join __cl_components as c using (record_key)
                semi join __cl_troubled as t using (cluster_id)
            """).fetchall()
        )
    assignments: dict[str, str] = {}
    refused: list[tuple[Edge, str]] = []
    for cid, nodes in nodes_by_cluster.items():
        edges = edges_by_cluster[cid]
        if cid in oversized:
            kept = [e for e in edges if e[3] is None or e[3] >= strict]
            refused.extend(
                (e, REASON_OVERSIZE) for e in edges if not (e[3] is None or e[3] >= strict)
            )
            edges = kept
        labels, cl_refused = constrained_clusters(nodes, edges, incompatible, pins)
        refused.extend(cl_refused)
        if cid in oversized and settings.max_cluster_size > 0:
            labels = _break_oversized(labels, edges, settings.max_cluster_size, refused)
        assignments.update(labels)
    return assignments, refused


def _break_oversized(
    labels: dict[str, str], edges: list[Edge], max_size: int, refused: list[tuple[Edge, str]]
) -> dict[str, str]:
    """Turn clusters still above `max_size` into singletons, refusing their edges."""
    sizes: dict[str, int] = defaultdict(int)
    for anchor in labels.values():
        sizes[anchor] += 1
    too_big = {anchor for anchor, n in sizes.items() if n > max_size}
    if not too_big:
        return labels
    logger.warning("clustering: %d clusters above %d records broken up", len(too_big), max_size)
    refused.extend(
        (e, REASON_OVERSIZE)
        for e in edges
        if labels[e[0]] in too_big and labels[e[0]] == labels[e[1]]
    )
    return {key: (key if anchor in too_big else anchor) for key, anchor in labels.items()}
