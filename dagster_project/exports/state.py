"""What each destination has received, and the changes since then (entered, updated, exited).

`activation.delivered_members` holds, per destination x audience, the members as last delivered
successfully (a hash of their payload, and for hashed platforms the hashed identifiers needed to
remove them later, never raw contact data). `activation.deliveries` logs every delivery.
The state is written only after a delivery succeeded, so a failed run leaves it as it was and the
next run computes the same changes again (plus whatever happened since).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from dagster_project.exports.config import Destination
from dagster_project.exports.hashing import output_columns
from dagster_project.warehouse import table_columns, table_exists

log = logging.getLogger(__name__)

SCHEMA = "activation"
STATE_TABLE = f"{SCHEMA}.delivered_members"
LOG_TABLE = f"{SCHEMA}.deliveries"
PROFILES = "marts.customer_profiles"
CONSENT = "marts.consent_current"
CHANGES = "_activation_changes"
# Version tag of the packed exit keys (`exit_key_sql`).
EXIT_KEY_PREFIX = "b1:"
# The profile columns dbt hashes into customer_profiles.contact_hash (macro
# contact_hash_columns; tests/exports/test_contact_hash.py keeps the two lists equal).
CONTACT_HASH = "contact_hash"
CONTACT_HASH_COLUMNS = frozenset(
    {"first_name", "last_name", "email", "phone", "street", "house_number", "postcode", "city",
     "country", "date_of_birth"}
)  # fmt: skip

DDL = (
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {STATE_TABLE} (
        destination varchar not null,
        audience varchar not null,
        person_id varchar not null,
        category varchar not null,   -- '' for audiences without categories
        payload_hash ubigint not null, -- DuckDB hash() of the sent fields
        exit_key varchar,            -- hashed identifiers (JSON) to remove the member later
        delivered_at timestamp not null,
        run_id varchar not null
    )""",
    f"""create table if not exists {LOG_TABLE} (
        destination varchar not null,
        kind varchar not null,
        audience varchar,
        run_id varchar not null,
        mode varchar not null,       -- full | delta
        status varchar not null,     -- success | failed | skipped
        entered bigint,
        exited bigint,
        updated bigint,
        rows bigint,
        path varchar,
        checksum varchar,
        detail varchar,              -- reason of a skip or failure (no personal data)
        started_at timestamp not null,
        finished_at timestamp not null
    )""",
)


@dataclass
class ChangeCounts:
    entered: int = 0
    updated: int = 0
    exited: int = 0
    unchanged: int = 0
    members: int = 0  # current members after consent


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_state_schema(con: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        con.execute(statement)


def _is_base_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? "
            "and table_name = ? and table_type = 'BASE TABLE'",
            [schema, table],
        ).fetchone()[0]
    )


def exit_key_sql(headers: list[str]) -> str:
    """SQL packing the hashed identifiers (SHA-256 hex columns `headers`) into one short string.

    'b1:' + base64 of the raw 32-byte digests in `headers` order (32 zero bytes for a null):
    about half the size of JSON with hex values, and the delta statement reads the stored key
    of every delivered member.
    """
    parts = " || ".join(f"coalesce(unhex(\"{h}\"), unhex(repeat('0', 64)))" for h in headers)
    return f"'{EXIT_KEY_PREFIX}' || to_base64({parts})"


def exit_hex_sql(key: str) -> str:
    """SQL: the packed digests of an `exit_key_sql` key as one hex string (null for older JSON keys)."""
    start = len(EXIT_KEY_PREFIX) + 1
    return f"case when starts_with({key}, '{EXIT_KEY_PREFIX}') then hex(from_base64(substr({key}, {start}))) end"


def exit_value_sql(key: str, hex_column: str, headers: list[str], header: str) -> str:
    """SQL reading one hashed identifier back from an exit key.

    Args:
        key: The exit key column (an `exit_key_sql` value, or JSON written by older versions).
        hex_column: A column holding `exit_hex_sql(key)`, computed once per row.
        headers: The identifier headers, in the order the key was packed.
        header: The one to read.
    """
    i = headers.index(header)
    return (
        f"case when {hex_column} is null then json_extract_string({key}, '$.\"{header}\"') "
        f"else nullif(lower(substr({hex_column}, {64 * i + 1}, 64)), repeat('0', 64)) end"
    )


