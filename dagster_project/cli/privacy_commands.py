"""`cdp forget` and `cdp export-person`: GDPR requests (erasure, subject access)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _identifier_args(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--email", help="an e-mail address of the person")
    group.add_argument("--phone", help="a phone number of the person (NL/DK national or +country)")
    group.add_argument("--person-id", help="the person's person_id")


def register(sub: argparse._SubParsersAction) -> None:
    """Add `cdp forget` and `cdp export-person`."""
    p = sub.add_parser(
        "forget",
        help="erase a person (GDPR Art. 17): add them to the suppression list",
        description=(
            "Resolve the identifier to the whole person in the warehouse (read-only) and append "
            "keyed hashes (HMAC-SHA256, key CDP_SUPPRESSION_KEY) of all their identifiers to the "
            "suppression list (CDP_SUPPRESSION_LIST, default <CDP_DATA_DIR>/privacy/"
            "suppression_list.jsonl). The next run drops their rows at load time, purges the "
            "tables that survive runs and republishes the serving copy; re-ingesting the same "
            "files keeps them erased. Prints counts only."
        ),
    )
    _identifier_args(p)
    p.add_argument(
        "--reference",
        default="",
        help="free text stored with the request, e.g. a ticket number (no personal data)",
    )
    p.set_defaults(func=forget_command)

    p = sub.add_parser(
        "export-person",
        help="everything held on a person as one JSON document (GDPR Art. 15)",
        description=(
            "Profile, linked source records and cookies, consent (current and history), audience "
            "memberships with entered/exited dates, and recent events of the person the "
            "identifier belongs to. Read-only on the warehouse."
        ),
    )
    _identifier_args(p)
    p.add_argument("--out", type=Path, help="write the JSON here (mode 600) instead of stdout")
    p.add_argument("--events", type=int, default=200, help="most recent events to include")
    p.set_defaults(func=export_person_command)


def _open_readonly(path: Path):
    import duckdb

    return duckdb.connect(str(path), read_only=True)


def forget_command(args: argparse.Namespace) -> int:
    from dagster_project.privacy.erasure import resolve_person
    from dagster_project.privacy.suppression import (
        SuppressionKeyError,
        append_request,
        suppression_key,
        suppression_list_path,
    )
    from dagster_project.settings import get_paths

    try:
        key = suppression_key()
    except SuppressionKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    warehouse = get_paths().warehouse
    try:
        # Without a warehouse yet, an empty in-memory database: the identifier as given only.
        with _open_readonly(warehouse) if warehouse.exists() else _memory() as con:
            identifiers, found = resolve_person(
                con, email=args.email, phone=args.phone, person_id=args.person_id
            )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # e.g. the warehouse is locked by a running job
        print(
            f"error: cannot read the warehouse to resolve the person ({type(exc).__name__}); "
            "nothing was recorded, retry when the run has finished",
            file=sys.stderr,
        )
        return 1
    request = append_request(key, identifiers.values, reference=args.reference)
    counts = ", ".join(f"{k} {n}" for k, n in request.counts.items())
    print(f"recorded erasure request {request.request_id} at {request.requested_at}")
    print(f"  suppression list: {suppression_list_path()}")
    print(f"  hashed identifiers: {counts}")
    if not found:
        print(
            "  no person in the warehouse has that identifier: only the identifier itself is "
            "suppressed (rows carrying it are dropped at load time)"
        )
    print("  the next run (cdp run) removes the person from every table and the serving copy")
    return 0


def _memory():
    import duckdb

    return duckdb.connect(":memory:")


def export_person_command(args: argparse.Namespace) -> int:
    from dagster_project.privacy.access import export_person, to_json, write_json
    from dagster_project.privacy.erasure import PersonNotFoundError
    from dagster_project.settings import get_paths

    warehouse = get_paths().warehouse
    if not warehouse.exists():
        print(f"error: no warehouse at {warehouse}; run `cdp run` first", file=sys.stderr)
        return 1
    try:
        with _open_readonly(warehouse) as con:
            doc = export_person(
                con,
                email=args.email,
                phone=args.phone,
                person_id=args.person_id,
                recent_events=args.events,
            )
    except (ValueError, PersonNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.out:
        write_json(doc, args.out)
        print(
            f"wrote {args.out}: {len(doc['person_ids'])} person id(s), "
            f"{len(doc['source_records'])} source records, {len(doc['consent_history'])} consent "
            f"events, {len(doc['audience_memberships'])} memberships, "
            f"{len(doc['recent_events'])} events"
        )
    else:
        sys.stdout.write(to_json(doc))
    return 0
