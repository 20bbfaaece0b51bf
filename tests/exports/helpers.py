"""Helpers for activation tests: a small warehouse with profiles, consent and two audiences."""

from __future__ import annotations

import duckdb

from dagster_project.exports.config import Destination, parse_destinations


def create_warehouse(con: duckdb.DuckDBPyConnection, people: int = 40) -> None:
    con.execute("create schema if not exists marts")
    con.execute("create schema if not exists audiences")
    con.execute(
        "create or replace table marts.customer_profiles (person_id varchar, first_name varchar, "
        "last_name varchar, email varchar, phone varchar, city varchar, country varchar, "
        "postcode varchar, loyalty_tier varchar, order_count integer, has_email_consent boolean, "
        "has_ads_consent boolean)"
    )
    # every 5th person has no consent at all; e-mails are untrimmed and mixed case on purpose
    con.execute(
        f"""insert into marts.customer_profiles
        select 'p' || lpad(cast(i as varchar), 4, '0'), 'First' || i, 'Last-' || i,
               ' Person.' || i || '@Gmail.com ', '+316' || lpad(cast(i as varchar), 8, '0'),
               'Den Haag', 'NL', cast(1000 + i as varchar) || ' AB',
               case when i % 2 = 1 then 'gold' else 'silver' end, i % 7, i % 5 <> 0, i % 5 <> 0
        from range({people}) t(i)"""
    )
    # loyal: the first half; interest: per category, every third person in two categories
    con.execute(
        "create or replace table audiences.loyal as select person_id, first_name, email "
        f"from marts.customer_profiles where cast(substr(person_id, 2) as int) < {people // 2}"
    )
    con.execute(
        "create or replace table audiences.interest as select person_id, c.category "
        "from marts.customer_profiles, (values ('shoes'), ('books')) c(category) "
        "where cast(substr(person_id, 2) as int) % 3 = 0"
    )


def set_members(con: duckdb.DuckDBPyConnection, audience: str, ids: list[int]) -> None:
    con.execute(
        f"create or replace table audiences.{audience} as select person_id from "
        "marts.customer_profiles where cast(substr(person_id, 2) as int) in (select unnest(?))",
        [ids],
    )


def destination(**entry: object) -> Destination:
    base = {
        "name": "dest",
        "kind": "file",
        "audiences": ["loyal"],
        "fields": ["email"],
        "consent": "email",
    }
    return parse_destinations({"destinations": [{**base, **entry}]})[0]
