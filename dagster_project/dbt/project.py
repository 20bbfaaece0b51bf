"""The dbt project as dagster-dbt sees it, with its manifest kept fresh."""

from __future__ import annotations

import logging
import os
from functools import cache

from dagster_dbt import DbtProject

from dagster_project.settings import DBT_PROJECT_DIR

log = logging.getLogger(__name__)
_WATCHED = ("models", "macros", "seeds", "tests", "dbt_project.yml")


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in _WATCHED:
        path = DBT_PROJECT_DIR / name
        files = [path] if path.is_file() else path.rglob("*")
        newest = max([newest, *(f.stat().st_mtime for f in files if f.is_file())])
    return newest


@cache
def dbt_project() -> DbtProject:
    """Return the DbtProject, running `dbt parse` first when the manifest is missing or stale.

    dagster-dbt only re-parses under `dagster dev`; `cdp run`, tests and the daily job need
    a manifest too, and a stale one silently runs yesterday's models.
    """
    project = DbtProject(
        project_dir=DBT_PROJECT_DIR,
        profiles_dir=DBT_PROJECT_DIR,
        target=os.environ.get("DBT_TARGET") or None,
    )
    manifest = project.manifest_path
    if not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime():
        log.info("dbt manifest missing or older than the dbt sources: running dbt parse")
        project.preparer.prepare(project)
    return project
