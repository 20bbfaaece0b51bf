"""Builders for identity tests: hand-made person records and a small synthetic crowd."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import pandas as pd

COLUMNS: dict[str, str] = {
    "record_key": "varchar",
    "source": "varchar",
    "source_record_id": "varchar",
    "account_id": "varchar",
    "first_name": "varchar",
    "last_name": "varchar",
    "first_name_key": "varchar",
    "last_name_key": "varchar",
    "first_name_canonical": "varchar",
    "email": "varchar",
    "phone": "varchar",
    "street": "varchar",
    "house_number": "varchar",
    "postcode": "varchar",
    "city": "varchar",
    "country": "varchar",
    "date_of_birth": "date",
    "loyalty_tier": "varchar",
    "contact_channel": "varchar",
    "email_consent": "boolean",
    "sms_consent": "boolean",
    "consent_updated_at": "timestamp",
    "created_at": "timestamp",
    "updated_at": "timestamp",
}
NICKNAMES = {
    "sofie": "sophia",
    "fie": "sophia",
    "jan": "johannes",
    "hans": "johannes",
    "wim": "willem",
}
SOURCES = {
    "ws": "webshop__customers",
    "nl": "newsletter__subscribers",
    "cs": "customer_service__contacts",
    "lo": "loyalty__members",
}


def rec(key: str, **fields: Any) -> dict[str, Any]:
    """One person record; `key` is '<ws|nl|cs|lo>:<id>', fields default to null."""
    prefix, rid = key.split(":")
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    fn = fields.pop("fn", None)
    ln = fields.pop("ln", None)
    dob = fields.pop("dob", None)
    row.update(
        record_key=f"{SOURCES[prefix]}:{rid}",
        source=SOURCES[prefix],
        source_record_id=rid,
        first_name=fn,
        last_name=ln,
        first_name_key=fn,
        last_name_key=ln,
        first_name_canonical=NICKNAMES.get(fn, fn) if fn else None,
        date_of_birth=date.fromisoformat(dob) if dob else None,
        country="NL",
        created_at=datetime(2024, 1, 1),
        updated_at=datetime(2024, 1, 1),
    )
    if prefix == "ws":
        row["account_id"] = rid
    row.update(fields)
    return row


def write_records(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    """(Re)create identity.int_person_records_unioned from `rows`."""
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    con.register("__rows", frame)
    casts = ", ".join(f"cast({c} as {t}) as {c}" for c, t in COLUMNS.items())
    con.execute("create schema if not exists identity")
    con.execute(
        f"create or replace table identity.int_person_records_unioned as select {casts} from __rows"
    )
    con.unregister("__rows")


def write_cookies(con: duckdb.DuckDBPyConnection, logins: dict[str, str]) -> None:
    """(Re)create identity.int_cookie_logins from {cookie_id: account_id}."""
    frame = pd.DataFrame({"cookie_id": list(logins), "account_id": list(logins.values())})
    con.register("__cookies", frame)
    con.execute("""
        create or replace table identity.int_cookie_logins as
        select cookie_id::varchar as cookie_id, account_id::varchar as account_id,
               'webshop__customers:' || account_id as record_key, 1 as login_count,
               1 as distinct_account_count, timestamp '2024-01-01' as first_login_at,
               timestamp '2024-01-01' as last_login_at
        from __cookies
    """)
    con.unregister("__cookies")


FIRST = [
    "emma",
    "noah",
    "julia",
    "lucas",
    "tess",
    "daan",
    "mila",
    "finn",
    "nora",
    "levi",
    "mette",
    "lars",
    "freja",
    "mads",
    "ida",
    "oliver",
    "clara",
    "niels",
    "astrid",
    "magnus",
    "roos",
    "gijs",
    "iris",
    "koen",
    "merel",
    "bas",
    "femke",
    "jeroen",
    "sabine",
    "ruben",
]
SYLLABLES = [
    "berg",
    "dam",
    "hout",
    "veld",
    "kamp",
    "horst",
    "meer",
    "broek",
    "wijk",
    "hoven",
    "sen",
    "strup",
    "lund",
    "gaard",
    "holm",
    "by",
    "rup",
    "toft",
    "skov",
    "bakke",
]
PREFIXES = ["van der ", "de ", "van ", "", "", "", "ter ", "ver"]


def crowd(n_people: int, seed: int = 7) -> list[dict[str, Any]]:
    """Synthetic people spread over the four sources with typical gaps and small typos.

    Gives Splink enough varied pairs to train on; names are built from syllables so that
    namesakes are rare, as in real data.
    """
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for i in range(n_people):
        fn = rng.choice(FIRST)
        ln = rng.choice(PREFIXES) + rng.choice(SYLLABLES) + rng.choice(SYLLABLES)
        dob = (date(1950, 1, 1) + timedelta(days=rng.randint(0, 20000))).isoformat()
        email = f"{fn}.{ln.replace(' ', '')}{i}@example.org"
        phone = f"+316{10_000_000 + i * 7919 % 89_999_999:08d}"
        addr = {
            "street": rng.choice(SYLLABLES) + "straat",
            "house_number": str(rng.randint(1, 300)),
            "postcode": f"{rng.randint(1000, 9999)}{rng.choice('ABCDEFGH')}{rng.choice('KLMNPR')}",
            "city": rng.choice(["utrecht", "leiden", "delft", "aarhus"]),
        }
        typo_fn = fn[:-1] + ("e" if fn[-1] != "e" else "a") if rng.random() < 0.15 else fn
        if rng.random() < 0.8:
            rows.append(
                rec(
                    f"ws:W{i}",
                    fn=fn,
                    ln=ln,
                    email=email,
                    phone=phone if rng.random() < 0.7 else None,
                    dob=dob if rng.random() < 0.5 else None,
                    **addr,
                )
            )
        if rng.random() < 0.5:
            rows.append(rec(f"nl:N{i}", fn=typo_fn if rng.random() < 0.6 else None, email=email))
        if rng.random() < 0.4:
            rows.append(
                rec(
                    f"cs:C{i}",
                    fn=fn if rng.random() < 0.7 else fn[0],
                    ln=ln if rng.random() < 0.5 else None,
                    phone=phone,
                )
            )
        if rng.random() < 0.5:
            rows.append(
                rec(
                    f"lo:L{i}",
                    fn=typo_fn,
                    ln=ln,
                    dob=dob,
                    phone=phone if rng.random() < 0.8 else None,
                    postcode=addr["postcode"],
                    house_number=addr["house_number"],
                )
            )
    return rows


def groups(labels: dict[str, str]) -> set[frozenset[str]]:
    """Clusters of a {record: anchor} labelling, as a set of record sets."""
    by_anchor: dict[str, set[str]] = {}
    for key, anchor in labels.items():
        by_anchor.setdefault(anchor, set()).add(key)
    return {frozenset(g) for g in by_anchor.values()}
