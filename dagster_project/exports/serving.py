"""Publish a read-only serving copy of the BI-facing schemas, atomically.

DuckDB allows one writing process or many readers, never both, so BI tools read this copy
and never the warehouse file the pipeline writes. The copy is built under a temporary name
and renamed over the old one: a reader that has the old file open keeps reading it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

log = logging.getLogger(__name__)

SERVING_SCHEMAS = ("marts", "audiences")


@dataclass
class PublishResult:
    path: Path
    tables: dict[str, int]
    bytes: int
    published_at: datetime


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def publish_serving_copy(
    con: duckdb.DuckDBPyConnection,
    target: Path,
    run_id: str = "",
    schemas: tuple[str, ...] = SERVING_SCHEMAS,
    include: Callable[[str, str], bool] = lambda schema, table: True,
) -> PublishResult:
    """Copy the tables of `schemas` (those `include(schema, table)` accepts) into `target`.

    Table and column comments (dbt's persisted descriptions) are copied too, so BI users see them.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    cur = con.cursor()
    db = cur.execute("select current_database()").fetchone()[0]
    tables = [
        (schema, table, comment)
        for schema, table, comment in cur.execute(
            "select schema_name, table_name, comment from duckdb_tables() "
            "where database_name = ? and schema_name in (select unnest(?)) order by 1, 2",
            [db, list(schemas)],
        ).fetchall()
        if include(schema, table)
    ]
    published_at = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    counts: dict[str, int] = {}
    cur.execute(f"attach {_literal(str(tmp))} as serving_tmp")
    try:
        for schema in schemas:
            cur.execute(f'create schema if not exists serving_tmp."{schema}"')
        for schema, table, comment in tables:
            name = f'"{schema}"."{table}"'
            cur.execute(f'create table serving_tmp.{name} as select * from "{db}".{name}')
            if comment:
                cur.execute(f"comment on table serving_tmp.{name} is {_literal(comment)}")
            for column, col_comment in cur.execute(
                "select column_name, comment from duckdb_columns() where database_name = ? "
                "and schema_name = ? and table_name = ? and comment is not null",
                [db, schema, table],
            ).fetchall():
                cur.execute(
                    f'comment on column serving_tmp.{name}."{column}" is {_literal(col_comment)}'
                )
            counts[f"{schema}.{table}"] = cur.execute(
                f"select count(*) from serving_tmp.{name}"
            ).fetchone()[0]
        cur.execute("create schema if not exists serving_tmp.meta")
        cur.execute(
            "create table serving_tmp.meta.publications as select ? as run_id, "
            "cast(? as timestamp) as published_at, ? as tables",
            [run_id, published_at, len(tables)],
        )
        cur.execute("checkpoint serving_tmp")
        cur.execute("detach serving_tmp")
    except BaseException:
        cur.execute("detach database if exists serving_tmp")
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, target)
    size = target.stat().st_size
    log.info("published %d tables (%d bytes) to %s", len(tables), size, target)
    return PublishResult(path=target, tables=counts, bytes=size, published_at=published_at)
