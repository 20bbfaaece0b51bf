"""The identity tables, built in the run's scratch catalog then swapped in.

person_map, person_links, blocked_links and match_audit are replaced and person_id_history
is appended, in one transaction, so readers never see a half-written set.

identity.match_audit: one row per decision not to merge, or to override the model, in the
current person_map. Columns: run_id, audited_at, kind (junk_value, capped_identifier,
blocked_link, oversized_cluster, never_match, always_match), identifier_kind (email, phone,
account_id, first_name, ...; null for name/date conflicts), identifier_hash (first 16 hex of
sha256 of the trimmed lower-cased value, never the value), rule (the link rule concerned),
reason, n_records, record_keys.

identity.person_id_history: append-only, one row per id change: run_id, changed_at, kind
(new, merge, split), old_person_id, new_person_id, n_records, record_keys (see
`person_ids`). Downstream systems remap old_person_id -> new_person_id for merges.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import duckdb

from dagster_project.identity.clustering import REASON_OVERSIZE
from dagster_project.identity.deterministic import IDENTIFIER_RULES
from dagster_project.identity.guards import REASON_GROUP, REASON_SHARED

logger = logging.getLogger(__name__)

INPUT_RECORDS = "int_person_records_unioned"
INPUT_COOKIES = "int_cookie_logins"
COOKIE_SOURCE = "web_analytics__cookies"
OUTPUT_TABLES = ("person_map", "person_links", "blocked_links", "match_audit")
HISTORY_TABLE = "person_id_history"
# Rows a scoped incremental day replaces (`write_outputs`), given the scope table.
SCOPED_ROWS = {
    "person_map": lambda scope: (
        f"source = '{COOKIE_SOURCE}' or record_key in (select record_key from {scope})"
    ),
    "person_links": lambda scope: (
        f"record_key_l in (select record_key from {scope}) "
        f"or record_key_r in (select record_key from {scope})"
    ),
}


@dataclass(frozen=True)
class Warehouse:
    """Where the identity schema lives: the caller's catalog and the schema name."""

    catalog: str
    schema: str

    def table(self, name: str) -> str:
        """Fully qualified, quoted table name."""
        return f'"{self.catalog}"."{self.schema}"."{name}"'

    def exists(self, cur: duckdb.DuckDBPyConnection, name: str) -> bool:
        """Whether the table or view exists in the identity schema."""
        return bool(
            cur.execute(
                "select count(*) from information_schema.tables "
                "where table_catalog = ? and table_schema = ? and table_name = ?",
                [self.catalog, self.schema, name],
            ).fetchall()[0][0]
        )


def previous_person_map(cur: duckdb.DuckDBPyConnection, wh: Warehouse) -> str | None:
    """Copy the previous run's record -> person_id, cluster_size (no cookies) into `previous_map`.

    Args:
        cur: Cursor on the scratch catalog.
        wh: The warehouse location.

    Returns:
        str | None: 'previous_map', or None on a first run.
    """
    if not wh.exists(cur, "person_map"):
        logger.info("identity: no previous person_map, minting all ids")
        return None
    cur.execute(f"""
        create or replace table previous_map as
        select record_key, person_id, cluster_size from {wh.table("person_map")}
        where source <> '{COOKIE_SOURCE}'
    """)
    return "previous_map"


def carried_persons_sql(previous: str, scope: str) -> str:
    """SQL relation (record_key, person_id, cluster_size) of the records outside `scope`.

    On a scoped incremental day (`clustering.cluster_records`' scope_table) those records
    keep yesterday's person, id and cluster size: they are read from `previous` (the copy
    made by `previous_person_map`).
    """
    return f"""(select record_key, person_id, cluster_size from {previous}
        anti join {scope} as s using (record_key))"""


