"""The identity tables: person_map, person_links and blocked_links, built then swapped in.

Everything is first built in the run's scratch catalog (out_* tables), then the three
warehouse tables are replaced in one transaction, so readers never see a half-written set.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import duckdb

logger = logging.getLogger(__name__)

INPUT_RECORDS = "int_person_records_unioned"
INPUT_COOKIES = "int_cookie_logins"
COOKIE_SOURCE = "web_analytics__cookies"
OUTPUT_TABLES = ("person_map", "person_links", "blocked_links")


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
    """Copy the previous run's record -> person_id (cookies excluded) into `previous_map`.

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
        select record_key, person_id from {wh.table("person_map")}
        where source <> '{COOKIE_SOURCE}'
    """)
    return "previous_map"


def build_outputs(cur: duckdb.DuckDBPyConnection, wh: Warehouse) -> None:
    """Create out_person_map, out_person_links and out_blocked_links in the scratch catalog.

    Reads the scratch tables records, clusters, person_ids, all_edges, det_blocked,
    splink_judged and cluster_refused.

    Args:
        cur: Cursor on the scratch catalog.
        wh: The warehouse location (for the cookie logins).
    """
    cur.execute("""
        create or replace table out_person_links as
        select e.record_key_l, e.record_key_r, e.rule, e.match_probability, e.match_weight
        from all_edges as e
        join clusters as l on l.record_key = e.record_key_l
        join clusters as r on r.record_key = e.record_key_r
        where l.cluster_id = r.cluster_id
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
    cur.execute(f"""
        create or replace table out_person_map as
        select r.record_key, r.source, r.source_record_id, p.person_id,
               case when c.cluster_size = 1 then 'singleton' else coalesce(x.rule, 'splink') end
                   as match_rule,
               c.cluster_size
        from records as r
        join clusters as c using (record_key)
        join person_ids as p using (record_key)
        left join record_rules as x on x.key = r.record_key
        union all
        select '{COOKIE_SOURCE}:' || k.cookie_id, '{COOKIE_SOURCE}', k.cookie_id, p.person_id,
               'cookie_login', c.cluster_size
        from {cookies} as k
        join person_ids as p on p.record_key = k.record_key
        join clusters as c on c.record_key = k.record_key
    """)
    unmapped = cur.execute(f"""
        select count(*) from {cookies} as k anti join records as r using (record_key)
    """).fetchall()[0][0]
    if unmapped:
        logger.warning("identity: %d cookies logged in to unknown accounts, not mapped", unmapped)


def write_outputs(cur: duckdb.DuckDBPyConnection, wh: Warehouse) -> None:
    """Replace the three warehouse tables with the out_* tables in one transaction.

    Args:
        cur: Cursor on the scratch catalog.
        wh: The warehouse location.
    """
    cur.execute(f'create schema if not exists "{wh.catalog}"."{wh.schema}"')
    cur.execute("begin transaction")
    try:
        for name in OUTPUT_TABLES:
            cur.execute(f"create or replace table {wh.table(name)} as select * from out_{name}")
        cur.execute("commit")
    except Exception:
        cur.execute("rollback")
        raise
    logger.info("identity: wrote %s", ", ".join(wh.table(n) for n in OUTPUT_TABLES))


def output_counts(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row counts of the out_* tables, for the run statistics.

    Args:
        cur: Cursor on the scratch catalog.

    Returns:
        dict: persons, multi_record_rows, cookies, deterministic_links, splink_links,
            blocked_links.
    """
    persons, multi, cookies = cur.execute(f"""
        select count(distinct person_id) filter (where source <> '{COOKIE_SOURCE}'),
               count(*) filter (where source <> '{COOKIE_SOURCE}' and cluster_size > 1),
               count(*) filter (where source = '{COOKIE_SOURCE}')
        from out_person_map
    """).fetchall()[0]
    deterministic, splink = cur.execute("""
        select count(*) filter (where rule <> 'splink'), count(*) filter (where rule = 'splink')
        from out_person_links
    """).fetchall()[0]
    blocked = cur.execute("select count(*) from out_blocked_links").fetchall()[0][0]
    return {
        "persons": persons,
        "multi_record_rows": multi,
        "cookies": cookies,
        "deterministic_links": deterministic,
        "splink_links": splink,
        "blocked_links": blocked,
    }
