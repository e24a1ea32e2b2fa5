"""A real ``flow.serve()`` / ``legato.serve()`` process for the serving tests.

``ServeProcess.start(script, args, cwd, env)`` runs ``python script args...``
with its output read by a thread into a list, so a test can wait (bounded)
for a line, and ``stop()`` sends SIGTERM and waits (bounded) for the exit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

START_TIMEOUT_SECONDS = 60.0


class ServeProcess:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._done = False  # the output ended (the process exited)
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @classmethod
    def start(
        cls, script: Path, args: list[str], cwd: Path, env: Mapping[str, str]
    ) -> ServeProcess:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("LEGATO_")}
        environment.update({"PYTHONUNBUFFERED": "1", **env})
        process = subprocess.Popen(
            [sys.executable, str(script), *args],
            cwd=cwd,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        return cls(process)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._done = True
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return "".join(self.lines)

    def wait_for_line(self, text: str, timeout: float = START_TIMEOUT_SECONDS) -> str:
        """The first output line containing ``text``; fails after ``timeout`` or if the process ends."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    if text in line:
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._done:
                    raise AssertionError(f"no line with {text!r} in:\n{''.join(self.lines)}")
                self._changed.wait(timeout=min(remaining, 1.0))

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, then the exit code (SIGKILL if it does not exit in ``timeout``)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)
            raise AssertionError(f"serve did not stop on SIGTERM:\n{self.output}") from None
        finally:
            self.close()

    def close(self) -> None:
        """Finish reading the output (the process has exited) and close the pipe."""
        self._reader.join(timeout=15)
        if self.process.stdout is not None:
            self.process.stdout.close()


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> object:
    """Poll ``condition`` (every 0.1 s, bounded by ``timeout``) until it is truthy; its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)  # polling another process's store: nothing to wait on
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def unique(name: str) -> str:
    """A deployment name no other test uses (the server's database is shared)."""
    import uuid

    return f"{name}-{uuid.uuid4().hex[:8]}"
