"""Model lifecycle: train the Splink model into a new version and keep a pointer to the current one.

The model folder (CDP_MODEL_DIR, default data/models) holds:

    splink_model_<UTC yyyymmddThhmmssZ>.json   one file per trained version (never rewritten)
    splink_model_<version>_charts/*.html       Splink's charts of that version
    current.json                               the version the daily run uses (atomic write)

The last CDP_MODEL_KEEP_VERSIONS versions (default 5) are kept. A `splink_model.json` from
before versioning counts as the current version while no newer one exists.

Examples:
    ```py
    from pathlib import Path

    import duckdb
    from dagster_project.identity import training
    from dagster_project.identity.settings import IdentitySettings

    con = duckdb.connect("data/cdp.duckdb")
    result = training.train_model(con, Path("data/models"), IdentitySettings.from_env())
    training.current_version(Path("data/models"))  # -> the version just trained
    ```
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from splink import DuckDBAPI

from dagster_project.identity import splink_model
from dagster_project.identity.prepare import prepare_records
from dagster_project.identity.resolve import MIN_TRAINING_RECORDS
from dagster_project.identity.settings import IdentitySettings

logger = logging.getLogger(__name__)

MODEL_PREFIX = "splink_model_"
POINTER = "current.json"
LEGACY_MODEL = "splink_model.json"
LEGACY_VERSION = "legacy"
KEEP_VERSIONS_ENV = "CDP_MODEL_KEEP_VERSIONS"
DEFAULT_KEEP_VERSIONS = 5
_VERSION_FILE = re.compile(rf"^{MODEL_PREFIX}(\d{{8}}T\d{{6}}Z(?:-\d+)?)\.json$")


@dataclass(frozen=True)
class ModelVersion:
    """One saved model.

    Attributes:
        version: UTC timestamp id ('20261130T125301Z'), or 'legacy'.
        path: The model JSON.
        charts: {chart name: HTML file}; empty when none were drawn.
        trained_at: ISO timestamp of training, when known.
        records: Records trained on, when known.
        training_seconds: Wall time of training, when known.
        prior: Probability that two random records match, when known.
    """

    version: str
    path: Path
    charts: dict[str, Path] = field(default_factory=dict)
    trained_at: str | None = None
    records: int | None = None
    training_seconds: float | None = None
    prior: float | None = None


@dataclass(frozen=True)
class TrainingResult:
    """What a training run produced."""

    version: ModelVersion
    weights: dict[str, dict[str, float]]
    seconds: dict[str, float]
    removed: list[str]


def keep_versions(environ: Mapping[str, str] | None = None) -> int:
    """Versions to keep (CDP_MODEL_KEEP_VERSIONS, default 5, at least 1)."""
    raw = (os.environ if environ is None else environ).get(KEEP_VERSIONS_ENV, "").strip()
    if not raw:
        return DEFAULT_KEEP_VERSIONS
    try:
        value = int(raw)
    except ValueError as err:
        raise ValueError(f"{KEEP_VERSIONS_ENV}={raw!r} is not an integer") from err
    if value < 1:
        raise ValueError(f"{KEEP_VERSIONS_ENV} must be at least 1, got {value}")
    return value


def version_path(model_dir: Path, version: str) -> Path:
    """The model JSON of `version`."""
    if version == LEGACY_VERSION:
        return model_dir / LEGACY_MODEL
    return model_dir / f"{MODEL_PREFIX}{version}.json"


def charts_dir(model_dir: Path, version: str) -> Path:
    """The folder of `version`'s charts."""
    return model_dir / f"{MODEL_PREFIX}{version}_charts"


