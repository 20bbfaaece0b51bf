"""Fixtures for identity tests."""

from __future__ import annotations

import pytest

from dagster_project.identity.settings import IdentitySettings


@pytest.fixture
def fast_settings() -> IdentitySettings:
    """Settings with small training samples so end-to-end tests stay fast."""
    return IdentitySettings(u_max_pairs=2e5, em_max_pairs=None)
