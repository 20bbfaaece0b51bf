"""Publish a read-only serving copy of the BI-facing schemas, atomically.

DuckDB allows one writing process or many readers, never both, so BI tools read this copy
and never the warehouse file the pipeline writes. The copy is built under a temporary name
and renamed over the old one: a reader that has the old file open keeps reading it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime
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


def publish_serving_copy(
    con: duckdb.DuckDBPyConnection,
    target: Path,
    run_id: str = "",
    schemas: tuple[str, ...] = SERVING_SCHEMAS,
) -> PublishResult:
    """Copy every table of `schemas` from the warehouse `con` into `target`, atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    cur = con.cursor()
    source_db = cur.execute("select current_database()").fetchone()[0]
    tables = cur.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where database_name = ? and schema_name in (select unnest(?)) order by 1, 2",
        [source_db, list(schemas)],
    ).fetchall()
    published_at = datetime.now().replace(microsecond=0)
    counts: dict[str, int] = {}
    cur.execute(f"attach '{tmp}' as serving_tmp")
    try:
        for schema in schemas:
            cur.execute(f'create schema if not exists serving_tmp."{schema}"')
        for schema, table in tables:
            cur.execute(
                f'create table serving_tmp."{schema}"."{table}" as '
                f'select * from "{source_db}"."{schema}"."{table}"'
            )
            counts[f"{schema}.{table}"] = cur.execute(
                f'select count(*) from serving_tmp."{schema}"."{table}"'
            ).fetchone()[0]
        cur.execute("create schema if not exists serving_tmp.meta")
        cur.execute(
            "create table serving_tmp.meta.publications as select ? as run_id, "
            "cast(? as timestamp) as published_at, ? as tables",
            [run_id, published_at, len(tables)],
        )
        cur.execute("checkpoint serving_tmp")
    finally:
        cur.execute("detach serving_tmp")
    os.replace(tmp, target)
    size = target.stat().st_size
    log.info("published %d tables (%d bytes) to %s", len(tables), size, target)
    return PublishResult(path=target, tables=counts, bytes=size, published_at=published_at)
