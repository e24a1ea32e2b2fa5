"""What the engine does once per process, on the first run (never at import)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from legato.engine.recorder import Recorder

_logging_ready = False


def ensure_started() -> Recorder:
    """Set up logging (once) and return the recorder for the current settings."""
    global _logging_ready
    if not _logging_ready:
        from legato.logging.configuration import setup_logging

        setup_logging()
        _logging_ready = True
    from legato.engine.recorder import get_recorder

    return get_recorder()
