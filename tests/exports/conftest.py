"""A small hand-made warehouse for activation tests (see helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from .helpers import create_warehouse


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    create_warehouse(con)
    yield con
    con.close()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a throw-away PostgreSQL server; skipped only when no server binaries exist at all."""
    from .pg_server import find_bin_dir, postgres_cluster

    if find_bin_dir() is None:
        pytest.skip("PostgreSQL server binaries not found (apt-get install postgresql)")
    with postgres_cluster() as url:
        yield url
