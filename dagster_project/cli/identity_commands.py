"""`cdp explain` and `cdp evaluate`: why records are linked, and linkage quality on labelled data."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from dagster_project.settings import get_paths


def _cmd_explain(args: argparse.Namespace) -> int:
    from dagster_project.identity import explain, explain_report, training
    from dagster_project.identity.settings import IdentitySettings

    paths = get_paths()
    settings = IdentitySettings.from_env()
    version = training.current_version(paths.model_dir)
    model_path = version.path if version else None
    try:
        with (
            explain.open_warehouse(paths.warehouse) as con,
            explain.explain_context(
                con, explain.WAREHOUSE_ALIAS, model_path, settings, masked=not args.unmasked
            ) as ctx,
        ):
            if args.records:
                pair = explain.explain_pair(ctx, *args.records)
                print(explain_report.format_pair(pair))
                scores = [pair.score] if pair.score else []
            else:
                person = explain.explain_person(ctx, args.person, score=bool(args.html))
                print(explain_report.format_person(person))
                scores = list(person.scores.values())
            if args.html:
                written = explain.waterfall_html(ctx, scores, Path(args.html))
                print(f"waterfall chart: {written}")
    except explain.ExplainError as err:
        print(f"cdp explain: {err}", file=sys.stderr)
        return 2
    return 0


def _add_explain(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser(
        "explain",
        help="why two records are (not) one person, or what holds a person together",
        description=(
            "Reads the warehouse read-only. For two records: same person or not, the rule or "
            "chain of links that joined them, refused links, and Splink's match weights per "
            "comparison (waterfall). For a person: its records, links and refused links. "
            "E-mail and phone are masked unless --unmasked."
        ),
    )
    what = cmd.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--records",
        nargs=2,
        metavar="SOURCE:ID",
        help="two record keys, e.g. webshop__customers:W123 loyalty__members:L9",
    )
    what.add_argument("--person", metavar="PERSON_ID", help="a person_id of identity.person_map")
    cmd.add_argument("--html", metavar="PATH", help="also write Splink's waterfall chart here")
    cmd.add_argument("--unmasked", action="store_true", help="show e-mail and phone in full")
    cmd.set_defaults(func=_cmd_explain)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from dagster_project.identity import evaluation_run as ev
    from dagster_project.sources.config import SourceConfigError
    from dagster_project.sources.loader import SourceLoadError

    if not args.verbose:  # Splink warns per untrainable level (no e-mail, no phone in the data)
        logging.getLogger("splink").setLevel(logging.ERROR)
    try:
        if args.config:
            if args.file:
                raise SourceConfigError("give either --config or --file, not both")
            sources = ev.load_evaluation_config(Path(args.config))
        else:
            if not args.truth_column:
                raise SourceConfigError("--truth-column is required with --file")
            mapping = dict(_split_mapping(m) for m in args.map or [])
            options: dict = {}
            if args.delimiter:
                options["delimiter"] = args.delimiter
            if args.encoding:
                options["encoding"] = args.encoding
            if args.date_format:
                options["date_formats"] = args.date_format
            sources = ev.config_from_files(
                [Path(f) for f in args.file or []], mapping, args.truth_column, args.format, options
            )
        report = ev.run_evaluation(sources, workdir=Path(args.keep) if args.keep else None)
    except (SourceConfigError, SourceLoadError, ev.EvaluationError) as exc:
        print(f"cdp evaluate: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report.as_dict(), indent=2) if args.json else ev.format_report(report))
    return 0


def _split_mapping(item: str) -> tuple[str, str]:
    from dagster_project.sources.config import SourceConfigError

    field, sep, column = item.partition("=")
    if not sep or not field.strip() or not column:
        raise SourceConfigError(f"--map wants canonical_field=column, got {item!r}")
    return field.strip(), column


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser(
        "evaluate",
        help="pairwise precision/recall/F1 of the real pipeline on labelled person data",
        description=(
            "Load labelled person files with the source loader, standardise them with the dbt "
            "staging macros and resolve identities (fresh Splink model, default settings) in a "
            "temporary warehouse, then score the persons against the true ids. One file set is "
            "a dedupe, several are linked across. Examples: config/evaluation/."
        ),
    )
    cmd.add_argument("--config", help="YAML like config/sources.yml, plus truth_column per table")
    cmd.add_argument("--file", action="append", help="a labelled file (repeat to link files)")
    cmd.add_argument(
        "--map",
        action="append",
        metavar="FIELD=COLUMN",
        help="canonical person field = column in the file (repeat; record_id is required)",
    )
    cmd.add_argument("--truth-column", help="column holding the true entity id")
    cmd.add_argument("--format", choices=["csv", "json", "parquet"], help="default: from suffix")
    cmd.add_argument("--delimiter", help="CSV delimiter (default: detected)")
    cmd.add_argument("--encoding", help="CSV encoding (default utf-8)")
    cmd.add_argument(
        "--date-format", action="append", help="strptime format of dates, e.g. %%Y%%m%%d (repeat)"
    )
    cmd.add_argument("--json", action="store_true", help="print machine-readable JSON")
    cmd.add_argument("--keep", metavar="DIR", help="keep the warehouse and logs in DIR")
    cmd.set_defaults(func=_cmd_evaluate)


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's commands."""
    _add_explain(sub)
    _add_evaluate(sub)
