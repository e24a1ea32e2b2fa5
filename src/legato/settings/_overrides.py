"""The overrides of the innermost ``temporary_settings`` block (a contextvar).

A leaf module: both the profile functions (which need the overridden
``LEGATO_HOME``) and ``get_current_settings`` read it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from legato.settings.models import Settings


class Overrides:
    """What a ``temporary_settings`` block changed, and the settings it produced."""

    __slots__ = ("restore_defaults", "settings", "updates")

    def __init__(
        self,
        updates: Mapping[str, Any] | None = None,
        restore_defaults: frozenset[str] = frozenset(),
        settings: Settings | None = None,
    ) -> None:
        self.updates: Mapping[str, Any] = updates or {}
        self.restore_defaults = restore_defaults
        self.settings = settings


NO_OVERRIDES = Overrides()

current: ContextVar[Overrides] = ContextVar("legato_settings_overrides", default=NO_OVERRIDES)


def bootstrap_raw(
    name: str, environ: Mapping[str, str] | None, overrides: Overrides
) -> tuple[Any, str] | None:
    """A bootstrap setting's raw value and source ("override" or "environment"), if set."""
    if name in overrides.updates:
        return overrides.updates[name], "override"
    if name in overrides.restore_defaults:
        return None
    value = (os.environ if environ is None else environ).get(name)
    if value is None or value == "":
        return None
    return value, "environment"
