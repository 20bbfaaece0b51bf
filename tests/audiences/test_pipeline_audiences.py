"""Audience history over the end-to-end fixture (the daily job twice on the same files)."""

from __future__ import annotations

import duckdb
import pytest

from dagster_project.audiences.build import HISTORY_TABLE
from dagster_project.audiences.history import MEMBERSHIP_TABLE
from dagster_project.audiences.spec import load_audiences

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]


@pytest.fixture
def warehouse(pipeline_run):
    con = duckdb.connect(str(pipeline_run["paths"].warehouse), read_only=True)
    yield con
    con.close()


def test_open_history_rows_are_the_current_members(warehouse) -> None:
    for spec in load_audiences():
        keys = "person_id, category" if spec.per_category else "person_id, NULL::VARCHAR"
        members = set(warehouse.execute(f"SELECT {keys} FROM audiences.{spec.name}").fetchall())
        open_rows = warehouse.execute(
            f"SELECT person_id, category FROM {MEMBERSHIP_TABLE} "
            "WHERE audience = ? AND exited_at IS NULL",
            [spec.name],
        ).fetchall()
        assert len(open_rows) == len(set(open_rows)), spec.name  # one open stay per member
        assert set(open_rows) == members, spec.name


def test_sizes_per_run_count_entries_and_exits(pipeline_run, warehouse) -> None:
    first, second = pipeline_run["first"].run_id, pipeline_run["second"].run_id
    rows = warehouse.execute(
        f"SELECT run_id, audience_name, size, size_before_consent, entered, exited "
        f"FROM {HISTORY_TABLE}"
    ).fetchall()
    by_run = {(r[0], r[1]): r[2:] for r in rows}
    for spec in load_audiences():
        size, before_consent, entered, exited = by_run[(first, spec.name)]
        assert (entered, exited) == (size, 0), spec.name  # first run: everybody enters
        assert before_consent >= size
        again = by_run[(second, spec.name)]
        # Same files, persistent person ids: nobody enters or leaves on the second run.
        assert again[2:] == (0, 0) and again[0] == size, spec.name
    total = warehouse.execute(
        f"SELECT count(*) FROM {MEMBERSHIP_TABLE} WHERE entered_run_id = ?", [second]
    ).fetchone()[0]
    assert total == 0
