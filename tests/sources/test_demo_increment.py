"""The demo's "day 2": ~1% of person records held back, then released as extra files."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import duckdb
import pytest

from dagster_project.settings import get_paths
from dagster_project.sources import demo_data, demo_increment
from dagster_project.sources.config import load_sources


def _rows(landing: Path) -> dict[str, int]:
    """Data rows per person source, over all files its glob matches."""
    out = {}
    for spec in load_sources(get_paths().sources_config):
        if spec.entity == "person":
            files = sorted(landing.glob(spec.path))
            out[spec.name] = sum(len(f.read_bytes().splitlines()) - 1 for f in files)
    return out


def test_hold_back_then_release_restores_every_row(tmp_path: Path) -> None:
    landing, truth, store = tmp_path / "landing", tmp_path / "truth", tmp_path / "store"
    demo_data.generate(landing, truth, people=1500, seed=5, progress=False)
    before = _rows(landing)
    inc = demo_increment.hold_back(landing, truth, store)
    assert inc.total_records == sum(before.values())
    assert 0.005 < inc.records / inc.total_records < 0.02
    assert inc.grown_people > 0 and inc.new_people > 0
    held = _rows(landing)
    assert sum(before.values()) - sum(held.values()) == inc.records
    written = demo_increment.release(landing, store)
    assert written and all(p.stem.endswith("_increment") for p in written)
    specs = {s.name: s for s in load_sources(get_paths().sources_config)}
    for path in written:
        rel = path.relative_to(landing).as_posix()
        assert any(fnmatch.fnmatch(rel, s.path) for s in specs.values())
    assert _rows(landing) == before


def test_kept_id_share_counts_splits_and_ignores_grown_people() -> None:
    con = duckdb.connect()
    con.execute("""create table before as select * from (values
        ('a1', 'P1'), ('a2', 'P1'), ('b1', 'P2'), ('c1', 'P3'), ('c2', 'P3'), ('d1', 'P4'))
        t(record_key, person_id)""")
    con.execute("""create table after as select * from (values
        ('a1', 'P1'), ('a2', 'P1'),              -- unchanged, kept
        ('b1', 'P2'), ('new1', 'P2'),            -- grew: left out
        ('c1', 'P3'), ('c2', 'P9'),              -- split: unchanged but lost the id
        ('d1', 'P4'))                            -- unchanged, kept
        t(record_key, person_id)""")
    assert demo_increment.kept_id_share(con, "before", "after") == (3, 2)


def test_store_inside_landing_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="outside"):
        demo_increment.hold_back(tmp_path, tmp_path, tmp_path / "inside")
