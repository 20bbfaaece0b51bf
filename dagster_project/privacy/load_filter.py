"""Load-time suppression: drop rows of erased people before they reach raw or quarantine.

The loader calls `drop_suppressed_rows` on its validated temp table. Each entity is matched on the
columns that identify a person or point at one (see `candidate_columns`): person records by their
record key, e-mail, phone and account id; orders, order lines, events and consent rows by the
person record, account, cookie or order they refer to. Values are hashed in SQL (`hmac_sql`) over
distinct values only, and only when the suppression list is not empty. Rows the loader would
quarantine are also checked token by token on their raw text (a malformed line has no parsed
columns), so an erased person's broken rows do not land in the quarantine either.
"""

from __future__ import annotations

import re

import duckdb

from dagster_project.privacy.suppression import (
    SuppressionList,
    hmac_sql,
    hmac_sql_params,
    identifier_hash,
    normalise_email,
    normalise_phone,
)

_TOKEN_SPLIT = re.compile(r'[,;\t|"{}\[\]\n\r]')


def _e164_sql(phone: str, country: str) -> str:
    """staging's standardise_phone (macros/standardise_phone.sql) as plain DuckDB SQL."""
    kept = f"regexp_replace(replace(trim({phone}), '(0)', ''), '[^0-9+]', '', 'g')"
    d = (
        f"(case when replace({kept}, '+', '') = '' then null "
        f"when {kept} like '+%' then '+' || replace({kept}, '+', '') "
        f"when {kept} like '00%' then '+' || substr(replace({kept}, '+', ''), 3) "
        f"else replace({kept}, '+', '') end)"
    )
    cc = f"coalesce({country}, 'NL')"
    cand = (
        f"(case when {d} like '+31%' or {d} like '+45%' then substr({d}, 2, 2) || "
        f"case when substr({d}, 4, 1) = '0' then substr({d}, 5) else substr({d}, 4) end "
        f"when {d} like '+%' then substr({d}, 2) "
        f"when {cc} = 'NL' and length({d}) = 10 and {d} like '0%' then '31' || substr({d}, 2) "
        f"when {cc} = 'NL' and length({d}) = 9 and {d} like '6%' then '31' || {d} "
        f"when {cc} = 'NL' and length({d}) = 11 and {d} like '31%' then {d} "
        f"when {cc} = 'DK' and length({d}) = 8 and {d} not like '0%' then '45' || {d} "
        f"when {cc} = 'DK' and length({d}) = 10 and {d} like '45%' then {d} "
        f"when {country} is null and length({d}) = 10 and {d} like '0%' then '31' || substr({d}, 2) "
        f"when {country} is null and length({d}) = 8 and {d} not like '0%' then '45' || {d} end)"
    )
    return (
        f"case when not regexp_full_match({cand}, '[1-9][0-9]{{7,14}}') then null "
        f"when {cand} like '31%' and length({cand}) <> 11 then null "
        f"when {cand} like '45%' and length({cand}) <> 10 then null else '+' || {cand} end"
    )


def candidate_columns(source: str, entity: str) -> list[tuple[str, str]]:
    """(kind, SQL value expression) pairs matched for rows of `entity`.

    The raw country is not standardised yet, so a phone is tried both as a Dutch-default and as a
    Danish number: whichever staging would produce is covered.
    """
    literal = "'" + source.replace("'", "''") + "'"
    if entity == "person":
        return [
            ("record", f"{literal} || ':' || trim(record_id)"),
            ("id", "nullif(trim(account_id), '')"),
            ("email", "nullif(replace(lower(trim(email)), 'mailto:', ''), '')"),
            ("phone", _e164_sql("phone", "cast(null as varchar)")),
            ("phone", _e164_sql("phone", "'DK'")),
        ]
    refs = {
        "order": ["person_record_id"],
        "order_line": ["order_id"],
        "event": ["person_record_id", "cookie_id", "account_id"],
        "consent": ["person_record_id", "cookie_id"],
    }.get(entity, [])
    return [("id", f"nullif(trim({c}), '')") for c in refs]


def drop_suppressed_rows(
    cur: duckdb.DuckDBPyConnection,
    table: str,
    source: str,
    entity: str,
    suppression: SuppressionList,
    key: bytes,
) -> int:
    """Delete rows of `table` (the loader's _validated) that match the list; return how many."""
    columns = candidate_columns(source, entity)
    if not suppression or not columns:
        return 0
    before = cur.execute(f"select count(*) from {table}").fetchone()[0]
    outer, inner = hmac_sql_params(key)
    cur.execute("create or replace temp table _suppressed_digests (digest varchar)")
    cur.execute(
        "insert into _suppressed_digests select unnest(?)", [[d for _, d in suppression.rows()]]
    )
    parts = " union all ".join(
        f"select _source_file, _row_number, '{kind}:' || ({expr}) as message from {table}"
        for kind, expr in columns
    )
    cur.execute(
        f"create or replace temp table _suppress_candidates as "
        f"select * from ({parts}) where message is not null"
    )
    # Hash each distinct value once (an event table repeats a cookie id many times).
    cur.execute(
        "create or replace temp table _suppress_hits as "
        "select message from (select distinct message from _suppress_candidates) "
        f"where {hmac_sql('message', '$outer', '$inner')} in (select digest from _suppressed_digests)",
        {"outer": outer, "inner": inner},
    )
    cur.execute(
        f"delete from {table} where (_source_file, _row_number) in ("
        "select _source_file, _row_number from _suppress_candidates "
        "where message in (select message from _suppress_hits))"
    )
    # Rows headed for quarantine: a malformed line has no parsed columns, so check its raw text.
    doomed = [
        (f, n)
        for f, n, raw in cur.execute(
            f"select _source_file, _row_number, _raw_row from {table} where _reason is not null"
        ).fetchall()
        if raw_text_is_suppressed(raw, source, suppression, key)
    ]
    if doomed:
        cur.executemany(
            f"delete from {table} where _source_file = ? and _row_number = ?",
            [list(d) for d in doomed],
        )
    for temp in ("_suppressed_digests", "_suppress_candidates", "_suppress_hits"):
        cur.execute(f"drop table if exists {temp}")
    return int(before - cur.execute(f"select count(*) from {table}").fetchone()[0])


def raw_text_is_suppressed(
    raw: str | None, source: str, suppression: SuppressionList, key: bytes
) -> bool:
    """True when any field of a raw line (CSV or JSON text) is a suppressed identifier."""
    if not raw or not suppression:
        return False
    for token in {t.strip() for t in _TOKEN_SPLIT.split(raw)}:
        token = token.strip(": ")
        if not token:
            continue
        tries = [("id", token), ("record", f"{source}:{token}")]
        email = normalise_email(token)
        if email:
            tries.append(("email", email))
        for country in (None, "DK"):
            phone = normalise_phone(token, country)
            if phone:
                tries.append(("phone", phone))
        for kind, value in tries:
            if identifier_hash(key, kind, value) in suppression.hashes[kind]:
                return True
    return False


def filter_unreadable_lines(
    lines: list[tuple[str, int, str, str]], source: str, suppression: SuppressionList, key: bytes
) -> tuple[list[tuple[str, int, str, str]], int]:
    """Drop unreadable (file, line, raw, reason) entries that hold a suppressed identifier."""
    if not suppression:
        return lines, 0
    kept = [x for x in lines if not raw_text_is_suppressed(x[2], source, suppression, key)]
    return kept, len(lines) - len(kept)