def previous_first_seen(cur: duckdb.DuckDBPyConnection, wh: Warehouse) -> str | None:
    """Copy when each person id first appeared in person_id_history into `previous_first_seen`.

    Returns:
        str | None: 'previous_first_seen', or None when there is no history yet.
    """
    if not wh.exists(cur, HISTORY_TABLE):
        return None
    cur.execute(f"""
        create or replace table previous_first_seen as
        select new_person_id as person_id, min(changed_at) as first_seen
        from {wh.table(HISTORY_TABLE)} group by new_person_id
    """)
    return "previous_first_seen"


def build_history_and_audit(
    cur: duckdb.DuckDBPyConnection,
    run_id: str,
    max_cluster_size: int,
    carried: str | None = None,
) -> None:
    """Create out_person_id_history and out_match_audit in the scratch catalog.

    Reads person_id_changes, junk_audit, det_capped, det_blocked, splink_judged,
    cluster_refused, cluster_oversized, cluster_never_split, rule_pairs, clusters and
    out_person_links (so call it after `build_outputs`).

    Args:
        cur: Cursor on the scratch catalog.
        run_id: Identifies the run in both tables (the Dagster run id in the pipeline).
        max_cluster_size: For the oversized-cluster reason text.
        carried: `carried_persons_sql` on a scoped incremental day (`clusters` then holds
            only the redone records), else None.
    """
    run = "'" + run_id.replace("'", "''") + "'"
    labels = "clusters"
    if carried is not None:  # a record outside today's clusters is in yesterday's person
        labels = f"""(select record_key, cluster_id from clusters
            union all select record_key, person_id from {carried})"""
    cur.execute("create or replace table __run_at as select now()::timestamp as run_at")
    cur.execute(f"""
        create or replace table out_person_id_history as
        select {run}::varchar as run_id, (select run_at from __run_at) as changed_at, kind,
               old_person_id, new_person_id, n_records, record_keys
        from person_id_changes
    """)
    kinds = " ".join(f"when '{rule}' then '{col}'" for rule, col in IDENTIFIER_RULES)
    cur.execute(f"""
        create or replace table out_match_audit as
        with together as (
            select p.kind, p.record_key_l, p.record_key_r,
                   l.cluster_id is not distinct from r.cluster_id and l.cluster_id is not null
                       as together,
                   exists (select 1 from cluster_never_split as s
                           where s.record_key_l = p.record_key_l
                             and s.record_key_r = p.record_key_r) as split_apart,
                   p.present, p.prior_rule, p.prior_reason
            from rule_pairs as p
            left join {labels} as l on l.record_key = p.record_key_l
            left join {labels} as r on r.record_key = p.record_key_r
        ),
        decisions as (
            select 'junk_value' as kind, identifier_kind, identifier_hash, null::varchar as rule,
                   reason, n_records, record_keys
            from junk_audit
            union all
            select 'capped_identifier', identifier_kind, identifier_hash, rule, reason,
                   n_records, record_keys
            from det_capped
            union all
            select 'blocked_link', case rule {kinds} end, identifier_hash, rule, reason, 2,
                   [record_key_l, record_key_r]
            from det_blocked
            where reason not in ('{REASON_SHARED}', '{REASON_GROUP}')
            union all
            select 'blocked_link', null, null, rule, reason, 2, [record_key_l, record_key_r]
            from splink_judged where reason is not null
            union all
            select 'blocked_link', null, null, c.rule, c.reason, 2,
                   [c.record_key_l, c.record_key_r]
            from cluster_refused as c
            anti join out_person_links as p using (record_key_l, record_key_r)
            where c.reason <> '{REASON_OVERSIZE}'
            union all
            select 'oversized_cluster', null, null, null,
                   'component of ' || n_records || ' records above max_cluster_size '
                   || {int(max_cluster_size)} || ', re-clustered into ' || n_clusters
                   || ' persons with only the strongest links',
                   n_records, record_keys
            from cluster_oversized
            union all
            select kind, null, null, prior_rule,
                   case
                       when not present then 'record not in the input: rule ignored'
                       when kind = 'never_match' and together then 'VIOLATED: still one person'
                       when kind = 'never_match' then concat_ws('; ',
                           case when prior_rule is not null
                                then 'direct link (' || prior_rule || ') removed' end,
                           case when split_apart
                                then 'connected through other records: re-clustered apart' end,
                           case when prior_rule is null and not split_apart
                                then 'not linked: nothing to undo' end)
                       when not together then 'linked, but its person was broken up as too large'
                       when prior_rule is not null then 'already linked by ' || prior_rule
                       when prior_reason is not null then 'linked, overriding ' || prior_reason
                       else 'linked (neither a rule nor the model linked them)'
                   end,
                   2, [record_key_l, record_key_r]
            from together
        )
        select {run}::varchar as run_id, (select run_at from __run_at) as audited_at, *
        from decisions
    """)
    cur.execute("drop table if exists __run_at")


