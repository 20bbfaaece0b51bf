"""Load one declared source (all files matching its glob) into `raw.<system>__<table>`.

Every file is read as text with DuckDB's own readers, renamed onto the canonical fields and
typed in SQL. Rows that cannot be used (no record id, unparseable date/amount/flag, broken
encoding, malformed line, duplicate id) go to `quarantine.quarantined_rows` with a reason;
a file that cannot be read at all raises `SourceLoadError` naming the file and the problem.
The raw table and the source's quarantine rows are replaced in one transaction.
Rows of people on the suppression list (`cdp forget`) are dropped before either is written
(dagster_project/privacy/load_filter.py); the result counts them, never shows them.
"""

from __future__ import annotations

import glob
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from dagster_project.privacy.load_filter import drop_suppressed_rows, filter_unreadable_lines
from dagster_project.privacy.suppression import (
    SuppressionList,
    load_suppression_list,
    suppression_key,
)
from dagster_project.sources.config import SourceSpec
from dagster_project.sources.entities import DUCKDB_TYPES, ENTITIES

log = logging.getLogger(__name__)

QUARANTINE_DDL = """
create schema if not exists quarantine;
create table if not exists quarantine.quarantined_rows (
    source varchar, file varchar, row_number bigint, raw_row varchar, reason varchar,
    loaded_at timestamp
);
"""
SUPPRESSED_DDL = """
create schema if not exists privacy;
create table if not exists privacy.suppressed_rows (
    source varchar, loaded_at timestamp, suppressed_rows bigint
);
"""
_TRUE = ("true", "t", "1", "yes", "y", "ja", "j", "subscribed", "granted")
_FALSE = ("false", "f", "0", "no", "n", "nee", "unsubscribed", "denied")


class SourceLoadError(RuntimeError):
    """A file of a source could not be read; the message names the file and the problem."""


@dataclass
class LoadResult:
    source: str
    files: list[str]
    rows: int
    quarantined: int
    loaded_at: datetime
    seconds: float
    reasons: dict[str, int] = field(default_factory=dict)
    suppressed: int = 0


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def find_files(spec: SourceSpec, landing_dir: Path) -> list[Path]:
    return [Path(p) for p in sorted(glob.glob(str(landing_dir / spec.path), recursive=True))]


# ---------------------------------------------------------------- reading one file as text


def _truthy(value: object) -> bool:
    return str(value).strip().lower() in _TRUE


def _csv_reader_sql(spec: SourceSpec, path: Path, rejects: str) -> str:
    opts = {
        "header": "true" if _truthy(spec.options.get("header", True)) else "false",
        "all_varchar": "true",
        "store_rejects": "true",
        "rejects_table": quote_literal(f"{rejects}_errors"),
        "rejects_scan": quote_literal(f"{rejects}_scans"),
        "auto_detect": "true",
    }
    if "delimiter" in spec.options:
        opts["delim"] = quote_literal(str(spec.options["delimiter"]))
    if "quote" in spec.options:
        opts["quote"] = quote_literal(str(spec.options["quote"]))
    if "escape" in spec.options:
        opts["escape"] = quote_literal(str(spec.options["escape"]))
    if "encoding" in spec.options:
        opts["encoding"] = quote_literal(str(spec.options["encoding"]))
    args = ", ".join(f"{k} = {v}" for k, v in opts.items())
    return f"select * from read_csv({quote_literal(str(path))}, {args})"


def _json_array_sql(path: Path) -> str:
    return (
        f"select cast(to_json(json) as varchar) as line from read_json({quote_literal(str(path))}, "
        "format = 'array', records = false)"
    )


def _starts_with_bracket(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"[")


def _json_lines_sql(path: Path, rejects: str) -> str:
    # One JSON document per line, read as text so that a broken line is quarantined alone
    # (read_json can only fail the whole file or skip bad lines silently).
    return (
        f"select line from read_csv({quote_literal(str(path))}, columns = {{'line': 'VARCHAR'}}, "
        "header = false, delim = '\x1f', quote = '', escape = '', auto_detect = false, "
        f"store_rejects = true, rejects_table = {quote_literal(rejects + '_errors')}, "
        f"rejects_scan = {quote_literal(rejects + '_scans')}) where trim(line) <> ''"
    )


