"""legato's logging setup, done once, lazily, by the engine (never at import)."""

from __future__ import annotations

import atexit
import logging
import sys
import threading
import time

from legato.logging.handlers import ConsoleFormatter, RunLogRecorder

_lock = threading.Lock()


class ConsoleHandler(logging.Handler):
    """Prints legato's lines on ``sys.stderr``, batching writes.

    A write is a system call; printing one line per task run would cost more
    than the run itself. Lines are collected and written together at most
    ``FLUSH_SECONDS`` later, at once for warnings and errors, when a flow run
    finishes, and at exit.
    """

    FLUSH_SECONDS = 0.1

    def __init__(self) -> None:
        super().__init__()
        self._lines: list[str] = []
        self._buffer_lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self.add_line(line, record.levelno)

    def add_line(self, line: str, level: int) -> None:
        """Queue one formatted line; warnings and errors are written at once."""
        with self._buffer_lock:
            was_empty = not self._lines
            self._lines.append(line)
        if level >= logging.WARNING:
            self.flush()
        elif was_empty:
            if self._thread is None:
                self._start_flusher()
            self._wake.set()

    def _start_flusher(self) -> None:
        with self._buffer_lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._flush_loop, name="legato-console", daemon=True
            )
        self._thread.start()

    def _flush_loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            time.sleep(self.FLUSH_SECONDS)
            self.flush()

    def flush(self) -> None:
        with self._buffer_lock:
            lines, self._lines = self._lines, []
        if lines:
            stream = sys.stderr
            try:
                stream.write("\n".join(lines) + "\n")
                stream.flush()
            except (OSError, ValueError):
                pass  # stderr closed (interpreter shutdown, or a test replaced it)


_console: ConsoleHandler | None = None
run_log_recorder: RunLogRecorder | None = None
_done = False


def console_handler() -> ConsoleHandler | None:
    """legato's console handler, if it is still attached."""
    return _console


def flush_console() -> None:
    """Write any console lines still waiting."""
    if _console is not None:
        _console.flush()


def setup_logging() -> None:
    """Attach the run-log recorder and, unless disabled, the console handler.

    Settings: ``LEGATO_LOGGING_LEVEL`` (the ``legato`` logger's level) and
    ``LEGATO_LOGGING_SETUP=false`` (leave the console to the application).
    """
    global _done
    if _done:
        return
    with _lock:
        if _done:
            return
        from legato.settings import get_current_settings

        settings = get_current_settings()
        root = logging.getLogger("legato")
        root.setLevel(settings.logging.level.upper())
        global run_log_recorder
        recorder_handler = run_log_recorder = RunLogRecorder()
        for name in ("legato.flow_runs", "legato.task_runs"):
            logging.getLogger(name).addHandler(recorder_handler)
        if settings.logging.setup and not any(
            getattr(h, "_legato_console", False) for h in root.handlers
        ):
            global _console
            console = ConsoleHandler()
            console.setFormatter(ConsoleFormatter())
            console._legato_console = True  # type: ignore[attr-defined]
            root.addHandler(console)
            _console = console
            atexit.register(flush_console)
            # Our handler prints legato's lines; don't print them twice via the root logger.
            root.propagate = False
        _done = True
