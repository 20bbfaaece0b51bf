"""`cdp bench`: generate data at a scale, run the daily job several times, report medians.

Timing is taken from Dagster's own step statistics; peak memory from the kernel's
max-RSS counters for this process and its children (dbt runs in a subprocess).
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

log = logging.getLogger(__name__)


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


def run_bench(people: int, runs: int = 3, seed: int = 42, keep: bool = False) -> int:
    from dagster_project.pipeline import run_daily_job
    from dagster_project.sources import demo_data

    root = Path(tempfile.mkdtemp(prefix=f"cdp-bench-{people}-"))
    os.environ.update(
        CDP_DATA_DIR=str(root),
        CDP_DUCKDB_PATH=str(root / "cdp.duckdb"),
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
    print(f"  generate: {generate_s:.1f}s")

    totals: list[float] = []
    per_stage: dict[str, list[float]] = defaultdict(list)
    first_total = 0.0
    for i in range(runs + 1):
        t0 = time.perf_counter()
        with open(root / "runs.log", "a") as log, contextlib.redirect_stdout(log):
            result = run_daily_job(retrain=(i == 0))  # dagster-dbt echoes dbt's log to stdout
        total = time.perf_counter() - t0
        if not result.success:
            print(f"  run {i} FAILED: {result.errors}")
            return 1
        stages: dict[str, float] = defaultdict(float)
        for key, seconds in result.step_seconds.items():
            stages[stage_of(key)] += seconds
        label = "first run (trains the model)" if i == 0 else f"run {i} (reuses the model)"
        print(f"  {label}: {total:.1f}s  " + ", ".join(f"{k} {v:.1f}s" for k, v in stages.items()))
        if i == 0:
            first_total = total
            continue
        totals.append(total)
        for k, v in stages.items():
            per_stage[k].append(v)
    peak_self, peak_child = _peak_rss_mb()
    print(f"\nmedians over {runs} runs with a reused model, {people:,} people:")
    for k, values in per_stage.items():
        print(f"  {k:<14} {statistics.median(values):8.1f}s")
    print(
        f"  {'total':<14} {statistics.median(totals):8.1f}s   (first run with training: {first_total:.1f}s)"
    )
    print(f"  generate       {generate_s:8.1f}s")
    # A forked child starts with its parent's pages, so the two figures overlap; report the max.
    peak = max(peak_self, peak_child)
    print(f"  peak memory    {peak:8.0f} MB (max RSS of the process or any child, e.g. dbt)")
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0
