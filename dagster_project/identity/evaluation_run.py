"""`cdp evaluate`: linkage quality of the real pipeline on any labelled person data.

A labelled sample is declared like `config/sources.yml` (same `path`, `format`, `options`,
`columns` mapping onto the canonical person fields) plus a `truth_column` naming the column
with the true entity id:

```yaml
systems:
  febrl:
    people:
      path: febrl3.csv            # relative to this file
      format: csv
      truth_column: entity_id
      options: {date_formats: ["%Y%m%d"]}
      columns: {record_id: rec_id, first_name: given_name, last_name: surname}
```

`run_evaluation` then runs the product's own code end to end in a temporary warehouse: the
loader (`sources.loader`), dbt's staging macros (`stg_evaluation__person_records` ->
`int_person_records_unioned`) and `resolve_identities` with a freshly trained Splink model
and the default identity settings, and scores the person map with `evaluate_person_map`.
One file set is a dedupe; several are linked across (and within) sets, as production does.
Nothing under the data folder is touched.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from dagster_project.identity.evaluate import Evaluation, evaluate_person_map
from dagster_project.identity.resolve import resolve_identities
from dagster_project.identity.settings import IdentitySettings
from dagster_project.privacy.suppression import SuppressionList
from dagster_project.settings import DBT_PROJECT_DIR
from dagster_project.sources.config import SourceConfigError, SourceSpec, parse_sources
from dagster_project.sources.loader import find_files, load_source, quote_ident

logger = logging.getLogger(__name__)

# Raw tables of an evaluation run are raw.evaluation__<system>__<table>.
RAW_PREFIX = "evaluation"


class EvaluationError(RuntimeError):
    """The evaluation could not run; the message says which step and why."""


@dataclass(frozen=True)
class LabelledSource:
    """One labelled file set: its source spec (as the loader reads it) and the truth column."""

    spec: SourceSpec
    truth_column: str
    base_dir: Path


@dataclass
class SourceCounts:
    """What the loader made of one labelled file set (counts only, no values)."""

    name: str
    files: int
    rows: int
    quarantined: int
    quarantine_reasons: dict[str, int]
    labelled: int


@dataclass
class EvaluationReport:
    """Result of `run_evaluation`.

    Attributes:
        precision: Pairwise precision of the predicted persons against the truth.
        recall: Pairwise recall.
        f1: Harmonic mean of both.
        records: Labelled records scored (quarantined ones count as unlinked singletons).
        true_entities: Distinct true ids among them.
        predicted_persons: Distinct predicted persons among them.
        true_pairs: Record pairs of one true entity.
        predicted_pairs: Record pairs of one predicted person.
        true_positive_pairs: Pairs in both.
        sources: Loader counts per file set.
        link_type: 'dedupe' (one file set) or 'link' (several).
        splink_trained: Whether a Splink model was trained (False below 100 records).
        seconds: Wall time per step and in total.
    """

    precision: float
    recall: float
    f1: float
    records: int
    true_entities: int
    predicted_persons: int
    true_pairs: int
    predicted_pairs: int
    true_positive_pairs: int
    sources: list[SourceCounts]
    link_type: str
    splink_trained: bool
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for `--json`."""
        return dataclasses.asdict(self)


# ---------------------------------------------------------------- configuration


