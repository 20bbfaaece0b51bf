"""Text of `cdp explain` and the sample report each person_map run writes (masked).

The explanations themselves come from `explain`; this module only lays them out.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb

from dagster_project.identity.explain import (
    Edge,
    PairExplanation,
    PersonExplanation,
    RecordView,
    Score,
    explain_context,
    explain_person,
    waterfall_html,
)
from dagster_project.identity.settings import IdentitySettings

logger = logging.getLogger(__name__)


def _fmt_prob(p: float | None) -> str:
    return "-" if p is None else f"{p:.4f}"


def _record_line(view: RecordView) -> str:
    values = ", ".join(f"{k}={v}" for k, v in view.fields.items() if v is not None)
    return f"{view.record_key}  [{view.match_rule or '-'}]  {values}"


def _edge_line(edge: Edge) -> str:
    if edge.reason is not None:
        return f"{edge.record_key_l} x {edge.record_key_r}  {edge.rule}: {edge.reason}"
    extra = ""
    if edge.match_probability is not None:
        extra = f"  probability {_fmt_prob(edge.match_probability)}"
        if edge.match_weight is not None:
            extra += f", weight {edge.match_weight:.2f}"
    return f"{edge.record_key_l} - {edge.record_key_r}  {edge.rule}{extra}"


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def format_score(score: Score, threshold: float) -> list[str]:
    """The waterfall as a text table (long level labels and values cut)."""
    width = min(max([len(r.level) for r in score.rows] + [10]), 48)
    lines = [f"  {'comparison':<14} {'level':<{width}}  {'weight':>7}   values"]
    for row in score.rows:
        values = ""
        if row.value_l or row.value_r:
            values = _short(f"{row.value_l} | {row.value_r}", 70)
        level = _short(row.level, width)
        lines.append(f"  {row.comparison:<14} {level:<{width}}  {row.weight:>7.2f}   {values}")
    verdict = "at or above" if score.match_probability >= threshold else "below"
    lines.append(
        f"  match probability {score.match_probability:.4f} ({verdict} the threshold {threshold})"
    )
    return lines


def format_pair(ex: PairExplanation) -> str:
    """A terminal report of a pair explanation."""
    lines = ["records:", f"  {_record_line(ex.left)}", f"  {_record_line(ex.right)}"]
    if ex.same_person:
        lines.append(f"SAME PERSON: {ex.left.person_id}")
        if len(ex.path) == 1:
            lines.append(f"linked directly: {_edge_line(ex.path[0])}")
        elif ex.path:
            lines.append(f"linked through {len(ex.path) - 1} other record(s):")
            lines += [f"  {_edge_line(e)}" for e in ex.path]
    else:
        lines.append(f"DIFFERENT PERSONS: {ex.left.person_id} and {ex.right.person_id}")
    if ex.shared:
        lines.append(
            "shared identifiers: " + ", ".join(f"{rule} ({value})" for rule, value in ex.shared)
        )
    if ex.blocked:
        lines.append("refused links between them:")
        lines += [f"  {_edge_line(e)}" for e in ex.blocked]
    if ex.score is not None:
        lines.append(f"Splink ({ex.model}) waterfall of match weights:")
        lines += format_score(ex.score, ex.threshold)
    else:
        lines.append("Splink: no model, so no score")
    return "\n".join(lines)


def format_person(ex: PersonExplanation) -> str:
    """A terminal report of a person explanation."""
    lines = [f"person {ex.person_id}: {len(ex.records)} record(s), {ex.cookies} cookie(s)"]
    lines += [f"  {_record_line(v)}" for v in ex.records]
    lines.append(f"links ({len(ex.edges)}):")
    lines += [f"  {_edge_line(e)}" for e in ex.edges] or ["  (none: a single record)"]
    if ex.blocked:
        lines.append(f"refused links touching this person ({len(ex.blocked)}):")
        for edge in ex.blocked:
            line = f"  {_edge_line(edge)}"
            outside = [
                k for k in (edge.record_key_l, edge.record_key_r) if k in ex.blocked_other_person
            ]
            if outside:
                line += f"  (other record's person: {ex.blocked_other_person[outside[0]]})"
            lines.append(line)
    for (left, right), score in ex.scores.items():
        lines.append(f"Splink ({ex.model}) {left} - {right}:")
        lines += format_score(score, ex.threshold)
    return "\n".join(lines)


def write_sample_report(
    con: duckdb.DuckDBPyConnection,
    model_path: Path | None,
    out: Path,
    settings: IdentitySettings,
    persons: int = 3,
) -> int:
    """Explain a few persons held together by Splink links into a markdown report (masked).

    Persons are picked deterministically (the smallest ids among those with a Splink
    link), so the same data gives the same report.

    Args:
        con: Warehouse connection (its current catalog holds the identity schema).
        model_path: The model used by the run (None: no scores).
        out: Markdown file to write; the waterfall chart goes beside it as .html.
        settings: Identity settings (schema, threshold).
        persons: How many persons.

    Returns:
        int: Persons explained (0: nothing written).
    """
    catalog = con.cursor().execute("select current_database()").fetchall()[0][0]
    # the report stays on disk and is linked from Dagster: redact more than the operator's CLI
    with explain_context(con, catalog, model_path, settings, redact_personal=True) as ctx:
        picked = [
            r[0]
            for r in ctx.cur.execute(
                f"""
                select distinct m.person_id from {ctx.table("person_links")} as l
                join {ctx.table("person_map")} as m on m.record_key = l.record_key_l
                where l.rule = 'splink' order by 1 limit ?
                """,
                [persons],
            ).fetchall()
        ]
        if not picked:
            return 0
        explanations = [explain_person(ctx, pid, score=True) for pid in picked]
        scores = [s for ex in explanations for s in ex.scores.values()]
        html = out.with_suffix(".html")
        if scores:
            waterfall_html(ctx, scores, html)
    parts = [
        "# Identity: why these people are linked (sample)",
        "",
        f"{len(explanations)} persons with Splink links; e-mail and phone masked, last names cut "
        "to an initial, birth dates and addresses blanked. "
        + (f"Waterfall charts of their Splink links: `{html.name}`." if scores else ""),
    ]
    for ex in explanations:
        parts += ["", "```text", format_person(ex), "```"]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(parts) + "\n", encoding="utf-8")
    logger.info("identity: explain sample of %d persons written to %s", len(explanations), out)
    return len(explanations)
