"""File destinations: CSV or Parquet in an outbox folder, each with a JSON manifest, written atomically.

DuckDB COPY writes to a hidden temporary name, the file is fsynced and renamed into place, then
its manifest (rows, sha256, run id) is written the same way. A consumer that waits for the
manifest never sees a half-written file; temporaries left by a crash are removed on the next run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from dagster_project.exports.config import Destination
from dagster_project.exports.hashing import output_columns
from dagster_project.exports.state import CHANGES, exit_hex_sql, exit_value_sql

log = logging.getLogger(__name__)


@dataclass
class WrittenFile:
    path: Path
    manifest: Path
    rows: int
    sha256: str
    change: str  # full | entered | exited


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def clean_temporaries(outbox: Path) -> int:
    """Remove temporaries of interrupted runs (one writer at a time, so none is in progress)."""
    removed = 0
    for tmp in outbox.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
        removed += 1
    if removed:
        log.warning("removed %d temporary files of an interrupted run in %s", removed, outbox)
    return removed


def atomic_copy(
    con: duckdb.DuckDBPyConnection, query: str, target: Path, fmt: str
) -> tuple[int, str]:
    """COPY `query` to `target` via a temporary name + fsync + rename; returns (rows, sha256)."""
    tmp = target.with_name(f".{target.name}.tmp")
    options = "(format csv, header true)" if fmt == "csv" else "(format parquet, compression zstd)"
    try:
        rows = con.execute(f"copy ({query}) to {_literal(str(tmp))} {options}").fetchone()[0]
        _fsync(tmp)
        checksum = _sha256(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync(target.parent)
    return int(rows), checksum


def write_json_atomic(target: Path, document: dict) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(document, fh, indent=2, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    _fsync(target.parent)


def _queries(dest: Destination, has_category: bool, full: bool) -> dict[str, str]:
    """change name -> SELECT over the changes table producing that file's rows."""
    cols = output_columns(dest.platform, dest.fields)
    keys = (
        ["person_id", *(["category"] if has_category else [])] if dest.platform == "plain" else []
    )
    current = ", ".join([*keys, *(f'"{c.header}"' for c in cols)])
    if full:
        return {"full": f"select {current} from {CHANGES} where change <> 'exited' order by seq"}
    entered = f"select {current} from {CHANGES} where change in ('entered', 'updated') order by seq"
    if dest.platform == "plain":
        exited = f"select {', '.join(keys)} from {CHANGES} where change = 'exited' order by seq"
    else:  # a member whose identifiers changed is removed under the old hashes, added under the new
        headers = [c.header for c in cols if c.identifier]
        values = {h: exit_value_sql("old_exit_key", "old_hex", headers, h) for h in headers}
        old = ", ".join(f'{values.get(c.header, "null")} as "{c.header}"' for c in cols)
        moved = " or ".join(f'{v} is distinct from "{h}"' for h, v in values.items()) or "false"
        exited = (
            f"select {old} from (select *, {exit_hex_sql('old_exit_key')} as old_hex "
            f"from {CHANGES} where change in ('exited', 'updated')) "
            f"where change = 'exited' or ({moved}) order by seq"
        )
    return {"entered": entered, "exited": exited}


def deliver_files(
    con: duckdb.DuckDBPyConnection,
    dest: Destination,
    audience: str,
    run_id: str,
    full: bool,
    has_category: bool,
    started_at: datetime,
) -> list[WrittenFile]:
    """Write the audience's full file, or its entered and exited files (those with rows)."""
    assert dest.kind == "file"
    fmt = dest.options.format  # type: ignore[union-attr]
    outbox = dest.outbox()
    outbox.mkdir(parents=True, exist_ok=True)
    clean_temporaries(outbox)
    stamp = started_at.strftime("%Y%m%dT%H%M%S")
    written: list[WrittenFile] = []
    for change, query in _queries(dest, has_category, full).items():
        if change != "full" and not con.execute(f"select 1 from ({query}) limit 1").fetchall():
            continue
        name = f"{audience}__{change}__{stamp}_{run_id[:8]}.{fmt}"
        target = outbox / name
        rows, checksum = atomic_copy(con, query, target, fmt)
        manifest = outbox / f"{name}.manifest.json"
        write_json_atomic(
            manifest,
            {
                "destination": dest.name,
                "audience": audience,
                "run_id": run_id,
                "kind": "full" if full else "delta",
                "change": change,
                "file": name,
                "format": fmt,
                "platform": dest.platform,
                "rows": rows,
                "sha256": checksum,
                "created_at": started_at.isoformat() + "Z",
            },
        )
        written.append(WrittenFile(target, manifest, rows, checksum, change))
        log.info("%s/%s: wrote %s (%d rows)", dest.name, audience, name, rows)
    return written
