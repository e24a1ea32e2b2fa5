"""A fast path for the engine's own per-run lines ("Finished in state ...").

Going through ``logging`` costs a LogRecord, a stack walk and a lock per
handler: more than a task run itself. When the only handlers in the way are
legato's own (the run-log recorder and the console handler) and nothing else
could see the record (no filters, no propagation to other handlers), the
engine writes the same console line and the same log row directly. Otherwise
it uses ``logging`` as usual, so users' handlers always see every record.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from legato.engine.ids import new_id_str
from legato.logging import configuration

if TYPE_CHECKING:
    from legato.engine.recorder import Recorder

_legato = logging.getLogger("legato")
_second = -1
_second_text = ""
_LEVEL_NAMES = {level: f"{logging.getLevelName(level):<7s}" for level in (10, 20, 30, 40, 50)}


def _is_bypassable(logger: logging.Logger) -> bool:
    recorder_handler = configuration.run_log_recorder
    if recorder_handler is None or logger.filters or logger.disabled or not logger.propagate:
        return False
    if logger.handlers != [recorder_handler]:
        return False
    console = configuration.console_handler()
    if _legato.filters or _legato.propagate:
        return False
    return _legato.handlers == ([console] if console is not None else [])


def _clock_text(now: float) -> str:
    global _second, _second_text
    whole = int(now)
    if whole != _second:
        _second_text = time.strftime("%H:%M:%S", time.localtime(whole))
        _second = whole
    return f"{_second_text}.{int((now - whole) * 1000):03d}"


def log_run_line(
    logger: logging.Logger,
    level: int,
    prefix: str,
    message: str,
    recorder: Recorder,
    flow_run_id: str | None,
    task_run_id: str | None,
    extra: Callable[[], dict[str, Any]],
    exc_info: Any = None,
) -> None:
    """Log ``message`` for a run: directly when possible, else through ``logging``.

    The run ids come as text. ``extra`` builds the record's run fields; it is
    called only when the record goes through ``logging``.
    """
    if exc_info is not None or level not in _LEVEL_NAMES or not _is_bypassable(logger):
        logger.log(level, "%s", message, extra=extra(), exc_info=exc_info)
        return
    now = time.time()
    recorder.log(
        (
            new_id_str(),
            flow_run_id,
            task_run_id,
            logger.name,
            level,
            message,
            now,
        )
    )
    console = configuration.console_handler()
    if console is not None and level >= console.level:
        console.add_line(f"{_clock_text(now)} | {_LEVEL_NAMES[level]} | {prefix}{message}", level)
