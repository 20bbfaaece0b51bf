"""Webhook destination: JSON batches of entered / updated / exited members over HTTP(S).

Each batch carries a deterministic `Idempotency-Key` header (destination, audience, run, batch
number), so a retry of a batch the server already processed (the response was lost) is dropped
by the server. Every member also carries an `event_id` derived from its content, so a receiver can
drop a change re-sent by a later run (after a crash between the HTTP response and our state update).
Failures are retried with exponential backoff and full jitter; a batch that keeps failing is
appended to a dead-letter file and its members stay undelivered in the state, so the next run
sends them again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from dagster_project.exports.config import Destination, WebhookOptions
from dagster_project.exports.hashing import output_columns
from dagster_project.exports.state import CHANGES

log = logging.getLogger(__name__)

RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}


@dataclass
class WebhookOutcome:
    batches: int = 0
    delivered_batches: int = 0
    delivered_rows: int = 0
    dead_batches: int = 0
    dead_rows: int = 0
    attempts: int = 0
    dead_letter_file: Path | None = None
    errors: list[str] = field(default_factory=list)


class PermanentError(Exception):
    """The server refused the batch (a 4xx other than timeout/rate limit): retrying will not help."""


def idempotency_key(destination: str, audience: str, run_id: str, batch: int) -> str:
    return hashlib.sha256(f"{destination}|{audience}|{run_id}|{batch}".encode()).hexdigest()[:40]


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt)] (spreads out synchronized retries)."""
    return rng.uniform(0, min(cap, base * (2**attempt)))


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST and return the status; raise PermanentError / OSError (retryable) otherwise."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        # Only the status: a response body may echo the payload (personal data).
        if exc.code in RETRYABLE_STATUS:
            raise OSError(f"HTTP {exc.code}") from None
        raise PermanentError(f"HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        raise OSError(f"connection failed: {type(exc.reason).__name__}") from None
    except TimeoutError:
        raise OSError("timed out") from None


def send_with_retries(
    send: Callable[[], int],
    opts: WebhookOptions,
    rng: random.Random,
    sleep: Callable[[float], None],
) -> tuple[bool, int, str]:
    """Call `send` until it succeeds or the retries run out: (ok, attempts, last error)."""
    error = ""
    for attempt in range(opts.retries + 1):
        try:
            send()
            return True, attempt + 1, ""
        except PermanentError as exc:
            return False, attempt + 1, str(exc)
        except OSError as exc:
            error = str(exc) or type(exc).__name__
        if attempt < opts.retries:
            sleep(backoff_delay(attempt, opts.backoff_seconds, opts.max_backoff_seconds, rng))
    return False, opts.retries + 1, error


def _member_rows(con: duckdb.DuckDBPyConnection, dest: Destination, lo: int, hi: int) -> list[dict]:
    headers = [c.header for c in output_columns(dest.platform, dest.fields)]
    cur = con  # temp tables live on this connection only (a cursor is a new connection)
    cur.execute(
        f"select change, person_id, category, payload_hash, "
        f"{', '.join(chr(34) + h + chr(34) for h in headers)} "
        f"from {CHANGES} where seq >= ? and seq < ? order by seq",
        [lo, hi],
    )
    members = []
    for change, person_id, category, payload_hash, *values in cur.fetchall():
        if change == "unchanged":  # a full resync resends members the receiver already has
            change = "resync"
        event = hashlib.sha256(
            f"{dest.name}|{person_id}|{category}|{change}|{payload_hash}".encode()
        ).hexdigest()[:32]
        member = {"event_id": event, "change": change, "person_id": person_id}
        if category:
            member["category"] = category
        if change != "exited":
            member.update({h: v for h, v in zip(headers, values, strict=True)})
        members.append(member)
    return members


def deliver_webhook(
    con: duckdb.DuckDBPyConnection,
    dest: Destination,
    audience: str,
    run_id: str,
    started_at: datetime,
    on_delivered: Callable[[int, int], None],
    rng: random.Random | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> WebhookOutcome:
    """Send the changes table in batches; `on_delivered(lo, hi)` records each delivered batch."""
    assert isinstance(dest.options, WebhookOptions)
    opts = dest.options
    url = os.environ[opts.url_env]
    headers = {"Content-Type": "application/json", "User-Agent": "cdp-activation"}
    if opts.token_env:
        headers["Authorization"] = f"Bearer {os.environ[opts.token_env]}"
    rng = rng or random.Random()
    total = con.execute(f"select count(*) from {CHANGES}").fetchone()[0]
    outcome = WebhookOutcome()
    for batch, lo in enumerate(range(0, total, opts.batch_size)):
        hi = min(lo + opts.batch_size, total)
        key = idempotency_key(dest.name, audience, run_id, batch)
        members = _member_rows(con, dest, lo, hi)
        body = json.dumps(
            {"destination": dest.name, "audience": audience, "run_id": run_id, "batch": batch,
             "members": members},
            default=str,
        ).encode()  # fmt: skip
        ok, attempts, error = send_with_retries(
            lambda body=body, key=key: post_json(
                url, body, {**headers, "Idempotency-Key": key}, opts.timeout_seconds
            ),
            opts,
            rng,
            sleep,
        )
        outcome.batches += 1
        outcome.attempts += attempts
        if ok:
            on_delivered(lo, hi)
            outcome.delivered_batches += 1
            outcome.delivered_rows += hi - lo
            continue
        outcome.dead_batches += 1
        outcome.dead_rows += hi - lo
        outcome.errors.append(f"batch {batch}: {error} after {attempts} attempts")
        outcome.dead_letter_file = dead_letter(
            dest, started_at, run_id,
            {"idempotency_key": key, "audience": audience, "batch": batch, "attempts": attempts,
             "error": error, "members": members},
        )  # fmt: skip
        log.warning(
            "%s/%s: batch %d (%d members) dead-lettered: %s after %d attempts",
            dest.name, audience, batch, hi - lo, error, attempts,
        )  # fmt: skip
    return outcome


def dead_letter(dest: Destination, started_at: datetime, run_id: str, record: dict) -> Path:
    """Append one failed batch as a JSON line to <dead_letter>/<timestamp>_<run>.jsonl (fsynced)."""
    folder = dest.dead_letter_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{started_at.strftime('%Y%m%dT%H%M%S')}_{run_id[:8]}.jsonl"
    # owner-only: with `hashed: false` a batch holds e-mail addresses
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(
            json.dumps({"destination": dest.name, "run_id": run_id, **record}, default=str) + "\n"
        )
        fh.flush()
        os.fsync(fh.fileno())
    return path
