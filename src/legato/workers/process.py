"""The process worker: each flow run in a fresh subprocess of the worker's machine.

The subprocess runs ``python -m legato.engine.deployed_run`` (the job
configuration's ``command``) in its own session, so a kill reaches every
process it started; in ``working_dir`` (default: the deployment's path);
with the worker's environment plus the configuration's ``env``. Its output
is copied line by line to the worker's stdout and stderr
(``stream_output``). ``infrastructure_pid`` is ``host:pid``.
"""

from __future__ import annotations

import asyncio
import builtins
import os
import shlex
import signal
import socket
import sys
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar

from legato.exceptions import (
    ConfigurationError,
    InfrastructureNotAvailable,
    InfrastructureNotFound,
)
from legato.workers.base import BaseWorker, TaskStatus, WorkerResult
from legato.workers.configuration import BaseJobConfiguration, environment_for

if TYPE_CHECKING:
    from legato.client.schemas.objects import FlowRun

__all__ = ["ProcessJobConfiguration", "ProcessWorker", "ProcessWorkerResult"]

_IS_POSIX = os.name == "posix"
_LINE_LIMIT = 1 << 20  # longest line read at once; longer ones are copied in pieces


class ProcessJobConfiguration(BaseJobConfiguration):
    """The process worker's configuration: the base fields, with ``working_dir`` defaulted."""

    def prepare_for_flow_run(
        self, flow_run: Any, deployment: Any = None, worker_name: str | None = None
    ) -> None:
        super().prepare_for_flow_run(flow_run, deployment, worker_name)
        path = getattr(deployment, "path", None)
        if self.working_dir is None and path:
            self.working_dir = Path(path)


class ProcessWorkerResult(WorkerResult):
    """The subprocess's exit code and ``host:pid``."""


class ProcessWorker(BaseWorker):
    """Runs each flow run in a subprocess (``python -m legato.engine.deployed_run``)."""

    type: ClassVar[str] = "process"
    job_configuration: ClassVar[builtins.type[BaseJobConfiguration]] = ProcessJobConfiguration
    description: ClassVar[str] = "Runs each flow run in a subprocess on the worker's machine."

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._processes: dict[int, asyncio.subprocess.Process] = {}

    async def run(
        self,
        flow_run: FlowRun,
        configuration: BaseJobConfiguration,
        task_status: TaskStatus | None = None,
    ) -> ProcessWorkerResult:
        """Start the subprocess, copy its output, return its exit code."""
        process = await self._start(configuration)
        identifier = f"{socket.gethostname()}:{process.pid}"
        self._processes[process.pid] = process
        if task_status is not None:
            task_status.started(identifier)
        try:
            copies = [
                _copy_lines(stream, target)
                for stream, target in ((process.stdout, sys.stdout), (process.stderr, sys.stderr))
                if stream is not None
            ]
            await asyncio.gather(*copies)
            code = await process.wait()
        except asyncio.CancelledError:
            await self._terminate(process, self.cancellation_grace_seconds)
            raise
        finally:
            self._processes.pop(process.pid, None)
        return ProcessWorkerResult(code, identifier)

    async def _start(self, configuration: BaseJobConfiguration) -> asyncio.subprocess.Process:
        if not configuration.command:
            raise ConfigurationError("The job configuration has no command to run.")
        command = shlex.split(configuration.command, posix=_IS_POSIX)
        cwd = configuration.working_dir
        if cwd is not None and not Path(cwd).is_dir():
            raise ConfigurationError(
                f"working_dir {str(cwd)!r} does not exist on this machine. Set the job variable "
                "working_dir (or the deployment's path) to an existing folder."
            )
        output = (
            asyncio.subprocess.PIPE if configuration.stream_output else asyncio.subprocess.DEVNULL
        )
        options: dict[str, Any] = {"start_new_session": True} if _IS_POSIX else {}
        try:
            return await asyncio.create_subprocess_exec(
                *command,
                cwd=cwd,
                env=environment_for(configuration),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                limit=_LINE_LIMIT,
                **options,
            )
        except OSError as exc:
            raise ConfigurationError(
                f"Cannot start {command[0]!r}: {exc.strerror or exc}. Fix the job variable 'command'."
            ) from exc

    async def kill_infrastructure(
        self,
        infrastructure_pid: str,
        configuration: BaseJobConfiguration,
        grace_seconds: float = 30,
    ) -> None:
        """SIGTERM the run's process group; SIGKILL it if it still runs after ``grace_seconds``."""
        host, _, pid_text = infrastructure_pid.rpartition(":")
        if host and host != socket.gethostname():
            raise InfrastructureNotAvailable(
                f"Process {infrastructure_pid!r} runs on {host!r}, not on this machine "
                f"({socket.gethostname()!r}): a worker on {host!r} must stop it."
            )
        try:
            pid = int(pid_text)
        except ValueError:
            raise InfrastructureNotFound(
                f"{infrastructure_pid!r} is not a process id ('host:pid')."
            ) from None
        process = self._processes.get(pid)
        if process is not None:
            await self._terminate(process, grace_seconds)
            return
        await _terminate_by_pid(pid, grace_seconds)

    async def _terminate(self, process: asyncio.subprocess.Process, grace_seconds: float) -> None:
        if process.returncode is not None:
            raise InfrastructureNotFound(f"Process {process.pid} has exited already.")
        _signal_group(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=grace_seconds)
        except TimeoutError:
            _signal_group(process.pid, signal.SIGKILL if _IS_POSIX else signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=30)


def _signal_group(pid: int, signal_number: int) -> None:
    """Signal the process group ``pid`` leads (the whole run), or the process on Windows."""
    try:
        if _IS_POSIX:
            os.killpg(pid, signal_number)
        else:
            os.kill(pid, signal_number)
    except ProcessLookupError:
        raise InfrastructureNotFound(f"Process {pid} no longer exists.") from None


async def _terminate_by_pid(pid: int, grace_seconds: float) -> None:
    """Stop a process this worker did not start (e.g. before a restart), polling for its end."""
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline:
        if not _exists(pid):
            return
        await asyncio.sleep(0.1)
    try:
        _signal_group(pid, signal.SIGKILL if _IS_POSIX else signal.SIGTERM)
    except InfrastructureNotFound:
        return


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _copy_lines(stream: asyncio.StreamReader, target: IO[str]) -> None:
    """Copy ``stream`` to ``target`` as it arrives, a line at a time."""
    while True:
        try:
            chunk = await stream.readline()
        except ValueError:  # a line longer than the limit: copy what is buffered
            chunk = await stream.read(_LINE_LIMIT)
        if not chunk:
            return
        try:
            target.write(chunk.decode("utf-8", errors="replace"))
            target.flush()
        except (OSError, ValueError):
            pass  # the worker's own output is closed: keep draining the pipe
