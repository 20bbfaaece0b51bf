"""The dbt project as dagster-dbt sees it, with its manifest kept fresh."""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from dagster_dbt import DbtProject

from dagster_project.settings import DBT_PROJECT_DIR, export_warehouse_env

log = logging.getLogger(__name__)
_WATCHED = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")
# Environment variables dbt hashes into its partial-parse state: if they differ from the last
# parse, every dbt invocation re-parses the whole project (about 10 s here).
_PARSE_ENV = ("CDP_DUCKDB_PATH", "CDP_AS_OF", "DBT_TARGET", "CDP_DUCKDB_MEMORY_LIMIT")
_KEEP_INVOCATION_DIRS = 12


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in _WATCHED:
        path = DBT_PROJECT_DIR / name
        files = [path] if path.is_file() else path.rglob("*")
        newest = max([newest, *(f.stat().st_mtime for f in files if f.is_file())])
    return newest


def dbt_project(for_run: bool = False) -> DbtProject:
    """Return the DbtProject, running `dbt parse` first when the manifest is missing or stale.

    dagster-dbt only re-parses under `dagster dev`; `cdp run`, tests and the daily job need a
    manifest too, and a stale one silently runs yesterday's models. With `for_run`, it also
    re-parses when the warehouse path or as-of date differ from the last parse, so that the
    run's dbt invocations can use partial parsing.
    """
    export_warehouse_env()
    project = DbtProject(
        project_dir=DBT_PROJECT_DIR,
        profiles_dir=DBT_PROJECT_DIR,
        target=os.environ.get("DBT_TARGET") or None,
    )
    manifest = project.manifest_path
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with open(manifest.with_name(".parse.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # several processes (tests, the UI) may load at once
        _parse_if_stale(manifest, for_run)
    return project


def _parse_if_stale(manifest: Path, for_run: bool) -> None:
    stamp = manifest.with_name("parsed_with_env.txt")
    env = "\n".join(f"{k}={os.environ.get(k, '')}" for k in _PARSE_ENV)
    stale = not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime()
    if for_run:
        stale = stale or not stamp.exists() or stamp.read_text() != env
    if not stale:
        return
    log.info("dbt manifest missing, stale or parsed for another warehouse: running dbt parse")
    # Parse into a scratch folder and move the results in, so readers never see half a file.
    with tempfile.TemporaryDirectory(dir=manifest.parent, prefix=".parse-") as scratch:
        proc = subprocess.run(
            [
                dbt_executable(),
                "parse",
                "--quiet",
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
                "--target-path",
                scratch,
            ],
            cwd=DBT_PROJECT_DIR,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"dbt parse failed:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
        for name in ("partial_parse.msgpack", "manifest.json"):
            os.replace(Path(scratch) / name, manifest.with_name(name))
    stamp.write_text(env)


def prune_invocation_dirs(target: Path, keep: int = _KEEP_INVOCATION_DIRS) -> None:
    """dagster-dbt leaves one target folder per invocation; keep the newest few for debugging."""
    dirs = sorted(
        (d for d in target.glob("cdp_dbt_models*") if d.is_dir()),
        key=lambda d: d.stat().st_mtime,
        reverse=True,
    )
    for old in dirs[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def dbt_executable() -> str:
    """The dbt next to this Python (the venv's), so it works without an activated venv."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")
