"""Deltas read dbt's per-profile contact_hash when it covers a destination's fields."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from dagster_project.exports.benchmark import contact_hash_sql
from dagster_project.exports.deliver import deliver_destination
from dagster_project.exports.state import CONTACT_HASH_COLUMNS
from dagster_project.warehouse import table_columns

from .helpers import destination, set_members

MACRO = Path(__file__).parents[2] / "dbt_project" / "macros" / "profiles" / "profiles_settings.sql"


def add_contact_hash(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)compute contact_hash as dbt's duckdb__row_hash does."""
    if "contact_hash" not in {
        r[0] for r in con.execute("describe marts.customer_profiles").fetchall()
    }:
        con.execute("alter table marts.customer_profiles add column contact_hash bigint")
    expr = contact_hash_sql(table_columns(con, "marts", "customer_profiles"))
    con.execute(f"update marts.customer_profiles set contact_hash = {expr}")


def counts(result) -> tuple[int, int, int]:
    (a,) = result.audiences
    return a.counts.entered, a.counts.updated, a.counts.exited


def test_python_list_matches_the_dbt_macro() -> None:
    body = MACRO.read_text().split("macro contact_hash_columns", 1)[1]
    listed = set(re.findall(r"'([a-z_]+)'", body.split("endmacro", 1)[0]))
    assert listed == set(CONTACT_HASH_COLUMNS)


def test_covered_fields_are_compared_through_the_hash(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    add_contact_hash(warehouse)
    dest = destination(fields=["email", "first_name"], options={"outbox": str(tmp_path / "o")})
    set_members(warehouse, "loyal", [1, 2, 3])
    assert counts(deliver_destination(warehouse, dest, run_id="r1")) == (3, 0, 0)
    assert counts(deliver_destination(warehouse, dest, run_id="r2")) == (0, 0, 0)
    warehouse.execute(
        "update marts.customer_profiles set email = 'n@x.nl' where person_id = 'p0001'"
    )
    add_contact_hash(warehouse)
    assert counts(deliver_destination(warehouse, dest, run_id="r3")) == (0, 1, 0)
    # a covered field the destination does not send re-sends the (same) row: harmless
    warehouse.execute("update marts.customer_profiles set city = 'Delft' where person_id = 'p0002'")
    add_contact_hash(warehouse)
    assert counts(deliver_destination(warehouse, dest, run_id="r4")) == (0, 1, 0)


def test_uncovered_fields_are_hashed_one_by_one(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    add_contact_hash(warehouse)
    dest = destination(fields=["email", "loyalty_tier"], options={"outbox": str(tmp_path / "o")})
    set_members(warehouse, "loyal", [1, 2, 3])
    deliver_destination(warehouse, dest, run_id="r1")
    # loyalty_tier is not in contact_hash: the hash alone would miss this change
    warehouse.execute(
        "update marts.customer_profiles set loyalty_tier = 'platinum' where person_id = 'p0003'"
    )
    add_contact_hash(warehouse)
    assert counts(deliver_destination(warehouse, dest, run_id="r2")) == (0, 1, 0)
    # and a change the hash would report, but the destination does not send, is no update
    warehouse.execute("update marts.customer_profiles set city = 'Delft' where person_id = 'p0002'")
    add_contact_hash(warehouse)
    assert counts(deliver_destination(warehouse, dest, run_id="r3")) == (0, 0, 0)
