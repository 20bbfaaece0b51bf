"""`cdp deliver ...`: activation of audiences to their destinations."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's commands (none yet)."""