def new_version_id(model_dir: Path, now: datetime | None = None) -> str:
    """A UTC timestamp id not yet used in `model_dir` (suffix -2, -3 … within one second)."""
    base = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    candidate, n = base, 1
    while version_path(model_dir, candidate).exists() or charts_dir(model_dir, candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def list_versions(model_dir: Path) -> list[str]:
    """Versioned models on disk, oldest first (the ids sort by time)."""
    if not model_dir.is_dir():
        return []
    found = [m.group(1) for p in model_dir.iterdir() if (m := _VERSION_FILE.match(p.name))]
    return sorted(found, key=_sort_key)


def _sort_key(version: str) -> tuple[str, int]:
    stamp, _, n = version.partition("-")
    return stamp, int(n or 1)


def current_version(model_dir: Path) -> ModelVersion | None:
    """The version named by current.json; else the newest on disk; else a legacy model.

    Args:
        model_dir: The model folder.

    Returns:
        ModelVersion | None: None when no model exists.
    """
    pointer = model_dir / POINTER
    if pointer.is_file():
        data = json.loads(pointer.read_text(encoding="utf-8"))
        path = model_dir / data["model_file"]
        if path.is_file():
            return ModelVersion(
                version=data["version"],
                path=path,
                charts={k: model_dir / v for k, v in data.get("charts", {}).items()},
                trained_at=data.get("trained_at"),
                records=data.get("records"),
                training_seconds=data.get("training_seconds"),
                prior=data.get("prior"),
            )
        logger.warning("model: %s names missing file %s; ignoring it", pointer, path.name)
    versions = list_versions(model_dir)
    if versions:
        return ModelVersion(version=versions[-1], path=version_path(model_dir, versions[-1]))
    legacy = model_dir / LEGACY_MODEL
    if legacy.is_file():
        return ModelVersion(version=LEGACY_VERSION, path=legacy)
    return None


def usable_version(model_dir: Path, settings: IdentitySettings) -> ModelVersion | None:
    """The current version if it still has the comparisons and blocking rules declared in code."""
    current = current_version(model_dir)
    if current is None:
        return None
    saved = json.loads(current.path.read_text(encoding="utf-8"))
    if not splink_model.model_matches_declared(saved, settings):
        logger.warning(
            "model: version %s does not match the declared comparisons; a new one is needed",
            current.version,
        )
        return None
    return current


def register_version(model_dir: Path, version: ModelVersion, keep: int) -> list[str]:
    """Point current.json at `version` (atomic rename), then drop versions beyond `keep`.

    Args:
        model_dir: The model folder.
        version: The version to make current.
        keep: Versions to keep, the current one included.

    Returns:
        list[str]: Versions removed.
    """
    data = {
        "version": version.version,
        "model_file": version.path.name,
        "charts": {k: str(p.relative_to(model_dir)) for k, p in version.charts.items()},
        "trained_at": version.trained_at,
        "records": version.records,
        "training_seconds": version.training_seconds,
        "prior": version.prior,
    }
    tmp = model_dir / f".{POINTER}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, model_dir / POINTER)  # readers see the old or the new pointer, never half
    return prune_versions(model_dir, keep, version.version)


def prune_versions(model_dir: Path, keep: int, current: str) -> list[str]:
    """Delete the oldest versioned models (and their charts) beyond `keep`, never `current`."""
    versions = [v for v in list_versions(model_dir) if v != current]
    excess = versions[: max(len(versions) - (keep - 1), 0)]
    for version in excess:
        version_path(model_dir, version).unlink(missing_ok=True)
        shutil.rmtree(charts_dir(model_dir, version), ignore_errors=True)
        logger.info("model: removed old version %s", version)
    return excess


@contextmanager
def scratch_cursors(con: duckdb.DuckDBPyConnection, n: int = 2) -> Iterator[tuple[str, list]]:
    """Cursors whose default catalog is a fresh in-memory database (work tables stay out of
    the warehouse file).

    Yields:
        tuple: (the caller's catalog name, the cursors).
    """
    cursors = [con.cursor() for _ in range(n)]
    first = cursors[0]
    warehouse = first.execute("select current_database()").fetchall()[0][0]
    scratch = f"model_scratch_{uuid.uuid4().hex[:8]}"
    first.execute(f"attach ':memory:' as {scratch}")
    try:
        for cur in cursors:
            cur.execute(f"use {scratch}")
        yield warehouse, cursors
    finally:
        for cur in cursors:
            cur.execute(f'use "{warehouse}"')
        first.execute(f"detach {scratch}")
        for cur in cursors:
            cur.close()


def train_model(
    con: duckdb.DuckDBPyConnection,
    model_dir: Path,
    settings: IdentitySettings,
    keep: int | None = None,
    now: datetime | None = None,
) -> TrainingResult | None:
    """Train a new version on `<schema>.int_person_records_unioned`, save it with its charts
    and make it current.

    Args:
        con: Warehouse connection (read only is enough: work tables are in memory).
        model_dir: The model folder.
        settings: Identity settings (sampling sizes, seed, schema).
        keep: Versions to keep (default: `keep_versions()`).
        now: Training time (for tests).

    Returns:
        TrainingResult | None: None when there are too few records to train on.
    """
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    with scratch_cursors(con) as (catalog, (cur, splink_cur)):
        source = f'"{catalog}"."{settings.schema}"."int_person_records_unioned"'
        records = prepare_records(cur, source, "records", settings.max_name_block)
        seconds["prepare"] = round(time.perf_counter() - started, 3)
        if records < MIN_TRAINING_RECORDS:
            logger.warning(
                "model: %d records are too few to train on (need %d)",
                records,
                MIN_TRAINING_RECORDS,
            )
            return None
        mark = time.perf_counter()
        linker = splink_model.train_new_linker(DuckDBAPI(splink_cur), "records", settings)
        seconds["train"] = round(time.perf_counter() - mark, 3)
        model_dir.mkdir(parents=True, exist_ok=True)
        version = new_version_id(model_dir, now)
        path = version_path(model_dir, version)
        linker.misc.save_model_to_json(str(path), overwrite=False)
        mark = time.perf_counter()
        charts = splink_model.save_charts(linker, charts_dir(model_dir, version))
        seconds["charts"] = round(time.perf_counter() - mark, 3)
        weights = splink_model.level_weights(linker)
        prior = splink_model.prior_probability(linker)
    trained = ModelVersion(
        version=version,
        path=path,
        charts=charts,
        trained_at=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
        records=records,
        training_seconds=round(seconds["prepare"] + seconds["train"], 2),
        prior=prior,
    )
    removed = register_version(model_dir, trained, keep or keep_versions())
    logger.info(
        "model: trained version %s on %d records in %.1f s (%.0f records/s), charts %.1f s",
        version,
        records,
        trained.training_seconds,
        records / max(trained.training_seconds or 0, 1e-9),
        seconds["charts"],
    )
    return TrainingResult(version=trained, weights=weights, seconds=seconds, removed=removed)


def weights_markdown(weights: Mapping[str, Mapping[str, float]], prior: float | None) -> str:
    """A markdown table of the match weight of every comparison level, prior first."""
    lines = ["| comparison | level | match weight |", "|---|---|---|"]
    if prior is not None:
        lines.append(
            f"| prior | P(two random records match) = {prior:.3g} | "
            f"{splink_model.probability_to_weight(prior):.2f} |"
        )
    for name, levels in weights.items():
        for label, weight in levels.items():
            lines.append(f"| {name} | {label} | {weight:.2f} |")
    return "\n".join(lines)