def consent_condition(
    con: duckdb.DuckDBPyConnection, channel: str, profile_columns: set[str] | None = None
) -> str:
    """SQL condition on `m.person_id` / `p.*` that holds only for people with the channel's consent.

    Reads the profile's `has_<channel>_consent` flag when the profiles have it: dbt derives it
    from `marts.consent_current` in the same build, and the test
    assert_profiles_consent_flags_match_consents fails the build (so no export runs) when the
    two disagree. One boolean column of the profile scan the delta reads anyway costs a
    fraction of a join with the ledger (measured at 1M people: the delta's main statement
    about a quarter cheaper).
    Without the flag, `marts.consent_current` (person_id, channel, is_granted). No consent
    record means no consent.
    """
    if channel == "none":
        return "true"
    flag = f"has_{channel}_consent"
    if profile_columns is None:
        profile_columns = table_columns(con, "marts", "customer_profiles")
    if flag in profile_columns:
        return f"coalesce(p.{flag}, false)"
    if table_exists(con, "marts", "consent_current"):
        return (
            f"m.person_id in (select cast(person_id as varchar) from {CONSENT} "
            f"where channel = '{channel}' and is_granted)"
        )
    raise ValueError(
        f"no consent data for channel {channel!r}: neither {PROFILES}.{flag} nor {CONSENT} exists"
    )


def audience_has_category(con: duckdb.DuckDBPyConnection, audience: str) -> bool:
    columns = table_columns(con, "audiences", audience)
    if not columns:
        raise ValueError(
            f"audience table audiences.{audience} does not exist (build the audience first)"
        )
    return "category" in columns


def compute_changes(
    con: duckdb.DuckDBPyConnection, dest: Destination, audience: str, full: bool
) -> ChangeCounts:
    """Write temp table `_activation_changes` for one audience and return its counts.

    Columns: person_id, category, change (entered | updated | exited, plus unchanged when
    `full`), payload_hash, exit_key (new), old_exit_key (as delivered), seq (0-based, fixed
    once materialised) and the destination's output columns (NULL for exited rows).
    One statement: only the changed rows are materialised, and identifiers are normalised
    and hashed only for them (a delta day costs a join and a 64-bit hash per member).
    """
    ensure_state_schema(con)
    profile_columns = table_columns(con, "marts", "customer_profiles")
    missing = sorted(set(dest.fields) - profile_columns)
    if missing:
        raise ValueError(f"destination {dest.name!r}: {PROFILES} has no columns {missing}")
    has_category = audience_has_category(con, audience)
    category = "cast(category as varchar)" if has_category else "''"
    # without categories every key's category is '': joining on it costs a string compare
    same_category = "and c.category = s.category" if has_category else ""
    signature = f"{dest.platform}:{','.join(dest.fields)}"
    if CONTACT_HASH in profile_columns and set(dest.fields) <= CONTACT_HASH_COLUMNS:
        # dbt hashed these fields once per profile: one BIGINT read instead of every field. A
        # change in a covered field the destination does not send re-sends the same row (harmless)
        payload = f"p.{CONTACT_HASH}"
    else:
        payload = ", ".join(f"coalesce(cast(p.\"{f}\" as varchar), '')" for f in dest.fields)
    consent = consent_condition(con, dest.consent, profile_columns)
    cols = output_columns(dest.platform, dest.fields, alias="p")
    select_cols = ", ".join(f'{c.sql} as "{c.header}"' for c in cols)
    identifiers = [c for c in cols if c.identifier]
    exit_key = exit_key_sql([c.header for c in identifiers]) if identifiers else "null"
    keep = "true" if full else "change <> 'unchanged'"
    # A delta fetches the few changed rows' fields and old exit keys again by rowid (stable
    # within the statement): a rowid filter in the scan, about 3x cheaper for the profiles than
    # a second hash join probed by every profile. A full export reads them all, where the hash
    # join is cheaper; profiles that are a view have no rowid.
    by_rowid = not full and _is_base_table(con, "marts", "customer_profiles")
    prow = "p.rowid" if by_rowid else "null"
    profile_join = (
        "p.rowid = d.prow"
        if by_rowid
        else "cast(p.person_id as varchar) = d.person_id and d.change <> 'exited'"
    )
    if not identifiers:
        old_exit = ""
    elif not full:
        old_exit = (
            f"left join {STATE_TABLE} s2 on s2.rowid = d.srow and d.change in ('updated', 'exited')"
        )
    else:
        old_exit = f"""left join (select person_id, category, exit_key from {STATE_TABLE}
                       where destination = $dest and audience = $aud) s2
              on d.change in ('updated', 'exited') and s2.person_id = d.person_id
             and s2.category = d.category"""
    before = con.execute(
        f"select count(*) from {STATE_TABLE} where destination = ? and audience = ?",
        [dest.name, audience],
    ).fetchone()[0]
    t0 = time.perf_counter()
    con.execute(
        f"""create or replace temp table {CHANGES} as
        with cur as (
            select m.person_id, m.category, {prow} as prow,
                   -- DuckDB's 64-bit hash is ~5x faster than md5 here; if an upgrade changed it,
                   -- the next delta would resend every member once (harmless: idempotent)
                   hash('{signature}', {payload}) as payload_hash
            from (select cast(person_id as varchar) as person_id,
                         coalesce({category}, '') as category
                  from audiences."{audience}") m  -- unique per key: audiences are built so
            join {PROFILES} p on cast(p.person_id as varchar) = m.person_id
            where {consent}
        ), st as (
            select person_id, category, payload_hash, rowid as srow
            from {STATE_TABLE} where destination = $dest and audience = $aud
        ), diff as (
            select coalesce(c.person_id, s.person_id) as person_id,
                   coalesce(c.category, s.category) as category,
                   case when s.person_id is null then 'entered'
                        when c.person_id is null then 'exited'
                        when c.payload_hash <> s.payload_hash then 'updated'
                        else 'unchanged' end as change,
                   c.payload_hash, c.prow, s.srow  -- NULL for exited / entered rows
            from cur c full outer join st s
              on c.person_id = s.person_id {same_category}
        ), shaped as (
            select d.* exclude (prow, srow),
                   {"s2.exit_key" if identifiers else "null"} as old_exit_key, {select_cols}
            from (select * from diff where {keep}) d
            {old_exit}
            left join {PROFILES} p on {profile_join}
        )
        select *, case when change = 'exited' then null else {exit_key} end as exit_key,
               cast(row_number() over () - 1 as bigint) as seq  -- fixed once materialised
        from shaped""",
        {"dest": dest.name, "aud": audience},
    )
    counts = dict(con.execute(f"select change, count(*) from {CHANGES} group by 1").fetchall())
    entered, updated, exited = (counts.get(k, 0) for k in ("entered", "updated", "exited"))
    members = before + entered - exited
    log.debug("%s/%s: changes computed in %.2fs", dest.name, audience, time.perf_counter() - t0)
    return ChangeCounts(
        entered=entered,
        updated=updated,
        exited=exited,
        unchanged=members - entered - updated,
        members=members,
    )


