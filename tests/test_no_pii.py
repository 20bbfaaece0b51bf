"""No raw e-mail addresses or phone numbers in Dagster metadata, logs or the serving copy's extras.

Runs over the `pipeline_run` fixture (the daily job twice on a generated population): every
event of both runs (materialisation and check metadata, log messages, failures) and every
Python log message of the runs is searched for e-mail addresses and phone numbers, both by
pattern and for the exact values the demo population holds. Masked forms (`s***@p***.nl`,
`+316****5678`) are fine.
"""

from __future__ import annotations

import re

import dagster as dg
import duckdb
import pytest
from dagster._serdes import serialize_value

from dagster_project.audiences.spec import RESERVED_NAMES, load_audiences

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# The demo's formats: +31612345678, 0031 6 12345678, 06-12345678, 0612345678, +45 12 34 56 78.
# Not preceded by a word character, `*` (masked) or `.` (the decimals of a float), not followed by more.
PHONE_RE = re.compile(
    r"(?<![\w*.])(?:\+|00)\d{2}[\s-]?\d(?:[\s-]?\d){7,9}(?![\w.])"
    r"|(?<![\w*.])0\d[\s-]?\d{8}(?![\w.])"
)


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


@pytest.fixture(scope="module")
def event_texts(pipeline_run) -> list[str]:
    instance = pipeline_run["instance"]
    texts = []
    for run in (pipeline_run["first"], pipeline_run["second"]):
        entries = instance.all_logs(run.run_id)
        assert entries, "the fixture's instance holds no events"
        texts.extend(serialize_value(entry) for entry in entries)
    return texts


@pytest.fixture(scope="module")
def known_contacts(pipeline_run) -> tuple[set[str], set[str]]:
    """E-mail addresses (lowercase) and phone digit strings of the demo population."""
    with duckdb.connect(str(pipeline_run["paths"].warehouse), read_only=True) as con:
        rows = con.execute(
            "select email, phone from identity.int_person_records_unioned"
        ).fetchall()
    emails = {e.strip().lower() for e, _ in rows if e and "@" in e}
    phones = {_digits(p) for _, p in rows if p and len(_digits(p)) >= 8}
    return emails, phones


def _leaks(texts: list[str], emails: set[str], phones: set[str]) -> list[str]:
    found = []
    for text in texts:
        for match in EMAIL_RE.findall(text):
            found.append(f"e-mail pattern {match!r}")
        for match in PHONE_RE.findall(text):
            found.append(f"phone pattern {match!r}")
        lowered = text.lower()
        found.extend(f"known e-mail {e!r}" for e in emails if e in lowered)
        digits_only = re.findall(r"\d{8,}", re.sub(r"(?<=\d)[\s-](?=\d)", "", text))
        found.extend(f"known phone {d!r}" for d in digits_only if d in phones)
    return found


def test_the_detector_finds_raw_and_spares_masked_values() -> None:
    emails, phones = {"sanne.devries@provider.nl"}, {"31612345678"}
    assert _leaks(['{"email": "Sanne.deVries@provider.nl"}'], emails, phones)
    assert _leaks(["call 06-12345678"], set(), set())
    assert _leaks(["phone +31 6 12345678"], set(), phones)
    assert _leaks(["0031 6 12345678"], set(), set())
    assert not _leaks(['{"email": "s***@p***.nl", "phone": "+316****5678"}'], emails, phones)
    assert not _leaks(["run 0f3a9c2e-1b2d-4c5e-8f90-123456789012 took 12.5 s"], emails, phones)
    assert not _leaks(['{"match_probability": 0.00418399971386}'], emails, phones)


def test_dagster_events_hold_no_raw_contact_data(event_texts, known_contacts) -> None:
    emails, phones = known_contacts
    assert emails and phones  # the demo really has contact data to leak
    leaks = _leaks(event_texts, emails, phones)
    assert not leaks, leaks[:20]


def test_python_logs_of_the_run_hold_no_raw_contact_data(pipeline_run, known_contacts) -> None:
    messages = pipeline_run["log_messages"]
    assert messages  # the run did log something at INFO
    leaks = _leaks(messages, *known_contacts)
    assert not leaks, leaks[:20]


def test_audience_sample_metadata_is_masked(pipeline_run) -> None:
    instance = pipeline_run["instance"]
    samples = []
    for spec in load_audiences():
        event = instance.get_latest_materialization_event(dg.AssetKey(["audiences", spec.name]))
        assert event is not None, spec.name
        metadata = event.asset_materialization.metadata
        assert type(metadata["size"].value) is int
        samples.extend(metadata["sample_masked"].value)
    emails = [row["email"] for row in samples if row.get("email")]
    assert emails and all("***" in e for e in emails)


def test_serving_copy_holds_only_marts_and_audiences(pipeline_run) -> None:
    declared = {spec.name for spec in load_audiences()}
    with duckdb.connect(str(pipeline_run["paths"].serving), read_only=True) as con:
        tables = con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
        columns = {
            r[0]
            for r in con.execute("select distinct column_name from duckdb_columns()").fetchall()
        }
    schemas = {schema for schema, _ in tables}
    assert schemas <= {"marts", "audiences", "meta"}, schemas
    assert {"marts", "audiences"} <= schemas
    audience_tables = {table for schema, table in tables if schema == "audiences"}
    assert audience_tables <= declared | RESERVED_NAMES, audience_tables - declared
    assert declared <= audience_tables
    assert "raw_row" not in columns  # the quarantine's raw source rows stay in the warehouse
