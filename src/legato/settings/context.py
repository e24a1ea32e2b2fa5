"""The current settings: loaded once per process, overridable per context."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from legato.settings import _overrides
from legato.settings.models import Settings, SettingSource, resolve_setting_name
from legato.settings.sources import load_settings

_lock = threading.Lock()
_process_settings: Settings | None = None


def get_current_settings() -> Settings:
    """The settings in effect here: the innermost ``temporary_settings`` block's,
    else the process's (loaded on the first call, then cached)."""
    settings = _overrides.current.get().settings
    if settings is not None:
        return settings
    if _process_settings is not None:
        return _process_settings
    return _load_process_settings()


def _load_process_settings() -> Settings:
    global _process_settings
    with _lock:
        if _process_settings is None:
            _process_settings = load_settings()
        return _process_settings


def clear_settings_cache() -> None:
    """Forget the process's settings; the next ``get_current_settings()`` loads them again.

    For code that changed ``os.environ`` or the files on purpose (tests, the
    CLI's test runner). Active ``temporary_settings`` blocks are not affected.
    """
    global _process_settings
    with _lock:
        _process_settings = None


@contextmanager
def temporary_settings(
    updates: Mapping[str, Any] | None = None,
    *,
    restore_defaults: Iterable[str] = (),
    **env_style_kwargs: Any,
) -> Iterator[Settings]:
    """Override settings inside a ``with`` block, for this context only.

    Keys are setting names (``"LEGATO_HOME"`` or ``"logging.level"``); values
    are strings as in the environment or typed values. ``restore_defaults``
    names settings that take their default whatever the sources say. Blocks
    nest: an inner block starts from the outer block's overrides. Threads
    started inside the block see it only if they run in a copy of the context.
    """
    outer = _overrides.current.get()
    merged = dict(outer.updates)
    restored = set(outer.restore_defaults)
    for raw_name, value in {**(updates or {}), **env_style_kwargs}.items():
        name = resolve_setting_name(raw_name)
        merged[name] = value
        restored.discard(name)
    for raw_name in restore_defaults:
        name = resolve_setting_name(raw_name)
        restored.add(name)
        merged.pop(name, None)
    settings = load_settings(overrides=merged, restore_defaults=restored)
    token = _overrides.current.set(_overrides.Overrides(merged, frozenset(restored), settings))
    try:
        yield settings
    finally:
        _overrides.current.reset(token)


def settings_sources(settings: Settings | None = None) -> Mapping[str, SettingSource]:
    """For every setting (by env-var name): its value and the source it came from."""
    return (settings if settings is not None else get_current_settings()).sources
