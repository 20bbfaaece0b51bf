"""Persons none of whose records changed keep their records on an incremental day.

New records can bring evidence about people they never join: a newsletter record on a
mailbox makes an earlier nameless service contact on that mailbox ambiguous, one more first
name on a phone number pushes it over its cap, term frequencies drift. A full re-link weighs
that evidence against every link. A daily incremental run does not let it split or merge a
person whose own records did not change (the promise of persistent ids: such a person keeps
its id); the weekly full re-link (or CDP_FULL_RELINK=1) re-evaluates every link, and any split
or merge it makes is recorded in person_id_history like any other.

On an incremental day:

1. `kept_records`: the records of every previous person without a new, changed (input
   columns, see `prepare.INPUT_HASH`), deleted or never-match record.
2. `drop_edges_between_kept`: an accepted edge between two different kept persons is not
   used (they were apart yesterday and nothing about them changed; always-match pairs
   still apply); it is listed with the reason `REASON_KEPT_APART`.
3. Clustering pins each kept person (`clustering.cluster_records(pins_table=...)`): its
   records are united before any other edge and the guard never separates them; new
   records join it only when compatible.
4. `carried_links`: when today's edges no longer connect a kept person, yesterday's links
   inside it stay in person_links, so every person can still be explained.
5. `incremental.score_incremental(unkept_table=...)`: a stored pair between two kept records
   keeps its stored score (the full re-link re-scores it with the term frequencies of the
   day); pairs touching any other person are re-scored exactly as a full re-link would.
"""

from __future__ import annotations

import logging

import duckdb

from dagster_project.identity.constrained import ALWAYS_MATCH
from dagster_project.identity.outputs import Warehouse

logger = logging.getLogger(__name__)

REASON_KEPT_APART = "kept_apart_until_full_relink"


def never_match_keys(
    cur: duckdb.DuckDBPyConnection, pairs: tuple[tuple[str, str], ...], output_table: str
) -> None:
    """Create `output_table(record_key)`: every record named in a never-match pair."""
    cur.execute(f"create or replace table {output_table} (record_key varchar)")
    keys = sorted({key for pair in pairs for key in pair})
    if keys:
        cur.executemany(f"insert into {output_table} values (?)", [[k] for k in keys])


def kept_records(
    cur: duckdb.DuckDBPyConnection,
    previous_map: str | None,
    records_table: str,
    changed_table: str,
    never_table: str | None,
    output_table: str = "kept_records",
    unkept_table: str = "unkept_records",
) -> int:
    """Create `output_table(record_key, person_id)`: records of previous persons that did not change.

    Also creates `unkept_table(record_key)`: today's other records.

    Args:
        cur: Cursor on the scratch catalog.
        previous_map: Previous record -> person_id of person records (`previous_person_map`),
            or None on a first run (the table is then empty).
        records_table: Today's prepared records.
        changed_table: Records (record_key) new, deleted or with changed input since the
            previous run.
        never_table: Records (record_key) named in a never-match pair, or None.
        output_table: Table to create.
        unkept_table: Table to create.

    Returns:
        int: Number of kept persons.
    """
    if previous_map is None:
        cur.execute(
            f"create or replace table {output_table} (record_key varchar, person_id varchar)"
        )
        cur.execute(
            f"create or replace table {unkept_table} as select record_key from {records_table}"
        )
        return 0
    never = (
        f"select record_key from {never_table}"
        if never_table
        else "select null::varchar as record_key where false"
    )
    # one join of yesterday's and today's records (a million rows each) answers it all
    cur.execute(f"""
        create or replace table __kept_joined as
        select coalesce(p.record_key, r.record_key) as record_key, p.person_id,
               r.record_key is not null as present
        from {previous_map} as p
        full outer join (select record_key from {records_table}) as r using (record_key)
    """)
    cur.execute(f"""
        create or replace table __kept_touched as
        select distinct person_id from __kept_joined
        where person_id is not null and (
            not present
            or record_key in (select record_key from {changed_table})
            or record_key in ({never}))
    """)
    untouched = "person_id not in (select person_id from __kept_touched)"
    cur.execute(f"""
        create or replace table {output_table} as
        select record_key, person_id from __kept_joined
        where present and person_id is not null and {untouched}
    """)
    cur.execute(f"""
        create or replace table {unkept_table} as
        select record_key from __kept_joined
        where present and (person_id is null or not ({untouched}))
    """)
    for name in ("joined", "touched"):
        cur.execute(f"drop table __kept_{name}")
    persons = cur.execute(f"select count(distinct person_id) from {output_table}").fetchall()[0][0]
    logger.info("identity: %d persons did not change and keep their records", persons)
    return int(persons)