def build_outputs(
    cur: duckdb.DuckDBPyConnection,
    wh: Warehouse,
    extra_links: str | None = None,
    carried: str | None = None,
) -> None:
    """Create out_person_map, out_person_links and out_blocked_links in the scratch catalog.

    Reads the scratch tables records, clusters, person_ids, all_edges, det_blocked,
    splink_judged and cluster_refused.

    Args:
        cur: Cursor on the scratch catalog.
        wh: The warehouse location (for the cookie logins).
        extra_links: Links to keep besides today's edges (shaped like person_links), e.g.
            `kept_persons.carried_links`.
        carried: `carried_persons_sql` on a scoped incremental day: out_person_map and
            out_person_links then hold the redone records' rows and every cookie's row (a
            cookie of a carried record maps to yesterday's person), for `write_outputs`
            with `scope`.
    """
    extra = f"union all select * from {extra_links}" if extra_links else ""
    cur.execute(f"""
        create or replace table out_person_links as
        select e.record_key_l, e.record_key_r, e.rule, e.match_probability, e.match_weight
        from all_edges as e
        join clusters as l on l.record_key = e.record_key_l
        join clusters as r on r.record_key = e.record_key_r
        where l.cluster_id = r.cluster_id
        {extra}
    """)
    cur.execute("""
        create or replace table out_blocked_links as
        select record_key_l, record_key_r, rule, reason from det_blocked
        union all
        select record_key_l, record_key_r, rule, reason from splink_judged where reason is not null
        union all
        select c.record_key_l, c.record_key_r, c.rule, c.reason from cluster_refused as c
        anti join out_person_links as p using (record_key_l, record_key_r)
    """)
    # how a record joined its cluster: through any deterministic link, else through Splink
    cur.execute("""
        create or replace table record_rules as
        select key, case when bool_or(rule <> 'splink') then 'deterministic' else 'splink' end
            as rule
        from (
            select record_key_l as key, rule from out_person_links
            union all select record_key_r, rule from out_person_links
        ) group by key
    """)
    cookies = "(select null::varchar as cookie_id, null::varchar as record_key where false)"
    if wh.exists(cur, INPUT_COOKIES):
        cookies = wh.table(INPUT_COOKIES)
    else:
        logger.warning("identity: %s not found, no cookies mapped", wh.table(INPUT_COOKIES))
    cur.execute("""
        create or replace table out_person_map as
        select r.record_key, r.source, r.source_record_id, p.person_id,
               case when c.cluster_size = 1 then 'singleton' else coalesce(x.rule, 'splink') end
                   as match_rule,
               c.cluster_size
        from records as r
        join clusters as c using (record_key)
        join person_ids as p using (record_key)
        left join record_rules as x on x.key = r.record_key
    """)
    persons = "out_person_map"
    if carried is not None:
        persons = f"(select record_key, person_id, cluster_size from {persons} union all {carried})"
    cur.execute(f"""
        insert into out_person_map
        select '{COOKIE_SOURCE}:' || k.cookie_id, '{COOKIE_SOURCE}', k.cookie_id, p.person_id,
               'cookie_login', p.cluster_size
        from {cookies} as k join {persons} as p using (record_key)
    """)
    unmapped = cur.execute(f"""
        select count(*) from {cookies} as k anti join records as r using (record_key)
    """).fetchall()[0][0]
    if unmapped:
        logger.warning("identity: %d cookies logged in to unknown accounts, not mapped", unmapped)