def parse_evaluation_config(raw: Any, base_dir: Path) -> list[LabelledSource]:
    """Validate a labelled-sample document (sources.yml shape plus `truth_column`).

    Args:
        raw: Parsed YAML: `systems: {<system>: {<table>: {path, format, truth_column,
            columns, options}}}`; `entity` may be omitted (always `person`).
        base_dir: Folder relative paths are resolved against.

    Returns:
        list[LabelledSource]: One per file set, in declaration order.

    Raises:
        SourceConfigError: Anything the sources config would refuse, a missing or
            non-text truth_column, or an entity other than person.
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("systems"), dict):
        raise SourceConfigError("evaluation config must have a top-level 'systems:' mapping")
    truth: dict[tuple[str, str], str] = {}
    stripped: dict[str, dict[str, Any]] = {}
    for system, tables in raw["systems"].items():
        if not isinstance(tables, dict):
            raise SourceConfigError(f"{system}: expected a mapping of tables")
        stripped[system] = {}
        for table, body in tables.items():
            where = f"{system}.{table}"
            if not isinstance(body, dict):
                raise SourceConfigError(f"{where}: expected a mapping with path, format, columns")
            body = dict(body)
            column = body.pop("truth_column", None)
            if not isinstance(column, str) or not column.strip():
                raise SourceConfigError(
                    f"{where}: 'truth_column' must name the column holding the true entity id"
                )
            entity = body.setdefault("entity", "person")
            if entity != "person":
                raise SourceConfigError(
                    f"{where}: evaluation needs entity 'person', got {entity!r}"
                )
            truth[(str(system), str(table))] = column
            stripped[system][table] = body
    sources = []
    for spec in parse_sources({"systems": stripped}):
        # raw.evaluation__<system>__<table>: never collides with a production raw table
        renamed = dataclasses.replace(spec, system=RAW_PREFIX, table=spec.name)
        sources.append(LabelledSource(renamed, truth[(spec.system, spec.table)], base_dir))
    return sources


def load_evaluation_config(path: Path) -> list[LabelledSource]:
    """Read an evaluation YAML file; relative paths are relative to its folder."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SourceConfigError(f"evaluation config not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise SourceConfigError(f"evaluation config {path} is not valid YAML: {exc}") from exc
    return parse_evaluation_config(raw, path.resolve().parent)


def config_from_files(
    files: list[Path],
    mapping: dict[str, str],
    truth_column: str,
    file_format: str | None = None,
    options: dict[str, Any] | None = None,
) -> list[LabelledSource]:
    """The evaluation config for files sharing one mapping (the `--file/--map` flags).

    Each file becomes its own file set (`files.<stem>`), so two files are linked across.
    The format defaults to the file extension (.csv/.tsv/.txt, .json/.jsonl/.ndjson, .parquet).
    """
    if not files:
        raise SourceConfigError("give at least one --file (or --config)")
    tables: dict[str, Any] = {}
    for i, f in enumerate(files):
        name = re.sub(r"[^a-z0-9_]+", "_", f.stem.lower()).strip("_") or "file"
        name = name if name[0].isalpha() else f"f_{name}"
        if name in tables:
            name = f"{name}_{i + 1}"
        tables[name] = {
            "path": str(f.resolve()),
            "format": file_format or _format_from_suffix(f),
            "truth_column": truth_column,
            "columns": dict(mapping),
            "options": dict(options or {}),
        }
    return parse_evaluation_config({"systems": {"files": tables}}, Path.cwd())


def _format_from_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    for fmt, suffixes in (
        ("csv", (".csv", ".tsv", ".txt")),
        ("json", (".json", ".jsonl", ".ndjson")),
        ("parquet", (".parquet", ".pq")),
    ):
        if suffix in suffixes:
            return fmt
    raise SourceConfigError(f"cannot tell the format of {path.name}: pass --format")


# ---------------------------------------------------------------- the run


def run_evaluation(
    sources: list[LabelledSource],
    settings: IdentitySettings | None = None,
    workdir: Path | None = None,
) -> EvaluationReport:
    """Load, standardise and resolve labelled records in a temporary warehouse; score them.

    Args:
        sources: Labelled file sets (see `parse_evaluation_config`).
        settings: Identity tunables; the product defaults (`IdentitySettings.from_env()`)
            when None. Never tuned to a data set here.
        workdir: Keep the warehouse, model and dbt log in this folder instead of a temporary
            one (for inspection).

    Returns:
        EvaluationReport: Pairwise precision, recall, F1, counts and seconds.

    Raises:
        EvaluationError: A file set has no readable rows or no labels, or dbt fails.
        SourceLoadError: A file cannot be read (message names the file).
    """
    if not sources:
        raise EvaluationError("nothing to evaluate: no labelled file sets")
    settings = settings or IdentitySettings.from_env()
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        return _run_in(sources, settings, workdir, started, seconds)
    with tempfile.TemporaryDirectory(prefix="cdp-evaluate-") as tmp:
        return _run_in(sources, settings, Path(tmp), started, seconds)


