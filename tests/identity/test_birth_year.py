"""Birth year only: compared as a year by the Splink comparison and the guard, never as a date."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from dagster_project.identity.comparisons import date_of_birth_comparison
from dagster_project.identity.guards import dates_of_birth_compatible_sql


def _level_sql() -> str:
    """CASE expression giving the label of the first level whose condition holds."""
    levels = date_of_birth_comparison().get_comparison("duckdb").comparison_levels
    whens = [
        f"when {lvl.sql_condition} then '{lvl.label_for_charts}'"
        for lvl in levels
        if lvl.sql_condition.strip().upper() != "ELSE"
    ]
    return f"case {' '.join(whens)} else 'else' end"


@pytest.mark.parametrize(
    ("left", "right", "label"),
    [
        ((date(1980, 5, 1), 1980), (date(1980, 5, 1), 1980), "Exact match on date of birth"),
        ((date(1980, 5, 1), 1980), (date(1980, 5, 11), 1980), "Levenshtein distance <= 1"),
        ((None, 1980), (date(1980, 5, 1), 1980), "Same birth year (only a year known)"),
        ((None, 1980), (None, 1980), "Same birth year (only a year known)"),
        ((None, 1980), (None, 1981), "Birth years 1 apart (only a year known)"),
        ((None, 1980), (None, 1990), "else"),
        ((date(1950, 1, 1), 1950), (date(1987, 6, 15), 1987), "else"),
        ((None, None), (date(1980, 5, 1), 1980), "Birth year missing"),
    ],
)
def test_date_of_birth_levels(left: tuple, right: tuple, label: str) -> None:
    con = duckdb.connect()
    got = con.execute(
        f"select {_level_sql()} from (select ?::date as date_of_birth_l, ?::int as birth_year_l, "
        "?::date as date_of_birth_r, ?::int as birth_year_r)",
        [*left, *right],
    ).fetchone()[0]
    assert got == label


@pytest.mark.parametrize(
    ("left", "right", "compatible"),
    [
        ((None, 1950), (None, 1980), False),  # father and son with only years
        ((None, 1950), (date(1980, 3, 1), 1980), False),
        ((None, 1980), (date(1980, 3, 1), 1980), True),
        ((date(1980, 3, 1), 1980), (date(1980, 3, 2), 1980), False),
        ((None, None), (None, 1980), True),
    ],
)
def test_guard_compares_years_when_a_date_is_missing(
    left: tuple, right: tuple, compatible: bool
) -> None:
    con = duckdb.connect()
    got = con.execute(
        f"select {dates_of_birth_compatible_sql('l', 'r')} from "
        "(select ?::date as date_of_birth, ?::int as birth_year) as l, "
        "(select ?::date as date_of_birth, ?::int as birth_year) as r",
        [*left, *right],
    ).fetchone()[0]
    assert got is compatible