def apply_state(
    con: duckdb.DuckDBPyConnection,
    dest: Destination,
    audience: str,
    run_id: str,
    full: bool,
    seq_range: tuple[int, int] | None = None,
) -> None:
    """Record delivered changes: all of them, or those with `seq` in [lo, hi) (one webhook batch).

    One DuckDB transaction. With `full` and no range, the audience's state is replaced whole.
    """
    where = (
        "true" if seq_range is None else f"seq >= {int(seq_range[0])} and seq < {int(seq_range[1])}"
    )
    now = utc_now()
    con.execute("begin transaction")
    try:
        if full and seq_range is None:
            con.execute(
                f"delete from {STATE_TABLE} where destination = ? and audience = ?",
                [dest.name, audience],
            )
        else:
            con.execute(
                f"""delete from {STATE_TABLE} s using (select person_id, category from {CHANGES} where {where}) c
                where s.destination = ? and s.audience = ? and s.person_id = c.person_id
                  and s.category = c.category""",
                [dest.name, audience],
            )
        con.execute(
            f"""insert into {STATE_TABLE}
            select ?, ?, person_id, category, payload_hash, exit_key, ?, ?
            from {CHANGES} where change <> 'exited' and {where}""",
            [dest.name, audience, now, run_id],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def record_delivery(
    con: duckdb.DuckDBPyConnection,
    dest: Destination,
    run_id: str,
    mode: str,
    status: str,
    started_at: datetime,
    audience: str | None = None,
    counts: ChangeCounts | None = None,
    rows: int | None = None,
    path: str | None = None,
    checksum: str | None = None,
    detail: str | None = None,
) -> None:
    ensure_state_schema(con)
    c = counts or ChangeCounts()
    con.execute(
        f"insert into {LOG_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            dest.name, dest.kind, audience, run_id, mode, status,
            c.entered if counts else None, c.exited if counts else None,
            c.updated if counts else None, rows, path, checksum, detail, started_at, utc_now(),
        ],
    )  # fmt: skip


def delivery_summary_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """One line per destination about its latest delivery (for the run summary); [] if none."""
    if not table_exists(con, SCHEMA, "deliveries"):
        return []
    rows = con.execute(
        f"""with latest as (
            select destination, run_id from {LOG_TABLE}
            qualify row_number() over (partition by destination order by finished_at desc) = 1
        )
        select l.destination, any_value(kind), any_value(mode),
               string_agg(distinct status, '/' order by status), coalesce(sum(entered), 0),
               coalesce(sum(updated), 0), coalesce(sum(exited), 0), coalesce(sum(rows), 0),
               any_value(detail), string_agg(path, ';')
        from {LOG_TABLE} d join latest l using (destination, run_id)
        group by 1 order by 1"""
    ).fetchall()
    lines = []
    for name, kind, mode, status, entered, updated, exited, sent, detail, paths in rows:
        line = f"    {name:<28} {kind:<8} {mode:<5} {status:<8}"
        if status == "skipped":
            line += f" ({detail})"
        else:
            line += (
                f" entered {entered:,}, updated {updated:,}, exited {exited:,}, rows sent {sent:,}"
            )
        lines.append(line)
        folders = sorted({str(Path(p).parent) for p in (paths or "").split(";") if p})
        lines += [f"      files in {folder}" for folder in folders]
    return lines
