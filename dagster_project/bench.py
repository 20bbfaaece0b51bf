"""`cdp bench`: generate data at a scale, run the daily job several times, report medians.

The runs, in one temporary folder:

1. generate N people and hold back ~1% of the person records (`demo_increment`);
2. one run that trains the model, then `runs` runs with the saved model and a full
   re-link (CDP_FULL_RELINK=1): the full-link figures;
3. `runs` incremental days: each restores the warehouse of the last full run, releases
   the held-back records and runs the job again, which links only them;
4. the share of persons whose records did not change that kept their person_id.

Timing is taken from Dagster's own step statistics; identity phases from the asset's
metadata; peak memory from the kernel's max-RSS counters for this process and its children
(dbt runs in a subprocess).
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

IDENTITY_STEP = "person_map"
INCREMENT_SHARE = 0.01


def stage_of(step_key: str) -> str:
    """Group Dagster step keys into pipeline stages."""
    if "dbt" in step_key:
        return "dbt"
    for prefix in ("identity", "audiences", "exports"):
        if step_key.startswith(prefix):
            return prefix
    return "load sources"


def _peak_rss_mb() -> tuple[float, float]:
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return self_kb / 1024, child_kb / 1024


def identity_seconds(step_seconds: dict[str, float]) -> float:
    """Seconds of the identity person_map step (0 when absent)."""
    return sum(
        v for k, v in step_seconds.items() if k.startswith("identity") and IDENTITY_STEP in k
    )


def _identity_metadata(instance: Any) -> dict[str, Any]:
    """link_mode and seconds_per_phase of the latest identity/person_map materialisation."""
    import dagster as dg

    event = instance.get_latest_materialization_event(dg.AssetKey(["identity", "person_map"]))
    if event is None or event.asset_materialization is None:
        return {}
    meta = event.asset_materialization.metadata
    return {k: getattr(v, "value", v) for k, v in meta.items()}


def ratio(part: float, whole: float) -> float:
    """part / whole, 0 when whole is 0."""
    return part / whole if whole else 0.0


class _Run:
    """One timed daily-job run: totals, stages, identity step and its metadata."""

    def __init__(self, root: Path, label: str, retrain: bool = False) -> None:
        import dagster as dg

        from dagster_project.pipeline import run_daily_job

        instance = dg.DagsterInstance.ephemeral()
        t0 = time.perf_counter()
        with open(root / "runs.log", "a") as out, contextlib.redirect_stdout(out):
            result = run_daily_job(retrain=retrain, instance=instance)  # dbt echoes to stdout
        self.total = time.perf_counter() - t0
        self.ok = result.success
        self.errors = result.errors
        self.stages: dict[str, float] = defaultdict(float)
        for key, seconds in result.step_seconds.items():
            self.stages[stage_of(key)] += seconds
        self.identity = identity_seconds(result.step_seconds)
        self.meta = _identity_metadata(instance) if self.ok else {}
        phases = self.meta.get("seconds_per_phase") or {}
        print(
            f"  {label}: {self.total:.1f}s  "
            + ", ".join(f"{k} {v:.1f}s" for k, v in self.stages.items())
            + f"  [identity {self.identity:.1f}s, {self.meta.get('link_mode', '?')} link: "
            + ", ".join(f"{k} {v:.1f}" for k, v in phases.items())
            + "]"
        )
        if not self.ok:
            print(f"    FAILED: {self.errors}")


def _person_map_snapshot(warehouse: Path, target: Path) -> None:
    """Copy record_key -> person_id (person records) to a parquet file."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute(
            f"copy (select record_key, person_id from identity.person_map "
            f"where source <> 'web_analytics__cookies') to '{target}' (format parquet)"
        )
    finally:
        con.close()


def _kept_ids(before: Path, after: Path) -> tuple[int, int]:
    import duckdb

    from dagster_project.sources.demo_increment import kept_id_share

    con = duckdb.connect()
    try:
        con.execute(f"create view before_map as select * from read_parquet('{before}')")
        con.execute(f"create view after_map as select * from read_parquet('{after}')")
        return kept_id_share(con, "before_map", "after_map")
    finally:
        con.close()