def _read_file(
    cur: duckdb.DuckDBPyConnection, spec: SourceSpec, path: Path, stage: str, rejects: str
) -> list[tuple[int, str, str]]:
    """Create temp table `stage` (_row_number, _raw_row, <canonical>...) as text.

    Returns the lines DuckDB's reader rejected, as (line, raw text, reason).
    """
    if path.stat().st_size == 0:
        raise SourceLoadError(f"{spec.system}.{spec.table}: file {path} is empty (no header row)")
    mapping = spec.columns
    try:
        if spec.format == "csv":
            cur.execute(
                f"create or replace temp table {stage}_in as {_csv_reader_sql(spec, path, rejects)}"
            )
            present = [r[0] for r in cur.execute(f"describe {stage}_in").fetchall()]
        elif spec.format == "parquet":
            cur.execute(
                f"create or replace temp table {stage}_in as select * from read_parquet({quote_literal(str(path))})"
            )
            present = [r[0] for r in cur.execute(f"describe {stage}_in").fetchall()]
        else:
            reader = (
                _json_array_sql(path)
                if _starts_with_bracket(path)
                else _json_lines_sql(path, rejects)
            )
            cur.execute(f"create or replace temp table {stage}_lines as {reader}")
            present = None
    except duckdb.Error as exc:
        raise SourceLoadError(
            f"{spec.system}.{spec.table}: cannot read {spec.format} file {path}: {str(exc).splitlines()[0]}"
        ) from exc

    if present is not None:
        missing = {f: c for f, c in mapping.items() if c not in present}
        if missing:
            listed = ", ".join(f"'{c}' (for {f})" for f, c in missing.items())
            raise SourceLoadError(
                f"{spec.system}.{spec.table}: file {path} lacks column(s) {listed}; "
                f"it has: {', '.join(present)}"
            )
        selected = ", ".join(
            f"cast({quote_ident(col)} as varchar) as {quote_ident(fld)}"
            for fld, col in mapping.items()
        )
        cur.execute(
            f"create or replace temp table {stage} as select row_number() over () as _row_number, "
            f"cast(to_json(t) as varchar) as _raw_row, {selected} from {stage}_in as t"
        )
    else:
        _check_json_keys(cur, spec, path, stage)
        selected = ", ".join(
            f"case when json_valid(line) then json_extract_string(line, {quote_literal('$.' + quote_ident(col))}) end "
            f"as {quote_ident(fld)}"
            for fld, col in mapping.items()
        )
        cur.execute(
            f"create or replace temp table {stage} as select row_number() over () as _row_number, "
            f"line as _raw_row, not json_valid(line) as _bad_json, {selected} from {stage}_lines"
        )
    rejected = (
        cur.execute(
            f"select line, csv_line, error_type || ': ' || error_message from {rejects}_errors"
        ).fetchall()
        if _table_exists(cur, f"{rejects}_errors")
        else []
    )
    return [(int(line), str(raw), f"unreadable line ({reason})") for line, raw, reason in rejected]


def _check_json_keys(
    cur: duckdb.DuckDBPyConnection, spec: SourceSpec, path: Path, stage: str
) -> None:
    """Fail like a CSV with a missing column when no line of the file has a mapped key."""
    counts = ", ".join(
        f"count(case when json_valid(line) then "
        f"case when json_exists(line, {quote_literal('$.' + quote_ident(col))}) then 1 end end)"
        for col in spec.columns.values()
    )
    found = cur.execute(f"select count(*), {counts} from {stage}_lines").fetchone()
    if found[0] == 0:
        return
    missing = {f: c for (f, c), n in zip(spec.columns.items(), found[1:], strict=True) if n == 0}
    if missing:
        listed = ", ".join(f"'{c}' (for {f})" for f, c in missing.items())
        raise SourceLoadError(
            f"{spec.system}.{spec.table}: no record in {path} has key(s) {listed}"
        )


def _table_exists(cur: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        cur.execute("select count(*) from duckdb_tables() where table_name = ?", [name]).fetchone()[
            0
        ]
    )