def drop_edges_between_kept(
    cur: duckdb.DuckDBPyConnection,
    edges_table: str,
    kept_table: str,
    output_table: str = "cluster_edges",
    dropped_table: str = "kept_apart",
) -> int:
    """Copy `edges_table` without edges joining two different kept persons.

    Args:
        cur: Cursor on the scratch catalog.
        edges_table: Accepted edges (record_key_l, record_key_r, rule, ...).
        kept_table: From `kept_records`.
        output_table: Table to create: the edges clustering uses.
        dropped_table: Table to create: record_key_l, record_key_r, rule, reason.

    Returns:
        int: Edges dropped.
    """
    between = f"""
        from {edges_table} as e
        join {kept_table} as l on l.record_key = e.record_key_l
        join {kept_table} as r on r.record_key = e.record_key_r
    """
    apart = f"e.rule <> '{ALWAYS_MATCH}' and l.person_id <> r.person_id"
    cur.execute(f"""
        create or replace table {dropped_table} as
        select e.record_key_l, e.record_key_r, e.rule, '{REASON_KEPT_APART}' as reason
        {between} where {apart}
    """)
    dropped = int(cur.execute(f"select count(*) from {dropped_table}").fetchall()[0][0])
    # usually none: then clustering reads the edges as they are, without a copy
    cur.execute(
        f"create or replace view {output_table} as select * from {edges_table}"
        if not dropped
        else f"create or replace table {output_table} as select * from {edges_table} "
        f"anti join {dropped_table} using (record_key_l, record_key_r)"
    )
    return dropped


def carried_links(
    cur: duckdb.DuckDBPyConnection,
    wh: Warehouse,
    kept_table: str,
    clusters_table: str,
    edges_table: str,
    joined_table: str = "cluster_pin_joined",
    output_table: str = "carried_links",
) -> int:
    """Create `output_table`: yesterday's links inside kept persons that today's edges lack.

    Only for the persons whose records today's edges no longer connect (`joined_table`):
    elsewhere today's links explain the person, and a link today's model scores below the
    threshold is not shown as one.

    Args:
        cur: Cursor on the scratch catalog.
        wh: The warehouse (previous `person_links`).
        kept_table: From `kept_records`.
        clusters_table: Today's clusters (record_key, cluster_id).
        edges_table: Today's accepted edges.
        joined_table: Persons (person_id) whose parts clustering joined.
        output_table: Table to create, shaped like person_links.

    Returns:
        int: Links carried over.
    """
    columns = "record_key_l, record_key_r, rule, match_probability, match_weight"
    if not wh.exists(cur, "person_links"):
        cur.execute(
            f"create or replace table {output_table} as select {columns} from {edges_table} where false"
        )
        return 0
    cur.execute(f"""
        create or replace table {output_table} as
        select {", ".join(f"p.{c}" for c in columns.split(", "))}
        from {wh.table("person_links")} as p
        join {kept_table} as kl on kl.record_key = p.record_key_l
        join {kept_table} as kr on kr.record_key = p.record_key_r
        join {clusters_table} as cl on cl.record_key = p.record_key_l
        join {clusters_table} as cr on cr.record_key = p.record_key_r
        anti join {edges_table} as e using (record_key_l, record_key_r)
        where kl.person_id = kr.person_id and cl.cluster_id = cr.cluster_id
          and kl.person_id in (select person_id from {joined_table})
    """)
    return int(cur.execute(f"select count(*) from {output_table}").fetchall()[0][0])
