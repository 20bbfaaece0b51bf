"""`cdp forget` and `cdp export-person`: GDPR requests (erasure, subject access)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's commands (none yet)."""
