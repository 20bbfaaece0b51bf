"""`cdp deliver ...`: activation of audiences to their destinations."""

from __future__ import annotations

import argparse
import uuid


def register(sub: argparse._SubParsersAction) -> None:
    """Add `cdp deliver`."""
    p = sub.add_parser(
        "deliver",
        help="deliver audiences to the destinations in config/destinations.yml",
        description=(
            "Send each destination the changes (entered, updated, exited members) since its last "
            "successful delivery, or everything with --full. Destinations whose secret environment "
            "variables are unset are skipped with a warning. Exit status 1 if a delivery failed."
        ),
    )
    p.add_argument("--destination", action="append", help="only this destination (repeatable)")
    p.add_argument("--full", action="store_true", help="full resync instead of the changes")
    p.add_argument(
        "--list", action="store_true", help="list destinations and whether they are active"
    )
    p.set_defaults(func=deliver_command)


def deliver_command(args: argparse.Namespace) -> int:
    import duckdb

    from dagster_project.audiences.spec import load_audiences
    from dagster_project.exports.config import load_destinations
    from dagster_project.exports.deliver import deliver_destination, delivery_env_summary
    from dagster_project.settings import get_paths

    paths = get_paths()
    known = {spec.name for spec in load_audiences(paths.audiences_config)}
    dests = load_destinations(known_audiences=known)
    if args.destination:
        unknown = sorted(set(args.destination) - {d.name for d in dests})
        if unknown:
            print(f"unknown destination(s) {unknown}; declared: {[d.name for d in dests]}")
            return 2
        dests = [d for d in dests if d.name in args.destination]
    if args.list:
        for name, state in delivery_env_summary(dests).items():
            print(f"{name:<32} {state}")
        return 0
    run_id = f"cli-{uuid.uuid4().hex}"
    failed = 0
    with duckdb.connect(str(paths.warehouse)) as con:
        for dest in dests:
            result = deliver_destination(con, dest, run_id=run_id, full=args.full)
            print(f"{dest.name} ({dest.kind}, {result.mode}): {result.status}"
                  + (f" - {result.detail}" if result.detail else ""))  # fmt: skip
            for a in result.audiences:
                print(
                    f"  {a.audience:<32} members {a.counts.members:>8,}  entered {a.counts.entered:>7,}  "
                    f"updated {a.counts.updated:>6,}  exited {a.counts.exited:>7,}  sent {a.rows:>8,}"
                )
                for f in a.files:
                    print(f"    {f['change']:<8} {f['rows']:>8,} rows  {f['path']}")
            failed += result.status == "failed"
    return 1 if failed else 0
