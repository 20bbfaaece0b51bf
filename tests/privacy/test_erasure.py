"""End to end: forget a multi-record person, rerun on the same landing files, and find none of
their identifiers in any table of the warehouse or the serving copy, after a re-ingest too.

Works on a copy of the session `pipeline_run` data folder, so the shared warehouse is untouched.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from dagster_project.cli import main as cdp
from dagster_project.privacy.access import export_person

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]

KEY = "test-suppression-key-0123456789"
SOPHIA_EMAIL = "sofietje@provider.nl"  # the demo generator's person 0 (four records and a cookie)


def point_data_dir(mp: pytest.MonkeyPatch, root: Path) -> None:
    """As tests/conftest.py: every CDP path under `root`."""
    for var in ("CDP_DUCKDB_PATH", "CDP_LANDING_DIR", "CDP_TRUTH_DIR", "CDP_SERVING_PATH",
                "CDP_MODEL_DIR", "DAGSTER_HOME", "CDP_SUPPRESSION_LIST"):  # fmt: skip
        mp.delenv(var, raising=False)
    mp.setenv("CDP_DATA_DIR", str(root))


def _identifiers(con: duckdb.DuckDBPyConnection) -> dict:
    """Every identifier of Sophia: from the subject-access export and her raw rows."""
    doc = export_person(con, email=SOPHIA_EMAIL)
    records = doc["source_records"]
    values = set(doc["person_ids"]) | set(doc["record_keys"])
    values |= {r["source_record_id"] for r in records}
    values |= {c["cookie_id"] for c in doc["linked_cookies"]}
    values |= {r[k] for r in records for k in ("email", "phone", "account_id") if r[k]}
    values |= {e["order_id"] for e in doc["recent_events"] if e["order_id"]}
    # the raw spellings too ('06-12345678', 'Sofietje@Provider.nl')
    for source, rid in {(r["source"], r["source_record_id"]) for r in records}:
        for col in ("email", "phone"):
            raw = con.execute(
                f'select {col} from raw."{source}" where trim(record_id) = ?', [rid]
            ).fetchone()
            if raw and raw[0] and len(raw[0].strip()) > 5:
                values.add(raw[0].strip())
    profile = doc["profile"][0]
    return {
        "values": sorted(values),
        "doc": doc,
        "last_name": profile["last_name"].split()[-1].lower(),
        "dob": profile["date_of_birth"],
    }


def _find(db: Path, ident: dict) -> dict[str, int]:
    """Rows of any table (all schemas, all text columns) holding one of the identifiers, and
    rows with her last name and birth date together."""
    pattern = "(?i)" + "|".join(re.escape(v) for v in ident["values"])
    hits: dict[str, int] = {}
    with duckdb.connect(str(db), read_only=True) as con:
        columns: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for schema, table, column, dtype in con.execute(
            "select c.table_schema, c.table_name, c.column_name, c.data_type "
            "from information_schema.columns c join information_schema.tables t "
            "using (table_catalog, table_schema, table_name) "
            "where t.table_type = 'BASE TABLE' and c.table_catalog = current_database()"
        ).fetchall():
            columns.setdefault((schema, table), []).append((column, dtype))
        for (schema, table), cols in columns.items():
            texts = [c for c, t in cols if t == "VARCHAR" or t.endswith("[]")]
            conds = [f'regexp_matches(cast("{c}" as varchar), $p)' for c in texts]
            names = {c for c, _ in cols}
            if "date_of_birth" in names and names & {"last_name", "full_name"}:
                name = "coalesce(last_name, '')" if "last_name" in names else "''"
                if "full_name" in names:
                    name += " || ' ' || coalesce(full_name, '')"
                conds.append(f"(date_of_birth = $dob and lower({name}) like $ln)")
            if not conds:
                continue
            sql = f'select count(*) from "{schema}"."{table}" where ' + " or ".join(conds)
            params = {"p": pattern}
            if "$dob" in sql:
                params |= {"dob": ident["dob"], "ln": f"%{ident['last_name']}%"}
            n = con.execute(sql, params).fetchone()[0]
            if n:
                hits[f"{schema}.{table}"] = n
    return hits


@pytest.fixture(scope="module")
def erased(pipeline_run, tmp_path_factory):
    import dagster as dg

    from dagster_project.pipeline import run_daily_job

    root = tmp_path_factory.mktemp("erasure") / "data"
    shutil.copytree(pipeline_run["paths"].data_dir, root, ignore=shutil.ignore_patterns("*.lock"))
    with pytest.MonkeyPatch.context() as mp:
        point_data_dir(mp, root)
        mp.setenv("CDP_SUPPRESSION_KEY", KEY)
        from dagster_project.settings import get_paths

        paths = get_paths()
        with duckdb.connect(str(paths.warehouse), read_only=True) as con:
            ident = _identifiers(con)
        before = {
            "warehouse": _find(paths.warehouse, ident),
            "serving": _find(paths.serving, ident),
        }
        assert cdp(["forget", "--email", SOPHIA_EMAIL.upper(), "--reference", "test"]) == 0
        instance = dg.DagsterInstance.ephemeral()
        runs = [run_daily_job(instance=instance)]
        after = {"warehouse": _find(paths.warehouse, ident), "serving": _find(paths.serving, ident)}
        runs.append(run_daily_job(instance=instance))  # re-ingest the same files
        again = {"warehouse": _find(paths.warehouse, ident), "serving": _find(paths.serving, ident)}
        yield {
            "paths": paths,
            "ident": ident,
            "before": before,
            "after": after,
            "again": again,
            "runs": runs,
            "instance": instance,
        }


def test_person_is_found_everywhere_before(erased):
    ident, before = erased["ident"], erased["before"]
    assert len(ident["doc"]["source_records"]) >= 3  # a multi-record person
    assert {"raw.webshop__customers", "identity.person_map", "marts.customer_profiles"} <= set(
        before["warehouse"]
    )
    assert "marts.customer_profiles" in before["serving"]


def test_no_row_left_after_erasure_and_after_reingest(erased):
    assert all(r.success for r in erased["runs"]), [r.errors for r in erased["runs"]]
    assert erased["after"] == {"warehouse": {}, "serving": {}}
    assert erased["again"] == {"warehouse": {}, "serving": {}}


def test_suppression_list_holds_no_plain_identifier(erased):
    text = (erased["paths"].data_dir / "privacy" / "suppression_list.jsonl").read_text()
    assert not [v for v in erased["ident"]["values"] if v.lower() in text.lower()]


def test_run_reports_suppressed_rows_per_source(erased):
    with duckdb.connect(str(erased["paths"].warehouse), read_only=True) as con:
        counts = dict(
            con.execute("select source, suppressed_rows from privacy.suppressed_rows").fetchall()
        )
    assert counts["webshop__customers"] >= 1 and counts["newsletter__subscribers"] >= 1
    assert sum(counts.values()) > len(erased["ident"]["doc"]["source_records"])
    run_id = erased["runs"][-1].run_id
    events = erased["instance"].get_records_for_run(run_id).records
    suppressed = [
        e.event_log_entry.dagster_event.materialization.metadata["suppressed_rows"].value
        for e in events
        if e.event_log_entry.dagster_event
        and e.event_log_entry.dagster_event.is_step_materialization
        and "suppressed_rows" in e.event_log_entry.dagster_event.materialization.metadata
    ]
    assert sum(suppressed) == sum(counts.values())


def test_export_person_is_refused_after_erasure(erased, capsys):
    with pytest.MonkeyPatch.context() as mp:
        point_data_dir(mp, erased["paths"].data_dir)
        assert cdp(["export-person", "--email", SOPHIA_EMAIL]) == 1
    assert "no person" in capsys.readouterr().err


def test_export_person_document(pipeline_run, tmp_path, capsys):
    with pytest.MonkeyPatch.context() as mp:
        point_data_dir(mp, pipeline_run["paths"].data_dir)
        out = tmp_path / "sophia.json"
        assert cdp(["export-person", "--phone", "06-12345678", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert (out.stat().st_mode & 0o777) == 0o600
    assert len(doc["person_ids"]) == 1
    pid = doc["person_ids"][0]
    assert doc["profile"][0]["person_id"] == pid
    sources = {r["source"] for r in doc["source_records"]}
    assert {"webshop__customers", "newsletter__subscribers", "loyalty__members"} <= sources
    assert {c["channel"] for c in doc["consent_current"]} == {
        "email", "sms", "phone", "ads", "personalisation",
    }  # fmt: skip
    assert doc["consent_history"] and all(e["person_id"] == pid for e in doc["consent_history"])
    assert all("audience" in m and "entered_at" in m for m in doc["audience_memberships"])
    assert doc["recent_events"] and all(e["person_id"] == pid for e in doc["recent_events"])
