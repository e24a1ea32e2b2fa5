"""Flow scripts run in real subprocesses, and bounded waits on them and on the store.

Shared by tests/pause and tests/cancellation (imported by path from both).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

WAIT_SECONDS = 30.0


class FlowProcess:
    """A flow script running in a subprocess; its output goes to a file."""

    def __init__(self, script: Path, args: list[str], env: Mapping[str, str]) -> None:
        self.output = script.with_suffix(f".{time.monotonic_ns()}.out")
        self._file = self.output.open("w")
        self.process = subprocess.Popen(
            [sys.executable, str(script), *args],
            stdout=self._file,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            cwd=script.parent,
        )

    @property
    def text(self) -> str:
        return self.output.read_text()

    def wait_for_line(self, prefix: str, timeout: float = WAIT_SECONDS) -> str:
        """The first output line starting with ``prefix`` (bounded wait)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.text.splitlines():
                if line.startswith(prefix):
                    return line[len(prefix) :].strip()
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"no line starting with {prefix!r} in:\n{self.text}")

    def finish(self, timeout: float = WAIT_SECONDS) -> int:
        """Wait for the process to end (killed after ``timeout``); its exit code."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            message = f"the flow process did not end in {timeout} s:\n{self.text}"
            raise AssertionError(message) from None
        finally:
            self._file.close()


def write_script(folder: Path, name: str, source: str) -> Path:
    """Write a flow script (dedented) into ``folder``."""
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


def wait_until(check: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS) -> Any:
    """Poll ``check`` until it returns something truthy (bounded); that value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def wait_for_state(client: Any, flow_run_id: str, state_type: str, timeout: float = WAIT_SECONDS):
    """The flow run once its state type is ``state_type`` (bounded wait)."""

    from legato.exceptions import ObjectNotFound

    def check() -> Any:
        try:
            run = client.read_flow_run(flow_run_id)
        except ObjectNotFound:  # not written yet: the recorder writes in batches
            return None
        return run if run.state is not None and run.state.type.value == state_type else None

    return wait_until(check, f"flow run {flow_run_id} to be {state_type}", timeout)


def calls(path: Path) -> list[str]:
    """The lines a script appended to ``path`` (one per task call)."""
    return path.read_text().splitlines() if path.exists() else []


# -- where the flows record: the embedded store, or a real server ------------------------


class Home:
    """Where a test's flows record, and a client on it for the test itself."""

    def __init__(self, kind: str, env: dict[str, str], client: Any) -> None:
        self.kind = kind
        self.env = env  # for the flow subprocesses
        self.client = client

    def start(self, script: Path, *args: str) -> FlowProcess:
        return FlowProcess(script, list(args), self.env)


def server_tests_path() -> Path:
    """tests/server, where ``_server_process`` lives."""
    return Path(__file__).resolve().parents[1] / "server"
