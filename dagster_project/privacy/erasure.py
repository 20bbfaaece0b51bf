"""Right to erasure: resolve a request to the whole person, and purge what survives runs.

`resolve_person` (read-only) turns one identifier into every identifier the warehouse holds for
that person now: person_ids, record keys, record/cookie/account/order ids, e-mail addresses and
phone numbers. `cdp forget` hashes them into the suppression list; the loader then drops matching
rows on every load, so raw, staging, identity, marts and audiences are rebuilt without them.

`purge_erased` removes erased rows from tables that are not rebuilt from raw every run (person
id history, membership history, delivery state, ...). The tables are discovered through
information_schema by column name (see `column_kind`), not listed by hand, and each distinct value
not in this run's identity.person_map is hashed once in SQL. The quarantine (raw text) is checked
token by token.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import duckdb

from dagster_project.privacy.load_filter import raw_text_is_suppressed
from dagster_project.privacy.suppression import (
    SuppressionList,
    hmac_sql,
    hmac_sql_params,
    normalise_email,
    normalise_phone,
)
from dagster_project.warehouse import table_exists

log = logging.getLogger(__name__)

# Schemas rebuilt from the (suppressed) landing files every run: the loader and dbt never write
# an erased person's rows there, so the daily purge skips them (`cdp forget` does not).
REBUILT_SCHEMAS: tuple[str, ...] = ("raw", "staging")
# A destination's delivery state of an erased member is removed by the delivery that sends the
# member's exit (they left every audience); purging it first would leave them at the destination.
PENDING_EXIT_SCHEMAS: tuple[str, ...] = ("activation",)
_ID_COLUMNS = {"source_record_id", "cookie_id", "account_id", "person_record_id", "contact_id"}


class PersonNotFoundError(LookupError):
    """No record in the warehouse carries the identifier (the request is still recorded)."""


@dataclass
class PersonIdentifiers:
    """Plain identifiers of one person, by suppression kind (never logged or stored as such)."""

    values: dict[str, set[str]] = field(
        default_factory=lambda: {k: set() for k in ("email", "phone", "record", "id", "person")}
    )

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.values.items()}


def resolve_person(
    con: duckdb.DuckDBPyConnection,
    email: str | None = None,
    phone: str | None = None,
    person_id: str | None = None,
) -> tuple[PersonIdentifiers, bool]:
    """Every identifier of the person one of `email`/`phone`/`person_id` belongs to.

    Returns the identifiers (always including the requested one, normalised) and whether the
    person was found in the warehouse. Read-only.

    Raises:
        ValueError: no identifier given, or it cannot be normalised.
    """
    ids = PersonIdentifiers()
    v = ids.values
    if email is not None:
        norm = normalise_email(email)
        if not norm:
            raise ValueError("--email is not an e-mail address")
        v["email"].add(norm)
    if phone is not None:
        norm = normalise_phone(phone)
        if not norm:
            raise ValueError("--phone is not a phone number (expected NL or DK, or +<country>...)")
        v["phone"].add(norm)
    if person_id is not None:
        if not person_id.strip():
            raise ValueError("--person-id is empty")
        v["person"].add(person_id.strip())
    if not any(v.values()):
        raise ValueError("give one of --email, --phone, --person-id")

    cur = con.cursor()
    if not table_exists(cur, "identity", "person_map"):
        return ids, False
    records = "identity.int_person_records_unioned"
    has_records = table_exists(cur, "identity", "int_person_records_unioned")
    persons = set(v["person"])
    if has_records:
        persons |= {
            r[0]
            for r in cur.execute(
                f"select distinct m.person_id from {records} r join identity.person_map m "
                "using (record_key) where r.email in (select unnest(?)) or r.phone in (select unnest(?))",
                [sorted(v["email"]), sorted(v["phone"])],
            ).fetchall()
        }
    if len(persons) > 1 and not v["person"]:
        # a family mailbox or a shared landline: erasing all its people needs a decision per person
        raise ValueError(
            f"that identifier belongs to {len(persons)} different people (a shared mailbox or "
            "phone?): find the right one with `cdp export-person` and use --person-id"
        )
    rows = cur.execute(
        "select record_key, source_record_id, person_id from identity.person_map "
        "where person_id in (select unnest(?))",
        [sorted(persons)],
    ).fetchall()
    if not rows:
        return ids, False
    v["person"] |= {r[2] for r in rows}
    v["record"] |= {r[0] for r in rows}
    v["id"] |= {r[1] for r in rows if r[1]}
    keys = sorted(v["record"])
    if has_records:
        # an e-mail or phone other people also use (household) is not theirs to lose: only the
        # person's own records (by record key and id) are suppressed for it
        shared = cur.execute(
            f"""select list(distinct r.email) filter (where r.email is not null),
                       list(distinct r.phone) filter (where r.phone is not null)
                from {records} as r join identity.person_map as m using (record_key)
                where m.person_id not in (select unnest(?))""",
            [sorted(v["person"])],
        ).fetchone()
        shared_emails, shared_phones = set(shared[0] or []), set(shared[1] or [])
        for e, p, a in cur.execute(
            f"select email, phone, account_id from {records} where record_key in (select unnest(?))",
            [keys],
        ).fetchall():
            v["email"].update([e] if e and e not in shared_emails else [])
            v["phone"].update([p] if p and p not in shared_phones else [])
            v["id"].update([a] if a else [])
    # Orders (and through them order lines) refer to the person's records by id.
    for schema, table in cur.execute(
        "select table_schema, table_name from information_schema.columns "
        "where table_schema = 'staging' group by all "
        "having count(*) filter (where column_name = 'order_id') > 0 "
        "and count(*) filter (where column_name = 'person_record_id') > 0"
    ).fetchall():
        v["id"] |= {
            r[0]
            for r in cur.execute(
                f'select distinct order_id from "{schema}"."{table}" '
                "where person_record_id in (select unnest(?)) and order_id is not null",
                [sorted(v["id"])],
            ).fetchall()
        }
    return ids, True


# ---------------------------------------------------------------- purge


def column_kind(column: str) -> str | None:
    """Suppression kind of a column by its name (None: not an identifier column)."""
    c = column.lower()
    if c.endswith("person_id"):
        return "person"
    if c.endswith("record_key") or c.startswith("record_key_"):
        return "record"
    if c in _ID_COLUMNS:
        return "id"
    if c in ("email", "phone"):
        return c
    return None


@dataclass
class PurgeResult:
    deleted: dict[str, int]
    tables_scanned: int
    values_hashed: int
    seconds: float


def discover_tables(
    cur: duckdb.DuckDBPyConnection, skip_schemas: tuple[str, ...]
) -> dict[str, list[tuple[str, str]]]:
    """{"schema.table": [(column, kind), ...]} for base tables with identifier columns."""
    found: dict[str, list[tuple[str, str]]] = {}
    for schema, table, column, dtype in cur.execute(
        "select c.table_schema, c.table_name, c.column_name, c.data_type "
        "from information_schema.columns c join information_schema.tables t "
        "using (table_catalog, table_schema, table_name) "
        "where t.table_type = 'BASE TABLE' and c.table_catalog = current_database() "
        "and c.table_schema not in (select unnest(?)) order by 1, 2, c.ordinal_position",
        [list(skip_schemas)],
    ).fetchall():
        kind = column_kind(column)
        if kind and dtype.upper() in ("VARCHAR", "TEXT", "STRING"):
            found.setdefault(f'"{schema}"."{table}"', []).append((column, kind))
    return found


def purge_erased(
    con: duckdb.DuckDBPyConnection,
    suppression: SuppressionList,
    key: bytes,
    skip_schemas: tuple[str, ...] = REBUILT_SCHEMAS,
) -> PurgeResult:
    """Delete every row of an erased person from the warehouse's identifier-bearing tables.

    Returns rows deleted per table (only tables that lost rows), in one transaction.
    """
    started = time.perf_counter()
    cur = con.cursor()
    tables = discover_tables(cur, skip_schemas)
    deleted: dict[str, int] = {}
    if not suppression:
        return PurgeResult(deleted, len(tables), 0, time.perf_counter() - started)
    outer, inner = hmac_sql_params(key)
    cur.execute("create or replace temp table _purge_digests (digest varchar)")
    cur.execute("insert into _purge_digests select unnest(?)", [[d for _, d in suppression.rows()]])
    parts = [
        f"select distinct '{kind}:' || \"{column}\" as message from {table} "
        f'where "{column}" is not null'
        for table, cols in tables.items()
        for column, kind in cols
    ]
    hashed = 0
    cur.execute("create or replace temp table _purge_hits (message varchar)")
    if parts:
        cur.execute(
            "create or replace temp table _purge_values as select distinct message from ("
            + " union all ".join(parts)
            + ")"
        )
        if table_exists(cur, "identity", "person_map"):
            # Values of this run's person_map belong to records loaded (not suppressed) today, so
            # only the rest is hashed: at 1M people that skips millions of live ids.
            cur.execute(
                "delete from _purge_values where message in ("
                "select 'person:' || person_id from identity.person_map union all "
                "select 'record:' || record_key from identity.person_map union all "
                "select 'id:' || source_record_id from identity.person_map)"
            )
        hashed = cur.execute("select count(*) from _purge_values").fetchone()[0]
        cur.execute(
            "insert into _purge_hits select message from _purge_values "
            f"where {hmac_sql('message', '$outer', '$inner')} in (select digest from _purge_digests)",
            {"outer": outer, "inner": inner},
        )
    cur.execute("begin transaction")
    try:
        for table, cols in tables.items():
            cond = " or ".join(
                f"('{kind}:' || \"{column}\") in (select message from _purge_hits)"
                for column, kind in cols
            )
            n = cur.execute(f"delete from {table} where {cond}").fetchone()[0]
            if n:
                deleted[table.replace('"', "")] = int(n)
        if table_exists(cur, "quarantine", "quarantined_rows"):
            doomed = [
                (s, f, r)
                for s, f, r, raw in cur.execute(
                    "select source, file, row_number, raw_row from quarantine.quarantined_rows"
                ).fetchall()
                if raw_text_is_suppressed(raw, s, suppression, key)
            ]
            for s, f, r in doomed:
                cur.execute(
                    "delete from quarantine.quarantined_rows "
                    "where source = ? and file = ? and row_number = ?",
                    [s, f, r],
                )
            if doomed:
                deleted["quarantine.quarantined_rows"] = len(doomed)
        cur.execute("commit")
    except Exception:
        cur.execute("rollback")
        raise
    for temp in ("_purge_digests", "_purge_values", "_purge_hits"):
        cur.execute(f"drop table if exists {temp}")
    result = PurgeResult(deleted, len(tables), int(hashed), time.perf_counter() - started)
    log.info(
        "purge: %d tables scanned, %d values hashed, %d rows deleted in %.1fs",
        result.tables_scanned,
        result.values_hashed,
        sum(deleted.values()),
        result.seconds,
    )
    return result