def _run_in(
    sources: list[LabelledSource],
    settings: IdentitySettings,
    work: Path,
    started: float,
    seconds: dict[str, float],
) -> EvaluationReport:
    warehouse = work / "evaluation.duckdb"
    for stale in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        stale.unlink(missing_ok=True)  # a kept workdir from an earlier run
    lap = time.perf_counter()
    with duckdb.connect(str(warehouse)) as con:
        counts = [_load_one(con, src) for src in sources]
    seconds["load"] = round(time.perf_counter() - lap, 2)

    lap = time.perf_counter()
    run_dbt_for_evaluation(warehouse, [s.spec.name for s in sources], work)
    seconds["dbt"] = round(time.perf_counter() - lap, 2)

    lap = time.perf_counter()
    with duckdb.connect(str(warehouse)) as con:
        stats = resolve_identities(con, work / "splink_model.json", settings, retrain=True)
        seconds["identity"] = round(time.perf_counter() - lap, 2)
        lap = time.perf_counter()
        result = _score(con, settings.schema)
    seconds["score"] = round(time.perf_counter() - lap, 2)
    seconds["total"] = round(time.perf_counter() - started, 2)
    report = EvaluationReport(
        precision=result.precision,
        recall=result.recall,
        f1=result.f1,
        records=result.records,
        true_entities=result.true_clusters,
        predicted_persons=result.predicted_clusters,
        true_pairs=result.true_pairs,
        predicted_pairs=result.predicted_pairs,
        true_positive_pairs=result.true_positive_pairs,
        sources=counts,
        link_type="dedupe" if len(sources) == 1 else "link",
        splink_trained=stats.model_trained,
        seconds=seconds,
    )
    logger.info(
        "evaluate: %d records, precision %.4f recall %.4f f1 %.4f in %.1fs (%.0f records/s)",
        report.records,
        report.precision,
        report.recall,
        report.f1,
        seconds["total"],
        report.records / max(seconds["total"], 1e-9),
    )
    return report


def _load_one(con: duckdb.DuckDBPyConnection, src: LabelledSource) -> SourceCounts:
    """Load a file set with the product's loader and its truth labels into `eval_truth`."""
    spec = src.spec
    files = find_files(spec, src.base_dir)
    if not files:
        raise EvaluationError(f"{spec.name}: no file matches {src.base_dir / spec.path}")
    # an empty suppression list: the erasure list is about production people, not this sample
    loaded = load_source(con, spec, src.base_dir, suppression=SuppressionList())
    labelled = _load_truth(con, src, files)
    if loaded.rows == 0:
        raise EvaluationError(f"{spec.name}: no usable rows (all {loaded.quarantined} quarantined)")
    if labelled == 0:
        raise EvaluationError(f"{spec.name}: no row has a value in '{src.truth_column}'")
    return SourceCounts(
        spec.name, len(files), loaded.rows, loaded.quarantined, loaded.reasons, labelled
    )


def _load_truth(con: duckdb.DuckDBPyConnection, src: LabelledSource, files: list[Path]) -> int:
    """Append (record_key, true_id) of every labelled row to `eval_truth`; return the count.

    Read with the loader's own file reader (same delimiter, encoding, BOM and JSON handling)
    under a spec that maps only record_id and the truth column; the last row of a repeated
    record id wins, as in the loader. Rows the loader quarantined stay in the truth: they
    score as records the pipeline left unlinked.
    """
    # The loader's reader is internal to it; reused so that truth and records are read alike.
    from dagster_project.sources.loader import _read_file

    spec = dataclasses.replace(
        src.spec, columns={"record_id": src.spec.columns["record_id"], "true_id": src.truth_column}
    )
    cur = con.cursor()
    cur.execute(
        "create table if not exists eval_truth (record_key varchar primary key, true_id varchar)"
    )
    parts = []
    for i, path in enumerate(files):
        _read_file(cur, spec, path, f"_truth_{i}", f"_truth_rejects_{i}")
        parts.append(
            f"select {i} as file_no, _row_number, trim(record_id) as record_id, "
            f"nullif(trim(true_id), '') as true_id from _truth_{i}"
        )
    label = spec.name.replace("'", "''")
    cur.execute(f"""
        insert into eval_truth
        select '{label}:' || record_id, arg_max(true_id, file_no * 1e12 + _row_number)
        from ({" union all ".join(parts)})
        where record_id <> '' and true_id is not null
        group by record_id
    """)
    for i in range(len(files)):
        for table in (f"_truth_{i}", f"_truth_rejects_{i}_errors", f"_truth_rejects_{i}_scans"):
            cur.execute(f"drop table if exists {quote_ident(table)}")
    n = cur.execute(
        "select count(*) from eval_truth where starts_with(record_key, ?)", [f"{spec.name}:"]
    ).fetchone()[0]
    cur.close()
    return int(n)


