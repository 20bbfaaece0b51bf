"""PostgreSQL destination (a CRM or service-desk database): upsert members, delete leavers.

Everything for one audience happens in one PostgreSQL transaction: COPY the changed rows into a
temporary table, INSERT ... ON CONFLICT DO UPDATE into the target, DELETE the leavers (with
`full`, every row of the audience not in the current set). Either all of it is visible or none.

The delivery state lives in DuckDB and is written after the PostgreSQL commit. A crash between
the two leaves the state behind the database; the next run then computes the same changes again
and re-applies them, which is harmless: an upsert of an identical row and a delete of a missing
row change nothing (idempotent catch-up).
"""

from __future__ import annotations

import logging
import os

import duckdb

from dagster_project.exports.config import Destination, PostgresOptions
from dagster_project.exports.state import CHANGES

log = logging.getLogger(__name__)

# DuckDB type (prefix) -> PostgreSQL column type; anything else is sent as text.
PG_TYPES = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "INTEGER": "bigint",
    "SMALLINT": "bigint",
    "HUGEINT": "numeric",
    "DOUBLE": "double precision",
    "FLOAT": "double precision",
    "DECIMAL": "numeric",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "TIMESTAMP": "timestamp",
}


def _pg_type(duck_type: str) -> str:
    for prefix, pg in PG_TYPES.items():
        if duck_type.upper().startswith(prefix):
            return pg
    return "text"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def target_table(opts: PostgresOptions) -> str:
    return f"{_ident(opts.schema)}.{_ident(opts.table)}"


def field_types(con: duckdb.DuckDBPyConnection, dest: Destination) -> dict[str, str]:
    described = dict(
        (row[0], row[1])
        for row in con.execute(
            f"describe select {', '.join(_ident(f) for f in dest.fields)} from {CHANGES}"
        ).fetchall()
    )
    return {f: _pg_type(described[f]) for f in dest.fields}


def create_table_sql(opts: PostgresOptions, types: dict[str, str]) -> str:
    fields = "".join(f",\n    {_ident(f)} {t}" for f, t in types.items())
    return (
        f"create table if not exists {target_table(opts)} (\n"
        "    audience text not null,\n    person_id text not null,\n"
        f"    category text not null default ''{fields},\n"
        "    payload_hash text not null,\n    cdp_run_id text not null,\n"
        "    updated_at timestamptz not null default now(),\n"
        "    primary key (audience, person_id, category)\n)"
    )


def deliver_postgres(
    con: duckdb.DuckDBPyConnection,
    dest: Destination,
    audience: str,
    run_id: str,
    full: bool,
    url: str | None = None,
    fail_after_copy: bool = False,
) -> tuple[int, int]:
    """Apply the changes table to PostgreSQL in one transaction; returns (upserted, deleted).

    `fail_after_copy` raises inside the transaction after the upsert (tests prove atomicity).
    """
    import psycopg

    assert isinstance(dest.options, PostgresOptions)
    opts = dest.options
    url = url or os.environ[opts.url_env]
    types = field_types(con, dest)
    table = target_table(opts)
    fields = [_ident(f) for f in dest.fields]
    cur = con  # temp tables live on this connection only (a cursor is a new connection)
    with psycopg.connect(url, autocommit=False) as pg:
        with pg.transaction():
            pg.execute(f"create schema if not exists {_ident(opts.schema)}")
            pg.execute(create_table_sql(opts, types))
            temp_cols = ", ".join(f"{_ident(f)} {t}" for f, t in types.items())
            pg.execute(
                "create temp table _cdp_in (person_id text not null, category text not null, "
                f"payload_hash text{', ' + temp_cols if temp_cols else ''}, is_exit boolean not null) "
                "on commit drop"
            )
            columns = ["person_id", "category", "payload_hash", *fields, "is_exit"]
            cur.execute(
                f"select person_id, category, cast(payload_hash as varchar), {', '.join(fields)}, "
                f"change = 'exited' "
                f"from {CHANGES} order by seq"
            )
            sent = 0
            with pg.cursor().copy(f"copy _cdp_in ({', '.join(columns)}) from stdin") as copy:
                while batch := cur.fetchmany(10_000):
                    for row in batch:
                        copy.write_row(row)
                    sent += len(batch)
            updates = ", ".join(
                f"{c} = excluded.{c}" for c in [*fields, "payload_hash", "cdp_run_id", "updated_at"]
            )
            upserted = pg.execute(
                f"insert into {table} (audience, person_id, category, {', '.join(fields)}, "
                "payload_hash, cdp_run_id, updated_at) "
                f"select %s, person_id, category, {', '.join(fields)}, payload_hash, %s, now() "
                "from _cdp_in where not is_exit "
                f"on conflict (audience, person_id, category) do update set {updates} "
                f"where {table}.payload_hash is distinct from excluded.payload_hash",
                [audience, run_id],
            ).rowcount
            if fail_after_copy:
                raise RuntimeError("injected failure inside the PostgreSQL transaction")
            if full:
                deleted = pg.execute(
                    f"delete from {table} t where t.audience = %s and not exists (select 1 from "
                    "_cdp_in i where not i.is_exit and i.person_id = t.person_id "
                    "and i.category = t.category)",
                    [audience],
                ).rowcount
            else:
                deleted = pg.execute(
                    f"delete from {table} t using _cdp_in i where i.is_exit and t.audience = %s "
                    "and t.person_id = i.person_id and t.category = i.category",
                    [audience],
                ).rowcount
    log.info(
        "%s/%s: %d rows sent, %d upserted, %d deleted", dest.name, audience, sent, upserted, deleted
    )
    return upserted, deleted
