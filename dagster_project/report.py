"""The run summary printed by `cdp run` / `make demo`: people, profiles, audiences, linkage quality."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_project.audiences.spec import load_audiences
from dagster_project.exports.state import delivery_summary_lines
from dagster_project.settings import Paths


@dataclass
class Summary:
    warehouse: Path
    serving: Path
    person_records: int = 0
    people: int = 0
    profiles: int = 0
    cookies_linked: int = 0
    quarantined: int = 0
    audiences: dict[str, int] = field(default_factory=dict)
    suppressed: dict[str, int] = field(default_factory=dict)  # erased people's rows per source
    exports: list[str] = field(default_factory=list)  # latest delivery per destination
    linkage: dict[str, float] | None = None


def build_summary(paths: Paths) -> Summary:
    """Read the published state from the warehouse (read-only) and score it against ground truth."""
    summary = Summary(warehouse=paths.warehouse, serving=paths.serving)
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        summary.person_records, summary.people = con.execute(
            "select count(*), count(distinct person_id) from identity.person_map "
            "where source <> 'web_analytics__cookies'"
        ).fetchone()
        summary.cookies_linked = con.execute(
            "select count(*) from identity.person_map where source = 'web_analytics__cookies'"
        ).fetchone()[0]
        summary.profiles = con.execute("select count(*) from marts.customer_profiles").fetchone()[0]
        summary.quarantined = con.execute(
            "select count(*) from quarantine.quarantined_rows"
        ).fetchone()[0]
        if con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'privacy' and table_name = 'suppressed_rows'"
        ).fetchone()[0]:
            summary.suppressed = dict(
                con.execute(
                    "select source, suppressed_rows from privacy.suppressed_rows order by source"
                ).fetchall()
            )
        latest = dict(
            con.execute(
                "select audience_name, size from audiences.audience_size_history "
                "qualify row_number() over (partition by audience_name order by computed_at desc) = 1"
            ).fetchall()
        )
        summary.audiences = {
            spec.name: latest[spec.name]
            for spec in load_audiences(paths.audiences_config)
            if spec.name in latest
        }
        summary.exports = delivery_summary_lines(con)
        truth = paths.truth_dir / "ground_truth.csv"
        if truth.exists():
            summary.linkage = evaluate_against_truth(con, truth)
    return summary


def evaluate_against_truth(con: duckdb.DuckDBPyConnection, truth_csv: Path) -> dict[str, float]:
    """Pairwise precision/recall/F1 of identity.person_map against a ground-truth CSV
    (source, source_record_id, person_id[, household_id, is_twin])."""
    from dagster_project.identity.evaluate import evaluate_person_map

    cur = con.cursor()
    cur.execute(
        "create or replace temp table truth as select source || ':' || source_record_id as record_key, "
        "person_id as true_id, * exclude (source, source_record_id, person_id) "
        "from read_csv(?, all_varchar = true)",
        [str(truth_csv)],
    )
    result = evaluate_person_map(cur, truth="truth").as_dict()
    result["true_entities"] = result["true_clusters"]
    result["predicted_entities"] = result["predicted_clusters"]
    return result


def format_summary(
    s: Summary, seconds: float | None = None, steps: dict[str, float] | None = None
) -> str:
    lines = ["", "CDP daily run" + (f" finished in {seconds:.1f}s" if seconds is not None else "")]
    if steps:
        slowest = sorted(steps.items(), key=lambda kv: -kv[1])[:6]
        lines.append("  slowest steps: " + ", ".join(f"{k} {v:.1f}s" for k, v in slowest))
    lines += [
        f"  person records        {s.person_records:>10,}",
        f"  people (person_ids)   {s.people:>10,}",
        f"  profiles              {s.profiles:>10,}",
        f"  cookies linked        {s.cookies_linked:>10,}",
        f"  quarantined rows      {s.quarantined:>10,}",
        f"  suppressed rows       {sum(s.suppressed.values()):>10,}  (erased people, cdp forget)",
    ]
    lines += [f"    {src:<36} {n:>8,}" for src, n in s.suppressed.items() if n]
    lines += [
        "  audiences:",
    ]
    lines += [f"    {name:<36} {size:>8,}" for name, size in s.audiences.items()]
    if s.linkage:
        m = s.linkage
        lines.append(
            f"  linkage vs ground truth: precision {m['precision']:.4f}  recall {m['recall']:.4f}  "
            f"F1 {m['f1']:.4f}  (true people {int(m['true_entities']):,}, "
            f"predicted {int(m['predicted_entities']):,})"
        )
        lines.append(
            f"  households merged into one person {int(m.get('household_merges', 0))}, "
            f"twins merged {int(m.get('twin_merges', 0))}"
        )
    if s.exports:
        lines += ["  exports (latest delivery per destination):", *s.exports]
    lines += [
        f"  warehouse (pipeline writes):  {s.warehouse}",
        f"  serving copy (BI reads):      {s.serving}",
        f"    duckdb -readonly {s.serving}",
    ]
    return "\n".join(lines)