def run_dbt_for_evaluation(warehouse: Path, raw_tables: list[str], work: Path) -> None:
    """Build the person staging and `int_person_records_unioned` from the evaluation tables.

    Runs the real dbt project with var `evaluation_sources`, so the same stage_person_records()
    macro standardises the labelled records. Production-only tests are skipped: unit tests
    (fixtures of the demo silos) and accepted_values (source labels, countries of the demo).
    """
    from dagster_project.dbt.project import dbt_executable

    env = {**os.environ, "CDP_DUCKDB_PATH": str(warehouse)}
    cmd = [
        dbt_executable(),
        "build",
        "--select",
        "+int_person_records_unioned",
        "--exclude-resource-type",
        "unit_test",
        "--exclude",
        "test_name:accepted_values",
        "--indirect-selection",
        "cautious",  # no tests that also read production tables (silos, cookie logins)
        "--vars",
        json.dumps({"evaluation_sources": raw_tables}),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(work / "dbt_target"),
        "--log-path",
        str(work / "dbt_logs"),
    ]
    proc = subprocess.run(cmd, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True)
    (work / "dbt_output.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if proc.returncode != 0:
        failed = [ln for ln in proc.stdout.splitlines() if "ERROR" in ln or "FAIL" in ln]
        detail = "\n".join(failed[-15:]) or proc.stdout[-2000:]
        raise EvaluationError(f"dbt build of the evaluation input failed:\n{detail}")


def _score(con: duckdb.DuckDBPyConnection, schema: str) -> Evaluation:
    """Score the person map; labelled records without a person (quarantined) are singletons."""
    cur = con.cursor()
    cur.execute(f"""
        create or replace temp view eval_predicted as
        select t.record_key, coalesce(p.person_id, 'unresolved:' || t.record_key) as person_id
        from eval_truth as t
        left join {quote_ident(schema)}.person_map as p using (record_key)
    """)
    try:
        return evaluate_person_map(cur, "eval_predicted", "eval_truth")
    finally:
        cur.close()


def format_report(report: EvaluationReport) -> str:
    """Human-readable summary for the terminal."""
    lines = [
        f"{report.link_type} of {report.records:,} labelled records "
        f"({len(report.sources)} file set{'s' if len(report.sources) > 1 else ''})",
    ]
    for s in report.sources:
        reasons = ", ".join(f"{k}: {v}" for k, v in s.quarantine_reasons.items())
        lines.append(
            f"  {s.name:<40} {s.files} file(s), {s.rows:,} rows loaded, "
            f"{s.quarantined:,} quarantined{f' ({reasons})' if reasons else ''}, "
            f"{s.labelled:,} labelled"
        )
    lines += [
        f"precision  {report.precision:.4f}",
        f"recall     {report.recall:.4f}",
        f"F1         {report.f1:.4f}",
        f"true entities      {report.true_entities:,}",
        f"predicted persons  {report.predicted_persons:,}",
        f"pairs: true {report.true_pairs:,}, predicted {report.predicted_pairs:,}, "
        f"correct {report.true_positive_pairs:,}",
        f"splink model {'trained on this data' if report.splink_trained else 'not used (too few records)'}",
        "seconds  " + ", ".join(f"{k} {v:.1f}" for k, v in report.seconds.items()),
    ]
    return "\n".join(lines)
