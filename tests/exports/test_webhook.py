"""Webhook destination against a local HTTP server that fails on purpose and dedupes by key."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from dagster_project.exports.config import WebhookOptions
from dagster_project.exports.deliver import deliver_destination
from dagster_project.exports.state import STATE_TABLE
from dagster_project.exports.webhook import backoff_delay, idempotency_key, send_with_retries

from .helpers import create_warehouse, destination


class Receiver:
    """Fails `failure_rate` of requests (half before processing, half after: a lost response)."""

    def __init__(self, failure_rate: float, seed: int = 5) -> None:
        self.failure_rate = failure_rate
        self.lost_share = 0.5  # share of failures that happen after the batch was processed
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.seen_keys: set[str] = set()
        self.members: list[dict] = []
        self.requests = 0
        self.failures = 0
        self.auth: set[str] = set()


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver(failure_rate=0.2)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            key = self.headers["Idempotency-Key"]
            with state.lock:
                state.requests += 1
                state.auth.add(self.headers.get("Authorization", ""))
                roll = state.rng.random()
                if roll < state.failure_rate * (1 - state.lost_share):
                    state.failures += 1
                    self.send_response(503)
                    self.end_headers()
                    return
                if key not in state.seen_keys:
                    state.seen_keys.add(key)
                    state.members.extend(body["members"])
                lost = roll < state.failure_rate
                state.failures += lost
            self.send_response(500 if lost else 200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/members"
    server.shutdown()
    server.server_close()


def webhook(tmp_path: Path, **options: object):
    return destination(
        kind="webhook",
        fields=["email", "first_name"],
        options={
            "url_env": "TEST_HOOK_URL", "token_env": "TEST_HOOK_TOKEN", "batch_size": 7,
            "retries": 6, "backoff_seconds": 0.001, "max_backoff_seconds": 0.01,
            "timeout_seconds": 5, "dead_letter": str(tmp_path / "dead"), **options,
        },
    )  # fmt: skip


@pytest.fixture
def big_warehouse(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(tmp_path / "big.duckdb"))
    create_warehouse(con, people=600)
    yield con
    con.close()


def test_every_member_arrives_exactly_once_with_20_percent_failures(
    big_warehouse: duckdb.DuckDBPyConnection,
    receiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state, url = receiver
    monkeypatch.setenv("TEST_HOOK_URL", url)
    monkeypatch.setenv("TEST_HOOK_TOKEN", "s3cret")
    dest = webhook(tmp_path)
    result = deliver_destination(big_warehouse, dest, run_id="r1", rng=random.Random(1))
    assert result.status == "success", result.detail
    expected = big_warehouse.execute(
        "select count(*) from audiences.loyal join marts.customer_profiles using (person_id) "
        "where has_email_consent"
    ).fetchone()[0]
    assert expected == 240
    counts = Counter(m["person_id"] for m in state.members)
    assert len(counts) == expected and set(counts.values()) == {1}  # each exactly once
    assert state.failures >= 0.1 * state.requests > 0  # the server really did fail
    print(
        f"webhook: {expected} members in {-(-expected // 7)} batches, {state.requests} requests, "
        f"{state.failures} failed ({state.failures / state.requests:.0%}), "
        f"{len(state.members)} members received, duplicates {len(state.members) - len(counts)}"
    )
    assert state.auth == {"Bearer s3cret"}
    assert not (tmp_path / "dead").exists()
    # an exit is one message with no contact data
    big_warehouse.execute("delete from audiences.loyal where person_id = 'p0001'")
    deliver_destination(big_warehouse, dest, run_id="r2", rng=random.Random(2))
    (exit_msg,) = [m for m in state.members if m["change"] == "exited"]
    assert exit_msg["person_id"] == "p0001" and "email" not in exit_msg


def test_dead_letters_then_catch_up_with_a_healthy_server(
    big_warehouse: duckdb.DuckDBPyConnection,
    receiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state, url = receiver
    monkeypatch.setenv("TEST_HOOK_URL", url)
    monkeypatch.setenv("TEST_HOOK_TOKEN", "t")
    dest = webhook(tmp_path, retries=2)
    state.failure_rate, state.lost_share = 1.0, 0.0  # always fails, before processing
    failed = deliver_destination(big_warehouse, dest, run_id="r1", rng=random.Random(1))
    assert failed.status == "failed" and not failed.ok
    assert "dead-lettered" in failed.detail and "HTTP" in failed.detail
    (dead_file,) = (tmp_path / "dead").glob("*.jsonl")
    lines = [json.loads(x) for x in dead_file.read_text().splitlines()]
    assert len(lines) == -(-240 // 7) and all(x["attempts"] == 3 for x in lines)
    assert big_warehouse.execute(f"select count(*) from {STATE_TABLE}").fetchone()[0] == 0

    state.failure_rate = 0.0
    healed = deliver_destination(big_warehouse, dest, run_id="r2", rng=random.Random(2))
    assert healed.status == "success" and healed.totals()["rows_sent"] == 240
    counts = Counter(m["person_id"] for m in state.members if m["change"] == "entered")
    assert len(counts) == 240 and set(counts.values()) == {1}
    assert deliver_destination(big_warehouse, dest, run_id="r3").totals()["rows_sent"] == 0


def test_partial_failure_records_only_delivered_batches(
    big_warehouse: duckdb.DuckDBPyConnection,
    receiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state, url = receiver
    monkeypatch.setenv("TEST_HOOK_URL", url)
    monkeypatch.setenv("TEST_HOOK_TOKEN", "t")
    state.failure_rate, state.lost_share = 0.5, 0.0
    dest = webhook(tmp_path, retries=0)
    first = deliver_destination(big_warehouse, dest, run_id="r1", rng=random.Random(1))
    assert first.status == "failed"
    delivered = big_warehouse.execute(f"select count(*) from {STATE_TABLE}").fetchone()[0]
    assert 0 < delivered < 240
    state.failure_rate = 0.0
    second = deliver_destination(big_warehouse, dest, run_id="r2")
    assert second.totals()["rows_sent"] == 240 - delivered
    counts = Counter(m["person_id"] for m in state.members)
    assert len(counts) == 240 and set(counts.values()) == {1}


def test_a_change_resent_by_a_later_run_keeps_its_event_id(
    big_warehouse: duckdb.DuckDBPyConnection,
    receiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A batch processed but never acknowledged (every response lost) is resent by the next run
    under a new Idempotency-Key; its members keep their event_id so the receiver can drop them."""
    state, url = receiver
    monkeypatch.setenv("TEST_HOOK_URL", url)
    monkeypatch.setenv("TEST_HOOK_TOKEN", "t")
    state.failure_rate, state.lost_share = 1.0, 1.0
    dest = webhook(tmp_path, retries=1)
    assert deliver_destination(big_warehouse, dest, run_id="r1").status == "failed"
    first = {m["person_id"]: m["event_id"] for m in state.members}
    state.failure_rate = 0.0
    assert deliver_destination(big_warehouse, dest, run_id="r2").status == "success"
    second = {m["person_id"]: m["event_id"] for m in state.members[len(first) :]}
    assert len(first) == 240 and first == second


def test_idempotency_key_is_deterministic_and_distinct() -> None:
    assert idempotency_key("d", "a", "r", 0) == idempotency_key("d", "a", "r", 0)
    keys = {idempotency_key("d", "a", r, b) for r in ("r1", "r2") for b in range(50)}
    assert len(keys) == 100


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    rng = random.Random(0)
    for attempt in range(10):
        delay = backoff_delay(attempt, 0.5, 8.0, rng)
        assert 0 <= delay <= min(8.0, 0.5 * 2**attempt)
    sleeps: list[float] = []
    calls = iter([OSError("HTTP 503"), OSError("HTTP 503"), 200])

    def send() -> int:
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value

    ok, attempts, _ = send_with_retries(
        send, WebhookOptions(retries=5, backoff_seconds=1), rng, sleeps.append
    )
    assert ok and attempts == 3 and len(sleeps) == 2
