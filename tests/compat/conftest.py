"""Fixtures for driving the live controller with the real AWX clients."""

from __future__ import annotations

import pytest

from .clients import AwxCli, ensure_awx_cli


@pytest.fixture(scope="session")
def awx_bin():
    """Path of the real ``awx`` executable (built once, cached in .cache/clients-venv)."""
    return ensure_awx_cli()


@pytest.fixture(scope="module")
def awx(awx_bin, controller) -> AwxCli:
    """The real ``awx`` CLI bound to the module's live controller (admin by default)."""
    return AwxCli(controller)
