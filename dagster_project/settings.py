"""Paths and tunables, read from environment variables with defaults relative to the repo.

Read inside functions, never at import time, so tests can point everything at a temp folder.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


def _path(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Paths:
    data_dir: Path
    warehouse: Path
    landing_dir: Path
    truth_dir: Path
    serving: Path
    model_dir: Path
    sources_config: Path
    audiences_config: Path
    identity_config: Path


def get_paths() -> Paths:
    """Resolve every path the platform uses (env var overrides in brackets).

    CDP_DATA_DIR (data/) holds the rest by default: CDP_DUCKDB_PATH (cdp.duckdb),
    CDP_LANDING_DIR (landing/), CDP_TRUTH_DIR (ground_truth/), CDP_SERVING_PATH
    (serving/cdp_serving.duckdb), CDP_MODEL_DIR (models/). Config files: CDP_SOURCES_CONFIG,
    CDP_AUDIENCES_CONFIG, CDP_IDENTITY_CONFIG (config/*.yml).
    """
    data = _path("CDP_DATA_DIR", PROJECT_ROOT / "data")
    return Paths(
        data_dir=data,
        warehouse=_path("CDP_DUCKDB_PATH", data / "cdp.duckdb"),
        landing_dir=_path("CDP_LANDING_DIR", data / "landing"),
        truth_dir=_path("CDP_TRUTH_DIR", data / "ground_truth"),
        serving=_path("CDP_SERVING_PATH", data / "serving" / "cdp_serving.duckdb"),
        model_dir=_path("CDP_MODEL_DIR", data / "models"),
        sources_config=_path("CDP_SOURCES_CONFIG", PROJECT_ROOT / "config" / "sources.yml"),
        audiences_config=_path("CDP_AUDIENCES_CONFIG", PROJECT_ROOT / "config" / "audiences.yml"),
        identity_config=_path("CDP_IDENTITY_CONFIG", PROJECT_ROOT / "config" / "identity.yml"),
    )


def export_warehouse_env() -> Paths:
    """Make the warehouse path absolute in the environment, so the dbt subprocess writes the same file."""
    paths = get_paths()
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    os.environ["CDP_DUCKDB_PATH"] = str(paths.warehouse)
    return paths


def ensure_dagster_home() -> Path:
    """DAGSTER_HOME (default data/dagster_home) with the project's dagster.yaml (one run at a time)."""
    home = Path(os.environ.get("DAGSTER_HOME") or get_paths().data_dir / "dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if not target.exists():
        shutil.copyfile(PROJECT_ROOT / "config" / "dagster.yaml", target)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
