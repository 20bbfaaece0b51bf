"""The person_map asset checks, run directly on small warehouses."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from dagster_project.identity.assets import build_identity_checks
from dagster_project.identity.outputs import COOKIE_SOURCE

# record_key, source, person_id, cluster_size: P1 has two records and a cookie, P2 one
GOOD_MAP = [
    ("webshop__customers:1", "webshop__customers", "P1", 2),
    ("newsletter__subscribers:1", "newsletter__subscribers", "P1", 2),
    ("webshop__customers:2", "webshop__customers", "P2", 1),
    (f"{COOKIE_SOURCE}:ck1", COOKIE_SOURCE, "P1", 2),
]
RECORDS = [row[0] for row in GOOD_MAP if row[1] != COOKIE_SOURCE]


def _warehouse(tmp_path: Path, person_map: list[tuple[str, str, str, int]]) -> DuckDBResource:
    path = tmp_path / "checks.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema identity")
        con.execute("create table identity.int_person_records_unioned (record_key varchar)")
        con.executemany(
            "insert into identity.int_person_records_unioned values (?)", [[r] for r in RECORDS]
        )
        con.execute(
            "create table identity.person_map (record_key varchar, source varchar, "
            "person_id varchar, cluster_size integer)"
        )
        if person_map:
            con.executemany("insert into identity.person_map values (?, ?, ?, ?)", person_map)
    finally:
        con.close()
    return DuckDBResource(database=str(path))


def test_checks_pass_on_a_consistent_map(tmp_path: Path) -> None:
    one_person, size_cap = build_identity_checks()
    resource = _warehouse(tmp_path, GOOD_MAP)
    result = one_person(duckdb=resource)
    assert result.passed
    assert result.metadata["unmapped_records"].value == 0
    capped = size_cap(duckdb=resource)
    assert capped.passed and capped.metadata["largest_cluster"].value == 2


@pytest.mark.parametrize(
    ("person_map", "unmapped", "doubled"),
    [
        (GOOD_MAP[1:], 1, 0),  # a record without a person
        (GOOD_MAP + [("webshop__customers:2", "webshop__customers", "P3", 1)], 0, 1),
    ],
)
def test_every_record_has_one_person_fails(
    tmp_path: Path, person_map: list[tuple[str, str, str, int]], unmapped: int, doubled: int
) -> None:
    one_person, _ = build_identity_checks()
    result = one_person(duckdb=_warehouse(tmp_path, person_map))
    assert not result.passed
    assert result.metadata["unmapped_records"].value == unmapped
    assert result.metadata["records_on_several_rows"].value == doubled


def test_cluster_size_cap_reads_person_records_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, size_cap = build_identity_checks()
    monkeypatch.setenv("CDP_MAX_CLUSTER_SIZE", "1")
    resource = _warehouse(tmp_path, GOOD_MAP)
    result = size_cap(duckdb=resource)
    assert not result.passed and result.metadata["largest_cluster"].value == 2
    # a huge cookie-only size is not a person record: it does not count
    monkeypatch.setenv("CDP_MAX_CLUSTER_SIZE", "2")
    (tmp_path / "b").mkdir()
    cookie = (f"{COOKIE_SOURCE}:ck2", COOKIE_SOURCE, "P9", 99)
    resource = _warehouse(tmp_path / "b", [*GOOD_MAP, cookie])
    assert size_cap(duckdb=resource).passed


@pytest.mark.parametrize("persons", [3, 14])
def test_largest_people_are_the_ten_largest(tmp_path: Path, persons: int) -> None:
    from dagster_project.identity.assets import LARGEST_PEOPLE_SQL

    rows = []  # person i has (i % 5) + 1 records, and a cookie
    for i in range(persons):
        size = i % 5 + 1
        pid = f"P{i:02d}"
        rows += [
            (f"webshop__customers:{i}-{j}", "webshop__customers", pid, size) for j in range(size)
        ]
        rows.append((f"{COOKIE_SOURCE}:{i}", COOKIE_SOURCE, pid, size))
    con = duckdb.connect(str(tmp_path / "largest.duckdb"))
    con.execute("create schema identity")
    con.execute(
        "create table identity.person_map (record_key varchar, source varchar, "
        "person_id varchar, cluster_size integer)"
    )
    con.executemany("insert into identity.person_map values (?, ?, ?, ?)", rows)
    got = [(r[0], r[1]) for r in con.execute(LARGEST_PEOPLE_SQL).fetchall()]
    con.close()
    sizes = {pid: size for _, _, pid, size in rows}
    expected = sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert got == expected
