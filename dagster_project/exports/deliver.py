"""Deliver a destination's audiences: compute the changes since the last success, send, record.

Entry point for the Dagster assets and `cdp deliver`. Per audience: changes -> kind-specific
delivery -> state (only after the delivery succeeded) -> a row in `activation.deliveries`.
A destination whose secret environment variables are unset is skipped with a warning.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from dagster_project.exports.config import Destination
from dagster_project.exports.files import deliver_files
from dagster_project.exports.postgres import deliver_postgres
from dagster_project.exports.state import (
    ChangeCounts,
    apply_state,
    audience_has_category,
    compute_changes,
    ensure_state_schema,
    record_delivery,
    utc_now,
)
from dagster_project.exports.webhook import deliver_webhook

log = logging.getLogger(__name__)


@dataclass
class AudienceDelivery:
    audience: str
    status: str  # success | failed
    counts: ChangeCounts
    rows: int = 0
    files: list[dict] = field(default_factory=list)  # path, rows, sha256, change
    detail: str = ""
    seconds: float = 0.0


@dataclass
class DeliveryResult:
    destination: str
    kind: str
    run_id: str
    mode: str  # full | delta
    status: str  # success | failed | skipped
    audiences: list[AudienceDelivery] = field(default_factory=list)
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("success", "skipped")

    def totals(self) -> dict[str, int]:
        keys = ("entered", "updated", "exited", "members")
        out = {k: sum(getattr(a.counts, k) for a in self.audiences) for k in keys}
        out["rows_sent"] = sum(a.rows for a in self.audiences)
        return out


def deliver_destination(
    con: duckdb.DuckDBPyConnection,
    dest: Destination,
    run_id: str | None = None,
    full: bool = False,
    rng: random.Random | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryResult:
    """Deliver every audience of `dest`; one failing audience does not stop the others."""
    run_id = run_id or uuid.uuid4().hex
    mode = "full" if full else "delta"
    started_at = utc_now()
    ensure_state_schema(con)
    result = DeliveryResult(dest.name, dest.kind, run_id, mode, "success")
    missing = dest.missing_secrets()
    if missing:
        result.status = "skipped"
        result.detail = f"environment variable(s) {', '.join(missing)} not set"
        log.warning("destination %s skipped: %s", dest.name, result.detail)
        record_delivery(con, dest, run_id, mode, "skipped", started_at, detail=result.detail)
        return result
    for audience in dest.audiences:
        t0 = time.perf_counter()
        item = _deliver_audience(con, dest, audience, run_id, full, started_at, rng, sleep)
        item.seconds = time.perf_counter() - t0
        result.audiences.append(item)
        record_delivery(
            con, dest, run_id, mode, item.status, started_at, audience=audience, counts=item.counts,
            rows=item.rows, path=";".join(f["path"] for f in item.files) or None,
            checksum=";".join(f["sha256"] for f in item.files) or None,
            detail=item.detail or None,
        )  # fmt: skip
        log.info(
            "%s/%s %s: %s, %d members, entered %d, updated %d, exited %d, %d rows sent in %.2fs "
            "(%.0f members/s)",
            dest.name, audience, mode, item.status, item.counts.members, item.counts.entered,
            item.counts.updated, item.counts.exited, item.rows, item.seconds,
            item.counts.members / max(item.seconds, 1e-9),
        )  # fmt: skip
    failed = [a for a in result.audiences if a.status != "success"]
    if failed:
        result.status = "failed"
        result.detail = "; ".join(f"{a.audience}: {a.detail}" for a in failed)
    return result


def _deliver_audience(
    con: duckdb.DuckDBPyConnection,
    dest: Destination,
    audience: str,
    run_id: str,
    full: bool,
    started_at: datetime,
    rng: random.Random | None,
    sleep: Callable[[float], None],
) -> AudienceDelivery:
    counts = ChangeCounts()
    try:
        has_category = audience_has_category(con, audience)
        counts = compute_changes(con, dest, audience, full)
        if dest.kind == "file":
            written = deliver_files(con, dest, audience, run_id, full, has_category, started_at)
            apply_state(con, dest, audience, run_id, full)  # after the rename: files are complete
            return AudienceDelivery(
                audience, "success", counts, rows=sum(w.rows for w in written),
                files=[{"path": str(w.path), "rows": w.rows, "sha256": w.sha256, "change": w.change}
                       for w in written],
            )  # fmt: skip
        if dest.kind == "postgres":
            upserted, deleted = deliver_postgres(con, dest, audience, run_id, full)
            apply_state(con, dest, audience, run_id, full)  # after the PostgreSQL commit
            return AudienceDelivery(audience, "success", counts, rows=upserted + deleted)
        outcome = deliver_webhook(
            con, dest, audience, run_id, started_at,
            on_delivered=lambda lo, hi: apply_state(con, dest, audience, run_id, full, (lo, hi)),
            rng=rng, sleep=sleep,
        )  # fmt: skip
        item = AudienceDelivery(audience, "success", counts, rows=outcome.delivered_rows)
        if outcome.dead_batches:
            item.status = "failed"
            item.detail = (
                f"{outcome.dead_batches} of {outcome.batches} batches ({outcome.dead_rows} members) "
                f"dead-lettered to {outcome.dead_letter_file}; first error: {outcome.errors[0]}"
            )
        return item
    except Exception as exc:  # noqa: BLE001 - recorded per audience, the others still run
        detail = _error_summary(exc)
        log.error("%s/%s: delivery failed: %s", dest.name, audience, detail)
        return AudienceDelivery(audience, "failed", counts, detail=detail)


def _error_summary(exc: Exception) -> str:
    """Type and code of a failure, without its text: a database error can quote a member's row."""
    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate:
        return f"{type(exc).__name__} (SQLSTATE {sqlstate})"
    if isinstance(exc, OSError | ValueError | KeyError | RuntimeError) and not hasattr(exc, "diag"):
        return f"{type(exc).__name__}: {exc}"[:500]
    return type(exc).__name__


def delivery_env_summary(dests: list[Destination]) -> dict[str, str]:
    """destination -> 'active' or the reason it would be skipped (for listings)."""
    return {
        d.name: (
            "active"
            if not d.missing_secrets()
            else "inactive: set " + ", ".join(d.missing_secrets())
        )
        for d in dests
    }