def write_outputs(cur: duckdb.DuckDBPyConnection, wh: Warehouse, scope: str | None = None) -> None:
    """Replace the output tables and append the id history, in one transaction.

    Args:
        cur: Cursor on the scratch catalog.
        wh: The warehouse location.
        scope: On a scoped incremental day (see `build_outputs`' carried): the records
            (record_key) whose rows of person_map and person_links are replaced, with every
            cookie row of person_map; the other rows stay as they are. None replaces the
            tables whole.
    """
    cur.execute(f'create schema if not exists "{wh.catalog}"."{wh.schema}"')
    cur.execute("begin transaction")
    try:
        for name in OUTPUT_TABLES:
            if scope is not None and name in SCOPED_ROWS:
                cur.execute(f"delete from {wh.table(name)} where {SCOPED_ROWS[name](scope)}")
                cur.execute(f"insert into {wh.table(name)} by name select * from out_{name}")
                continue
            cur.execute(f"create or replace table {wh.table(name)} as select * from out_{name}")
        history = wh.table(HISTORY_TABLE)
        cur.execute(
            f"create table if not exists {history} as select * from out_{HISTORY_TABLE} where false"
        )
        cur.execute(f"insert into {history} by name select * from out_{HISTORY_TABLE}")
        cur.execute("commit")
    except Exception:
        cur.execute("rollback")
        raise
    logger.info("identity: wrote %s", ", ".join(wh.table(n) for n in OUTPUT_TABLES))


def output_counts(cur: duckdb.DuckDBPyConnection, wh: Warehouse | None = None) -> dict[str, Any]:
    """Row counts of the out_* tables, for the run statistics.

    Args:
        cur: Cursor on the scratch catalog.
        wh: After a scoped write (`write_outputs` with scope), the warehouse, whose
            person_map and person_links are counted instead of the partial out_ tables.

    Returns:
        dict: persons, multi_record_rows, cookies, deterministic_links, splink_links,
            blocked_links (ints), audit and history ({kind: rows}) and size_distribution
            ({records per person: persons}).
    """
    person_map = wh.table("person_map") if wh else "out_person_map"
    person_links = wh.table("person_links") if wh else "out_person_links"
    # rows per cluster size (cookies as size 0): a group-by on one integer column is cheaper
    # than distinct person ids, and every person has cluster_size rows
    rows = dict(
        cur.execute(f"""
            select case when source = '{COOKIE_SOURCE}' then 0 else cluster_size end, count(*)
            from {person_map} group by 1
        """).fetchall()
    )
    cookies = int(rows.pop(0, 0))
    sizes = {int(size): int(n) // int(size) for size, n in sorted(rows.items())}
    persons = sum(sizes.values())
    multi = sum(n for size, n in rows.items() if size > 1)
    deterministic, splink = cur.execute(f"""
        select count(*) filter (where rule <> 'splink'), count(*) filter (where rule = 'splink')
        from {person_links}
    """).fetchall()[0]
    blocked = cur.execute("select count(*) from out_blocked_links").fetchall()[0][0]
    audit = dict(cur.execute("select kind, count(*) from out_match_audit group by 1").fetchall())
    history = dict(
        cur.execute("select kind, count(*) from out_person_id_history group by 1").fetchall()
    )
    return {
        "audit": audit,
        "history": history,
        "persons": persons,
        "multi_record_rows": multi,
        "cookies": cookies,
        "deterministic_links": deterministic,
        "splink_links": splink,
        "blocked_links": blocked,
        "size_distribution": sizes,
    }
