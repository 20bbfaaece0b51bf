"""`cdp explain` and `cdp evaluate`: why records are linked, and linkage quality on labelled data."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's commands (none yet)."""
