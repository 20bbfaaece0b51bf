"""Right of access: everything the warehouse holds on one person, as one JSON-ready document.

Read-only. Each section reads one table and is left out (with a note) when the table does not
exist yet, so the export works on a warehouse built by an older version too.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from dagster_project.privacy.erasure import PersonNotFoundError, resolve_person
from dagster_project.warehouse import table_columns, table_exists

RECENT_EVENTS = 200


def _rows(cur: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict[str, Any]]:
    rel = cur.execute(sql, params)
    names = [d[0] for d in rel.description]
    return [dict(zip(names, row, strict=True)) for row in rel.fetchall()]


def export_person(
    con: duckdb.DuckDBPyConnection,
    email: str | None = None,
    phone: str | None = None,
    person_id: str | None = None,
    recent_events: int = RECENT_EVENTS,
) -> dict[str, Any]:
    """The subject-access document for the person one identifier belongs to.

    Raises:
        PersonNotFoundError: no record in the warehouse carries the identifier.
        ValueError: no identifier given, or it cannot be normalised.
    """
    identifiers, found = resolve_person(con, email=email, phone=phone, person_id=person_id)
    if not found:
        raise PersonNotFoundError("no person in the warehouse has that identifier")
    cur = con.cursor()
    persons = sorted(identifiers.values["person"])
    records = sorted(identifiers.values["record"])
    doc: dict[str, Any] = {
        "generated_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "person_ids": persons,
        "notes": [],
    }

    def section(name: str, schema: str, table: str, sql: str, params: list) -> None:
        if table_exists(cur, schema, table):
            doc[name] = _rows(cur, sql, params)
        else:
            doc[name] = []
            doc["notes"].append(f"{schema}.{table} does not exist in this warehouse")

    section(
        "profile",
        "marts",
        "customer_profiles",
        "select * from marts.customer_profiles where person_id in (select unnest(?))",
        [persons],
    )
    section(
        "source_records",
        "identity",
        "int_person_records_unioned",
        "select m.person_id, m.match_rule, r.* from identity.person_map m "
        "join identity.int_person_records_unioned r using (record_key) "
        "where m.person_id in (select unnest(?)) order by r.source, r.source_record_id",
        [persons],
    )
    section(
        "linked_cookies",
        "identity",
        "person_map",
        "select source_record_id as cookie_id, person_id from identity.person_map "
        "where source = 'web_analytics__cookies' and person_id in (select unnest(?)) order by 1",
        [persons],
    )
    section(
        "consent_current",
        "marts",
        "consent_current",
        "select * from marts.consent_current where person_id in (select unnest(?)) order by channel",
        [persons],
    )
    section(
        "consent_history",
        "marts",
        "consent_history",
        "select * from marts.consent_history where person_id in (select unnest(?)) "
        "order by occurred_at, consent_event_id",
        [persons],
    )
    history = table_columns(cur, "audiences", "membership_history")
    if {"person_id", "entered_at", "exited_at"} <= history:
        audience = "audience" if "audience" in history else "audience_name"
        doc["audience_memberships"] = _rows(
            cur,
            f"select {audience} as audience, entered_at, exited_at from audiences.membership_history "
            "where person_id in (select unnest(?)) order by entered_at, 1",
            [persons],
        )
    else:
        # Without the history, the current members of each audience table.
        doc["notes"].append("audiences.membership_history not found: current memberships only")
        memberships = []
        for (table,) in cur.execute(
            "select table_name from information_schema.columns where table_schema = 'audiences' "
            "and column_name = 'person_id' order by 1"
        ).fetchall():
            cols = table_columns(cur, "audiences", table)
            since = "min(computed_at)" if "computed_at" in cols else "null"
            hit = cur.execute(
                f'select count(*), {since} from audiences."{table}" where person_id in (select unnest(?))',
                [persons],
            ).fetchone()
            if hit[0]:
                memberships.append(
                    {"audience": table, "entered_at": None, "exited_at": None, "as_of": hit[1]}
                )
        doc["audience_memberships"] = memberships
    section(
        "recent_events",
        "marts",
        "customer_events",
        "select * from marts.customer_events where person_id in (select unnest(?)) "
        "order by occurred_at desc nulls last, event_id limit ?",
        [persons, recent_events],
    )
    doc["record_keys"] = records
    return doc


def _json_default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | tuple):
        return list(value)
    return str(value)


def to_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, default=_json_default) + "\n"


def write_json(doc: dict[str, Any], path: Path) -> None:
    """Write atomically (temporary name, then rename), readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(to_json(doc))
    os.replace(tmp, path)
