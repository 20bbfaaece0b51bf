"""PostgreSQL destination against a real server: upsert, leavers, atomicity, consent, skip."""

from __future__ import annotations

import uuid

import duckdb
import psycopg
import pytest

from dagster_project.exports import deliver as deliver_module
from dagster_project.exports import postgres as pg_module
from dagster_project.exports.deliver import deliver_destination
from dagster_project.exports.state import LOG_TABLE, STATE_TABLE

from .helpers import destination, set_members


@pytest.fixture
def crm(pg_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TEST_CRM_URL", pg_url)
    table = f"members_{uuid.uuid4().hex[:8]}"
    dest = destination(
        kind="postgres",
        fields=["first_name", "email", "order_count"],
        options={"url_env": "TEST_CRM_URL", "table": table},
    )
    return dest, table


def pg_rows(url: str, table: str) -> dict[str, tuple]:
    with psycopg.connect(url) as pg:
        return {
            r[0]: r[1:]
            for r in pg.execute(f"select person_id, first_name, email, order_count from {table}")
        }


def test_upserts_members_and_deletes_leavers(
    warehouse: duckdb.DuckDBPyConnection, crm, pg_url: str
) -> None:
    dest, table = crm
    set_members(warehouse, "loyal", [1, 2, 3, 5])  # p0005 has no e-mail consent
    assert deliver_destination(warehouse, dest, run_id="r1").status == "success"
    rows = pg_rows(pg_url, table)
    assert set(rows) == {"p0001", "p0002", "p0003"}
    assert rows["p0001"] == ("First1", " Person.1@Gmail.com ", 1)  # typed column (integer)
    set_members(warehouse, "loyal", [1, 3, 4])
    warehouse.execute(
        "update marts.customer_profiles set first_name = 'Anna' where person_id = 'p0003'"
    )
    result = deliver_destination(warehouse, dest, run_id="r2")
    (a,) = result.audiences
    assert (a.counts.entered, a.counts.updated, a.counts.exited) == (1, 1, 1)
    assert a.rows == 3  # 2 upserts, 1 delete; the unchanged p0001 is not sent
    rows = pg_rows(pg_url, table)
    assert set(rows) == {"p0001", "p0003", "p0004"} and rows["p0003"][0] == "Anna"


def test_full_resync_repairs_a_table_edited_by_hand(
    warehouse: duckdb.DuckDBPyConnection, crm, pg_url: str
) -> None:
    dest, table = crm
    set_members(warehouse, "loyal", [1, 2])
    deliver_destination(warehouse, dest, run_id="r1")
    with psycopg.connect(pg_url) as pg:
        pg.execute(
            f"update {table} set first_name = 'X', payload_hash = 'x' where person_id = 'p0001'"
        )
        pg.execute(
            f"insert into {table} (audience, person_id, payload_hash, cdp_run_id) "
            "values ('loyal', 'stranger', 'h', 'manual')"
        )
    assert deliver_destination(warehouse, dest, run_id="r2", full=True).status == "success"
    rows = pg_rows(pg_url, table)
    assert set(rows) == {"p0001", "p0002"} and rows["p0001"][0] == "First1"


def test_a_failure_mid_transaction_leaves_the_table_and_state_unchanged(
    warehouse: duckdb.DuckDBPyConnection, crm, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest, table = crm
    set_members(warehouse, "loyal", [1, 2])
    deliver_destination(warehouse, dest, run_id="r1")
    before = pg_rows(pg_url, table)
    state_before = warehouse.execute(f"select * from {STATE_TABLE} order by person_id").fetchall()

    set_members(warehouse, "loyal", [2, 3, 4])
    real = pg_module.deliver_postgres
    monkeypatch.setattr(
        deliver_module, "deliver_postgres", lambda *a, **k: real(*a, **k, fail_after_copy=True)
    )
    result = deliver_destination(warehouse, dest, run_id="r2")
    assert result.status == "failed" and "injected failure" in result.detail
    assert pg_rows(pg_url, table) == before
    assert (
        warehouse.execute(f"select * from {STATE_TABLE} order by person_id").fetchall()
        == state_before
    )
    monkeypatch.setattr(deliver_module, "deliver_postgres", real)
    caught_up = deliver_destination(warehouse, dest, run_id="r3")
    assert caught_up.status == "success"
    assert set(pg_rows(pg_url, table)) == {"p0002", "p0003", "p0004"}


def test_crash_after_commit_before_state_is_caught_up_idempotently(
    warehouse: duckdb.DuckDBPyConnection, crm, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest, table = crm
    set_members(warehouse, "loyal", [1, 2])

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the process dies between the PostgreSQL commit and the state

    monkeypatch.setattr(deliver_module, "apply_state", crash)
    with pytest.raises(KeyboardInterrupt):
        deliver_destination(warehouse, dest, run_id="r1")
    assert set(pg_rows(pg_url, table)) == {"p0001", "p0002"}
    monkeypatch.undo()
    monkeypatch.setenv("TEST_CRM_URL", pg_url)
    again = deliver_destination(warehouse, dest, run_id="r2")
    assert again.status == "success" and again.audiences[0].counts.entered == 2
    assert set(pg_rows(pg_url, table)) == {"p0001", "p0002"}
    assert deliver_destination(warehouse, dest, run_id="r3").totals()["rows_sent"] == 0


def test_consent_withdrawal_removes_the_row(
    warehouse: duckdb.DuckDBPyConnection, crm, pg_url: str
) -> None:
    dest, table = crm
    set_members(warehouse, "loyal", [1, 2])
    deliver_destination(warehouse, dest, run_id="r1")
    warehouse.execute(
        "update marts.customer_profiles set has_email_consent = false where person_id = 'p0002'"
    )
    deliver_destination(warehouse, dest, run_id="r2")
    assert set(pg_rows(pg_url, table)) == {"p0001"}


def test_consent_ledger_is_read_when_the_profiles_have_no_flag(
    warehouse: duckdb.DuckDBPyConnection, crm, pg_url: str
) -> None:
    dest, table = crm
    set_members(warehouse, "loyal", [1, 2, 5])
    warehouse.execute("alter table marts.customer_profiles drop column has_email_consent")
    warehouse.execute(
        "create table marts.consent_current as select * from (values "
        "('p0001', 'email', true), ('p0002', 'email', false), ('p0005', 'email', true), "
        "('p0002', 'sms', true)) t(person_id, channel, is_granted)"
    )
    deliver_destination(warehouse, dest, run_id="r1")
    assert set(pg_rows(pg_url, table)) == {"p0001", "p0005"}


def test_skipped_with_a_warning_when_the_url_is_not_set(
    warehouse: duckdb.DuckDBPyConnection,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("CRM_DATABASE_URL", raising=False)
    dest = destination(kind="postgres", fields=["email"], options={"url_env": "CRM_DATABASE_URL"})
    result = deliver_destination(warehouse, dest, run_id="r1")
    assert result.status == "skipped" and result.ok
    assert "CRM_DATABASE_URL" in result.detail and "CRM_DATABASE_URL" in caplog.text
    assert warehouse.execute(f"select status from {LOG_TABLE}").fetchall() == [("skipped",)]
