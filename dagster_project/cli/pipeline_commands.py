"""`cdp generate | run | bench`: demo data, the daily job and the benchmark."""

from __future__ import annotations

import argparse
import contextlib
import time
from datetime import date
from pathlib import Path

from dagster_project.settings import get_paths


def _cmd_generate(args: argparse.Namespace) -> int:
    from dagster_project.sources import demo_data

    paths = get_paths()
    out = Path(args.out) if args.out else paths.landing_dir
    truth = Path(args.truth) if args.truth else paths.truth_dir
    started = time.perf_counter()
    counts = demo_data.generate(
        out, truth, people=args.people, seed=args.seed, as_of=args.as_of, progress=not args.quiet
    )
    seconds = time.perf_counter() - started
    for name, rows in counts.items():
        print(f"  {name:<45} {rows:>12,} rows")
    print(f"generated {args.people:,} people into {out} in {seconds:.1f}s (ground truth: {truth})")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from dagster_project.pipeline import run_daily_job
    from dagster_project.report import build_summary, format_summary

    started = time.perf_counter()
    log_file = get_paths().data_dir / "logs" / "last_run.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    print(f"running the daily job (dbt output: {log_file}) ...", flush=True)
    with open(log_file, "w") as log, contextlib.ExitStack() as stack:
        if not args.verbose:  # dagster-dbt echoes every dbt log line to stdout
            stack.enter_context(contextlib.redirect_stdout(log))
        result = run_daily_job(
            retrain=args.retrain, log_level="INFO" if args.verbose else "WARNING"
        )
    seconds = time.perf_counter() - started
    if not result.success:
        print(
            f"daily job FAILED after {seconds:.1f}s; failed steps: {', '.join(result.failed_steps)}"
        )
        for message in result.errors:
            print(f"  - {message}")
        return 1
    print(format_summary(build_summary(get_paths()), seconds=seconds, steps=result.step_seconds))
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from dagster_project.bench import run_bench

    return run_bench(people=args.people, runs=args.runs, seed=args.seed, keep=args.keep)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the generate, run and bench commands."""

    gen = sub.add_parser("generate", help="generate demo source files and their ground truth")
    gen.add_argument("--people", type=int, default=10_000, help="true people (100 to 1,000,000)")
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=None,
        help="last day of activity (default today)",
    )
    gen.add_argument("--out", help="landing folder (default CDP_LANDING_DIR or data/landing)")
    gen.add_argument(
        "--truth", help="ground-truth folder (default CDP_TRUTH_DIR or data/ground_truth)"
    )
    gen.add_argument("--quiet", action="store_true", help="no progress bar")
    gen.set_defaults(func=_cmd_generate)

    run = sub.add_parser("run", help="run the daily job in this process and print a summary")
    run.add_argument("--retrain", action="store_true", help="retrain the Splink model first")
    run.set_defaults(func=_cmd_run)

    bench = sub.add_parser("bench", help="generate data at a scale and time every stage")
    bench.add_argument("--people", type=int, default=100_000)
    bench.add_argument("--runs", type=int, default=3, help="timed runs (median reported)")
    bench.add_argument("--seed", type=int, default=42)
    bench.add_argument("--keep", action="store_true", help="keep the benchmark folder")
    bench.set_defaults(func=_cmd_bench)