def run_bench(people: int, runs: int = 3, seed: int = 42, keep: bool = False) -> int:
    from dagster_project.sources import demo_data, demo_increment

    root = Path(tempfile.mkdtemp(prefix=f"cdp-bench-{people}-"))
    warehouse = root / "cdp.duckdb"
    os.environ.update(
        CDP_DATA_DIR=str(root),
        CDP_DUCKDB_PATH=str(warehouse),
        CDP_LANDING_DIR=str(root / "landing"),
        CDP_TRUTH_DIR=str(root / "ground_truth"),
        CDP_SERVING_PATH=str(root / "serving" / "cdp_serving.duckdb"),
        CDP_MODEL_DIR=str(root / "models"),
    )
    os.environ.pop("DAGSTER_HOME", None)
    print(f"benchmark: {people:,} people in {root}")
    started = time.perf_counter()
    demo_data.generate(
        root / "landing", root / "ground_truth", people=people, seed=seed, progress=True
    )
    generate_s = time.perf_counter() - started
    inc = demo_increment.hold_back(
        root / "landing", root / "ground_truth", root / "increment", share=INCREMENT_SHARE
    )
    print(
        f"  generate: {generate_s:.1f}s; held back {inc.records:,} of {inc.total_records:,} "
        f"person records for the incremental day ({inc.new_people:,} new people, "
        f"{inc.grown_people:,} people with a new record)"
    )

    first = _Run(root, "first run (trains the model)", retrain=True)
    if not first.ok:
        return 1
    full_runs: list[_Run] = []
    os.environ["CDP_FULL_RELINK"] = "1"
    try:
        for i in range(runs):
            full_runs.append(_Run(root, f"run {i + 1} (reused model, full re-link)"))
            if not full_runs[-1].ok:
                return 1
    finally:
        os.environ.pop("CDP_FULL_RELINK", None)
    day_one = root / "day_one.duckdb"
    shutil.copyfile(warehouse, day_one)
    _person_map_snapshot(warehouse, root / "map_day_one.parquet")
    demo_increment.release(root / "landing", root / "increment")
    inc_runs: list[_Run] = []
    for i in range(runs):
        shutil.copyfile(day_one, warehouse)  # every incremental day starts from day one
        inc_runs.append(_Run(root, f"incremental day {i + 1} (+{inc.records:,} records)"))
        if not inc_runs[-1].ok:
            return 1
    _person_map_snapshot(warehouse, root / "map_day_two.parquet")
    unchanged, kept = _kept_ids(root / "map_day_one.parquet", root / "map_day_two.parquet")

    peak_self, peak_child = _peak_rss_mb()
    print(f"\nmedians over {runs} runs with a reused model and a full re-link, {people:,} people:")
    stages = {k for r in full_runs for k in r.stages}
    for k in sorted(stages, key=list(full_runs[0].stages).index):
        print(f"  {k:<14} {statistics.median(r.stages.get(k, 0.0) for r in full_runs):8.1f}s")
    full_total = statistics.median(r.total for r in full_runs)
    full_identity = statistics.median(r.identity for r in full_runs)
    print(f"  {'total':<14} {full_total:8.1f}s   (first run with training: {first.total:.1f}s)")
    print(f"  generate       {generate_s:8.1f}s")
    inc_total = statistics.median(r.total for r in inc_runs)
    inc_identity = statistics.median(r.identity for r in inc_runs)
    modes = sorted({str(r.meta.get("link_mode")) for r in inc_runs})
    print(f"\nincremental day, {inc.records:,} new person records (median of {runs}):")
    print(
        f"  identity step  {inc_identity:8.1f}s   vs full link {full_identity:.1f}s: "
        f"{ratio(inc_identity, full_identity):.0%}   (link mode: {', '.join(modes)})"
    )
    print(
        f"  daily job      {inc_total:8.1f}s   vs full job {full_total:.1f}s: "
        f"{ratio(inc_total, full_total):.0%}   (loading and dbt are not incremental)"
    )
    print(
        f"  persons whose records did not change that kept their id: {kept:,} of "
        f"{unchanged:,} ({ratio(kept, unchanged):.3%})"
    )
    # A forked child starts with its parent's pages, so the two figures overlap; report the max.
    peak = max(peak_self, peak_child)
    print(f"  peak memory    {peak:8.0f} MB (max RSS of the process or any child, e.g. dbt)")
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if modes == ["incremental"] else 1
