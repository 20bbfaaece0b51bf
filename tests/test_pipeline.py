"""End to end: the whole asset graph on a small generated population, run twice."""

from __future__ import annotations

import csv

import duckdb
import pytest

from dagster_project.audiences.spec import load_audiences
from dagster_project.report import evaluate_against_truth

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]


@pytest.fixture
def warehouse(pipeline_run):
    con = duckdb.connect(str(pipeline_run["paths"].warehouse), read_only=True)
    yield con
    con.close()


def truth_rows(pipeline_run) -> list[dict]:
    with open(pipeline_run["paths"].truth_dir / "ground_truth.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_every_person_record_maps_to_exactly_one_person(warehouse):
    unmapped, multi = warehouse.execute(
        "select (select count(*) from identity.int_person_records_unioned r anti join identity.person_map m "
        "        using (record_key)), "
        "       (select count(*) from (select record_key from identity.person_map group by 1 "
        "        having count(distinct person_id) <> 1))"
    ).fetchone()
    assert (unmapped, multi) == (0, 0)


def test_linkage_precision_and_recall_against_ground_truth(pipeline_run, warehouse):
    m = evaluate_against_truth(warehouse, pipeline_run["paths"].truth_dir / "ground_truth.csv")
    assert m["precision"] >= 0.95, m
    assert m["recall"] >= 0.90, m


def _person_ids_of(warehouse, keys: list[str]) -> set[str]:
    rows = warehouse.execute(
        "select distinct person_id from identity.person_map where record_key in (select unnest(?))",
        [keys],
    ).fetchall()
    return {r[0] for r in rows}


def test_sophia_resolves_to_one_person_across_sources(pipeline_run, warehouse):
    rows = truth_rows(pipeline_run)
    sophia = rows[0]["person_id"]
    keys = [f"{r['source']}:{r['source_record_id']}" for r in rows if r["person_id"] == sophia]
    sources = {k.split(":")[0] for k in keys}
    assert sources >= {
        "webshop__customers",
        "newsletter__subscribers",
        "customer_service__contacts",
        "loyalty__members",
        "web_analytics__cookies",
    }
    person_ids = _person_ids_of(warehouse, keys)
    assert len(person_ids) == 1
    first_name, email, _sources, events = warehouse.execute(
        "select first_name, email, sources, "
        "(select count(*) from marts.customer_events e where e.person_id = p.person_id) "
        "from marts.customer_profiles p where person_id = ?",
        [person_ids.pop()],
    ).fetchone()
    assert first_name == "Sophia" and email == "sofietje@provider.nl"  # webshop wins survivorship
    assert events > 0  # her cookie's page views count for her


def test_household_members_and_twins_stay_separate(pipeline_run, warehouse):
    rows = truth_rows(pipeline_run)
    assert any(r["is_twin"].lower() == "true" for r in rows)
    assert len({r["household_id"] for r in rows if r["household_id"]}) > 10
    m = evaluate_against_truth(warehouse, pipeline_run["paths"].truth_dir / "ground_truth.csv")
    assert m["household_merges"] == 0 and m["twin_merges"] == 0, m


def test_audiences_respect_consent(warehouse):
    checked = 0
    for spec in load_audiences():
        if spec.consent_column is None:
            continue
        members, violations = warehouse.execute(
            f"select count(*), count(*) filter (where not p.{spec.consent_column}) "
            f"from audiences.{spec.name} a join marts.customer_profiles p using (person_id)"
        ).fetchone()
        assert violations == 0, spec.name
        checked += members
    filtered = warehouse.execute(
        "select count(*) from audiences.audience_size_history where size_before_consent > size"
    ).fetchone()[0]
    assert checked > 0 and filtered > 0  # consent really removed people somewhere


def test_every_shipped_audience_was_built_and_sized(warehouse):
    sizes = dict(
        warehouse.execute(
            "select audience_name, count(*) from audiences.audience_size_history group by 1"
        ).fetchall()
    )
    for spec in load_audiences():
        assert sizes.get(spec.name) == 2, spec.name  # one row per run


def test_second_run_keeps_every_person_id(pipeline_run, warehouse):
    now = dict(
        warehouse.execute("select record_key, person_id from identity.person_map").fetchall()
    )
    assert now == pipeline_run["first_map"]


def test_serving_copy_is_replaced_atomically_under_open_readers(pipeline_run):
    """A reader opened before the second run keeps its file; a new reader sees the new publication."""
    first_id, second_id = pipeline_run["first"].run_id, pipeline_run["second"].run_id
    assert pipeline_run["served_run_before"] == first_id
    assert pipeline_run["served_run_during"] == first_id  # old reader undisturbed by the rename
    with duckdb.connect(str(pipeline_run["paths"].serving), read_only=True) as con:
        assert con.execute("select run_id from meta.publications").fetchone()[0] == second_id
        schemas = {
            r[0] for r in con.execute("select distinct schema_name from duckdb_tables()").fetchall()
        }
        comment = con.execute(
            "select comment from duckdb_tables() where table_name = 'customer_profiles'"
        ).fetchone()[0]
    assert {"marts", "audiences"} <= schemas
    assert not schemas & {"raw", "staging", "identity", "quarantine"}
    assert comment  # dbt descriptions travel with the copy


def test_dbt_unit_tests_pass(pipeline_run):
    """dbt unit tests (standardisation, survivorship, consent, stages) need the raw tables' types."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from dagster_project.settings import DBT_PROJECT_DIR

    dbt = Path(sys.executable).with_name("dbt")
    target = pipeline_run["paths"].data_dir / "dbt_unit_target"
    env = {**os.environ, "CDP_DUCKDB_PATH": str(pipeline_run["paths"].warehouse)}
    proc = subprocess.run(
        [
            str(dbt),
            "test",
            "--select",
            "test_type:unit",
            "--profiles-dir",
            ".",
            "--target-path",
            str(target),
        ],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "PASS=" in proc.stdout


def test_bi_clients_read_the_serving_copy_through_sqlalchemy(pipeline_run):
    """duckdb-engine, as Superset uses it, opens the serving copy read-only."""
    from sqlalchemy import create_engine, text

    engine = create_engine(
        f"duckdb:///{pipeline_run['paths'].serving}", connect_args={"read_only": True}
    )
    with engine.connect() as con:
        profiles = con.execute(text("select count(*) from marts.customer_profiles")).scalar()
        sizes = con.execute(text("select count(*) from audiences.audience_size_history")).scalar()
    engine.dispose()
    assert profiles > 0
    assert sizes > 0


def test_people_at_one_address_share_a_household_id_not_a_person_id(pipeline_run, warehouse):
    shared = warehouse.execute(
        """
        select count(*) from (
            select household_id
            from marts.customer_profiles
            where household_id is not null
            group by household_id
            having count(distinct person_id) > 1
        )
        """
    ).fetchone()[0]
    inconsistent = warehouse.execute(
        "select count(*) from marts.customer_profiles p where household_size <> "
        "(select count(*) from marts.customer_profiles q where q.household_id = p.household_id)"
    ).fetchone()[0]
    assert shared > 0 and inconsistent == 0