# ---------------------------------------------------------------- typing and validation


def _typed_expr(spec: SourceSpec, fld: str, kind: str) -> str:
    v = f"nullif(trim({quote_ident(fld)}), '')"
    if kind == "text":
        return quote_ident(fld)
    if kind == "date":
        fmts = "[" + ", ".join(quote_literal(f) for f in spec.date_formats) + "]"
        return f"coalesce(try_cast({v} as date), cast(try_strptime({v}, {fmts}) as date))"
    if kind == "timestamp":
        fmts = "[" + ", ".join(quote_literal(f) for f in spec.timestamp_formats) + "]"
        # Offsets are converted to UTC (the session time zone); naive values are taken as UTC.
        return (
            f"coalesce(cast(try_cast({v} as timestamptz) as timestamp), try_strptime({v}, {fmts}))"
        )
    if kind == "decimal":
        if spec.decimal_separator == ",":
            v = f"replace(replace({v}, '.', ''), ',', '.')"
        return f"try_cast({v} as decimal(18,2))"
    if kind == "integer":
        d = f"try_cast({v} as double)"
        return (
            f"case when regexp_full_match({v}, '[+-]?[0-9]+') then try_cast({v} as bigint) "
            f"when {d} = floor({d}) then try_cast({d} as bigint) end"
        )
    if kind == "boolean":
        t = ", ".join(quote_literal(x) for x in _TRUE)
        f = ", ".join(quote_literal(x) for x in _FALSE)
        return f"case when lower({v}) in ({t}) then true when lower({v}) in ({f}) then false end"
    raise ValueError(kind)


def _validated_select_sql(spec: SourceSpec, stage: str, file_path: str) -> str:
    """SELECT every canonical field typed, plus `_reason` (null when the row is usable)."""
    entity = ENTITIES[spec.entity]
    typed, checks = [], []
    for fld, kind in entity.fields.items():
        if fld not in spec.columns:
            typed.append(f"cast(null as {DUCKDB_TYPES[kind]}) as {quote_ident(fld)}")
            continue
        expr = _typed_expr(spec, fld, kind)
        typed.append(f"{expr} as {quote_ident(fld)}")
        if kind != "text":
            checks.append(
                f"case when nullif(trim({quote_ident(fld)}), '') is not null and ({expr}) is null "
                f"then 'unparseable {kind} in {fld}: ' || left({quote_ident(fld)}, 60) end"
            )
    checks.insert(0, "case when nullif(trim(record_id), '') is null then 'missing record id' end")
    if spec.format == "json":
        checks.insert(0, "case when _bad_json then 'malformed JSON line' end")
    reason = f"nullif(concat_ws('; ', {', '.join(checks)}), '')"
    return (
        f"select {', '.join(typed)}, {quote_literal(file_path)} as _source_file, _row_number, "
        f"_raw_row, {reason} as _reason from {stage}"
    )


