"""Fixtures shared by every test: an isolated LEGATO_HOME per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from legato.engine import recorder
from locking.redis_server import redis_server  # noqa: F401  (session fixture: a real redis-server)
from legato.settings import temporary_settings


def in_ci() -> bool:
    """True on CI, where a missing service fails a test instead of skipping it."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True)
def legato_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh LEGATO_HOME for this test, for this process and its children."""
    home = tmp_path / "legato-home"
    monkeypatch.setenv("LEGATO_HOME", str(home))
    monkeypatch.delenv("LEGATO_PROFILE", raising=False)
    monkeypatch.delenv("LEGATO_API_URL", raising=False)
    with temporary_settings({"LEGATO_HOME": str(home)}):
        yield home
        recorder.close_all()
