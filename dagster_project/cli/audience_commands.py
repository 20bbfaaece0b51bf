"""`cdp audience ...`: look at an audience without materialising anything."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from dagster_project.settings import get_paths


def format_preview(preview: dict[str, Any]) -> str:
    """Render a `preview_audience` result as plain text (the sample is already masked)."""
    lines = [
        f"audience {preview['name']} as of {preview['as_of']} "
        f"(consent: {preview['consent']}; one row per {' x '.join(preview['grain'])})",
        f"  {preview['description']}",
        "",
        f"  {'size before consent':<28}{preview['size_before_consent']:>10,}",
        f"  {'size after consent':<28}{preview['size_before_exclusions']:>10,}",
        f"  {'size after exclusions':<28}{preview['size']:>10,}",
        f"  {'people':<28}{preview['persons']:>10,}",
        "",
        "overlap with the other audiences (people in both, share of this audience's people):",
    ]
    if not preview["overlaps"]:
        lines.append("  (no other audiences)")
    for name, count in preview["overlaps"].items():
        share = preview["overlap_shares"].get(name, 0.0)
        lines.append(f"  {name:<36}{count:>10,}  {share:>7.1%}")
    sample = preview["sample"]
    lines += ["", f"sample ({len(sample)} rows, contact details masked):"]
    if sample:
        columns = list(sample[0])
        cells = [[_cell(row.get(c)) for c in columns] for row in sample]
        widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
        for row in cells:
            lines.append("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    else:
        lines.append("  (empty)")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _cmd_preview(args: argparse.Namespace) -> int:
    import duckdb

    from dagster_project.audiences import AudienceSpecError, load_audiences, preview_audience

    try:
        config = load_audiences(args.config or get_paths().audiences_config)
        spec = config.get(args.name)
    except AudienceSpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyError:
        print(
            f"error: unknown audience {args.name!r}; known audiences: {', '.join(config.names)}",
            file=sys.stderr,
        )
        return 2
    warehouse = get_paths().warehouse
    if not warehouse.exists():
        print(
            f"error: no warehouse at {warehouse} (set CDP_DUCKDB_PATH or CDP_DATA_DIR, "
            "or run `cdp run` first)",
            file=sys.stderr,
        )
        return 2
    try:
        # Read-only: previews never write, and can run while nothing else holds the writer lock.
        with duckdb.connect(str(warehouse), read_only=True) as con:
            preview = preview_audience(
                con, spec, args.as_of, others=config, sample_size=args.sample
            )
    except AudienceSpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except duckdb.IOException as exc:
        print(f"error: cannot open {warehouse} read-only: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(preview, indent=2, default=str))
    else:
        print(format_preview(preview))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `cdp audience preview`."""
    audience = sub.add_parser("audience", help="look at audiences without materialising them")
    commands = audience.add_subparsers(dest="audience_command", required=True)
    preview = commands.add_parser(
        "preview",
        help="size before and after consent, a masked sample and the overlap with the others",
        description=(
            "Compile the audience against the warehouse (opened read-only) and print its size "
            "before and after consent and exclusions, a masked sample and how many of its "
            "people are also in each other declared audience. Writes nothing."
        ),
    )
    preview.add_argument("name", help="audience name from config/audiences.yml")
    preview.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=None,
        help="reference date YYYY-MM-DD (default CDP_AS_OF or today)",
    )
    preview.add_argument("--sample", type=int, default=5, help="sample rows (default 5)")
    preview.add_argument("--json", action="store_true", help="print the preview as JSON")
    preview.add_argument("--config", help="audience spec (default CDP_AUDIENCES_CONFIG)")
    preview.set_defaults(func=_cmd_preview)