def load_source(
    con: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    landing_dir: Path,
    suppression: SuppressionList | None = None,
) -> LoadResult:
    """Replace `raw.<system>__<table>` with every usable row of the source's files.

    `suppression` defaults to the configured suppression list; its rows are left out.

    Raises:
        SourceLoadError: a file cannot be read, is empty or lacks a mapped column.
        SuppressionKeyError: the suppression list is not empty and CDP_SUPPRESSION_KEY is unset.
    """
    started = time.perf_counter()
    if suppression is None:
        suppression = load_suppression_list()
    key = suppression_key() if suppression else b""
    loaded_at = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    files = find_files(spec, landing_dir)
    cur = con.cursor()
    cur.execute("set TimeZone = 'UTC'")
    cur.execute(QUARANTINE_DDL)
    cur.execute("create schema if not exists raw")
    entity = ENTITIES[spec.entity]
    columns = ", ".join(f"{quote_ident(f)} {DUCKDB_TYPES[k]}" for f, k in entity.fields.items())
    cur.execute(
        f"create or replace temp table _validated ({columns}, _source_file varchar, "
        "_row_number bigint, _raw_row varchar, _reason varchar)"
    )
    unreadable: list[tuple[str, int, str, str]] = []
    for i, path in enumerate(files):
        stage, rejects = f"_stage_{i}", f"_rejects_{i}"
        for line, raw, reason in _read_file(cur, spec, path, stage, rejects):
            unreadable.append((str(path), line, raw, reason))
        cur.execute(f"insert into _validated {_validated_select_sql(spec, stage, str(path))}")
        for table in (
            stage,
            f"{stage}_in",
            f"{stage}_lines",
            f"{rejects}_errors",
            f"{rejects}_scans",
        ):
            cur.execute(f"drop table if exists {table}")
        log.info("%s: read %s", spec.name, path.name)

    suppressed = 0
    if suppression:
        suppressed = drop_suppressed_rows(
            cur, "_validated", spec.name, spec.entity, suppression, key
        )
        unreadable, dropped = filter_unreadable_lines(unreadable, spec.name, suppression, key)
        suppressed += dropped

    fields = ", ".join(quote_ident(f) for f in entity.fields)
    raw_table = f"raw.{quote_ident(spec.name)}"
    cur.execute("begin transaction")
    try:
        # Later files and later rows win over earlier rows with the same record id. Only ids
        # that occur twice are ranked: a window over every row (and re-sorting the result)
        # was half of the load time of an 11M-row source.
        cur.execute(
            "update _validated set _reason = 'duplicate record id ' || trim(_validated.record_id) "
            "|| ': superseded by a later row' from ("
            "  select _source_file, _row_number from ("
            "    select _source_file, _row_number, row_number() over (partition by trim(record_id) "
            "    order by _source_file desc, _row_number desc) as _rank"
            "    from _validated"
            "    where _reason is null and trim(record_id) in ("
            "      select trim(record_id) from _validated where _reason is null"
            "      group by 1 having count(*) > 1)"
            "  ) where _rank > 1"
            ") as losers "
            "where losers._source_file = _validated._source_file "
            "and losers._row_number = _validated._row_number"
        )
        cur.execute(
            f"create or replace table {raw_table} as select {fields}, _source_file, _row_number, "
            f"cast({quote_literal(loaded_at.isoformat(sep=' '))} as timestamp) as _loaded_at "
            "from _validated where _reason is null"
        )
        # Counts only (the run summary reads the latest per source): no identifiers here.
        cur.execute(SUPPRESSED_DDL)
        cur.execute("delete from privacy.suppressed_rows where source = ?", [spec.name])
        cur.execute(
            "insert into privacy.suppressed_rows values (?, ?, ?)",
            [spec.name, loaded_at, suppressed],
        )
        cur.execute("delete from quarantine.quarantined_rows where source = ?", [spec.name])
        cur.execute(
            "insert into quarantine.quarantined_rows select ?, _source_file, _row_number, _raw_row, "
            "_reason, ? from _validated where _reason is not null",
            [spec.name, loaded_at],
        )
        if unreadable:
            cur.executemany(
                "insert into quarantine.quarantined_rows values (?, ?, ?, ?, ?, ?)",
                [
                    (spec.name, f, line, raw, reason, loaded_at)
                    for f, line, raw, reason in unreadable
                ],
            )
        cur.execute("commit")
    except Exception:
        cur.execute("rollback")
        raise
    rows = cur.execute(f"select count(*) from {raw_table}").fetchone()[0]
    reasons = dict(
        cur.execute(
            "select regexp_replace(reason, ':.*', ''), count(*) from quarantine.quarantined_rows "
            "where source = ? group by all order by 2 desc",
            [spec.name],
        ).fetchall()
    )
    cur.execute("drop table if exists _validated")
    result = LoadResult(
        source=spec.name,
        files=[str(f) for f in files],
        rows=int(rows),
        quarantined=int(sum(reasons.values())),
        loaded_at=loaded_at,
        seconds=time.perf_counter() - started,
        reasons=reasons,
        suppressed=suppressed,
    )
    log.info(
        "%s: %d rows from %d file(s), %d quarantined, %d suppressed, %.1fs (%.0f rows/s)",
        spec.name,
        result.rows,
        len(files),
        result.quarantined,
        result.suppressed,
        result.seconds,
        result.rows / max(result.seconds, 1e-9),
    )
    return result
