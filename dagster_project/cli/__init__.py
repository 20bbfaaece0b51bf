"""`cdp`: the command line for everything that is not the Dagster UI.

Each module of this package adds the commands of one area (`register(sub)`), so a newcomer
finds `cdp explain` in `identity_commands.py` and `cdp forget` in `privacy_commands.py`.
"""

from __future__ import annotations

import argparse
import logging
import sys

from dagster_project.cli import (
    audience_commands,
    export_commands,
    identity_commands,
    pipeline_commands,
    privacy_commands,
)
from dagster_project.settings import ensure_dagster_home

COMMAND_MODULES = (
    pipeline_commands,
    identity_commands,
    audience_commands,
    export_commands,
    privacy_commands,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cdp", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:  # Dagster also logs every step at INFO through Python logging
        for handler in logging.getLogger().handlers:
            handler.setLevel(logging.WARNING)
        # Splink warns about every level EM could not train; the model's charts show that
        logging.getLogger("splink").setLevel(logging.ERROR)
    ensure_dagster_home()
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
