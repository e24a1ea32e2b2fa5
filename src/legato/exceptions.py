"""The public error tree of legato.

    LegatoError
    ├── ConfigurationError        bad settings, unusable LEGATO_HOME
    │   └── ProjectFileError      a legato.yaml / prefect.yaml with bad keys or values
    ├── StorageError              the store could not be read or written
    │   ├── CorruptResult         a stored result that cannot be decoded
    │   └── ResultLocked          a write to a result key another holder locked
    ├── ServerUnavailable         the API server did not answer
    ├── SerializationError        no such serializer, or a value it cannot encode
    ├── MissingResult             a persisted result that is not where its record says
    ├── LockNotHeld               release_lock by a holder that does not hold it
    ├── TransactionError          a transaction used in a way it cannot support
    ├── EntrypointError           a deployment entrypoint that names no loadable flow
    ├── StepExecutionError        a deployment pull step that is unknown or failed
    ├── InfrastructureNotFound    a worker's run whose process no longer exists
    ├── InfrastructureNotAvailable  a run's process on another machine than this worker
    ├── ObjectNotFound            an id or name that does not exist
    │   └── LeaseExpired          renewing a concurrency lease that expired or was released
    ├── ObjectAlreadyExists
    ├── InvalidStateTransition
    │   └── NotPausedError        resume_flow_run of a run that is not paused
    ├── MissingContextError       an API that needs a run, called outside one
    ├── AcquireConcurrencySlotTimeoutError  no slot of a concurrency limit within timeout_seconds
    ├── ConcurrencySlotAcquisitionError     slots that waiting cannot give (missing limit, occupy > limit)
    ├── InvalidSchedule           a bad cron, rrule, interval or time zone
    ├── ParameterError            bad input to a flow or task
    │   ├── ParameterTypeError
    │   ├── ParameterBindError
    │   └── SignatureMismatchError
    ├── MappingError              .map() with mismatched or missing iterables
    │   ├── MappingLengthMismatch
    │   └── MappingMissingIterable
    ├── FutureError               a future used where it cannot be
    ├── UnfinishedRun             result asked of a run that has not finished
    ├── UpstreamTaskError         a task's upstream did not complete
    ├── FlowPauseTimeout          a paused run was not resumed in time
    └── RunError                  raised by state.result() for bad final states
        ├── FailedRun
        ├── CrashedRun
        └── CancelledRun

    TerminationSignal (a BaseException, like KeyboardInterrupt): SIGTERM
    arrived while a flow run was in progress; the run ends Crashed, or
    Cancelled when it had been asked to cancel (``legato flow-run cancel``).
    FlowRunCancelled (a BaseException): the run was cancelled while it
    waited (paused); it ends Cancelled.
    Pause (a SystemExit with code 0): ``suspend_flow_run`` ended the process's
    flow run; the run stays Suspended and the process exits quietly.

Every message names the problem, the value and the fix. Errors carry their data
as attributes (``exc.state``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from legato.states import State


class LegatoError(Exception):
    """Base of every error legato raises on purpose."""


class ConfigurationError(LegatoError):
    """A setting or option has a value that legato cannot use."""


class StorageError(LegatoError):
    """The store could not be opened, read or written."""


class ObjectNotFound(LegatoError):
    """An id or name refers to nothing that exists."""


class ObjectAlreadyExists(LegatoError):
    """Creating an object that exists already."""


class SerializationError(LegatoError):
    """A value could not be serialized or deserialized, or no such serializer exists."""


class MissingResult(LegatoError):
    """A persisted result is not where its record says (deleted, expired, never written)."""


class InvalidStateTransition(LegatoError):
    """A run was asked to move to a state the rules refuse."""


class MissingContextError(LegatoError):
    """An API that needs a flow or task run was called outside of one."""


class ParameterError(LegatoError, ValueError):
    """Bad input to a flow or task: option values or call arguments."""


class ParameterTypeError(ParameterError, TypeError):
    """Call arguments that fail validation against the function's type hints."""


class ParameterBindError(ParameterError, TypeError):
    """Call arguments that do not fit the function's signature."""


class SignatureMismatchError(ParameterError, TypeError):
    """Parameters that do not match a function's signature."""


class MappingError(LegatoError, ValueError):
    """``.map()`` was called with arguments it cannot map over."""


class MappingLengthMismatch(MappingError):
    """Iterables of different lengths given to ``.map()``."""


class MappingMissingIterable(MappingError):
    """``.map()`` was given no iterable to map over."""


class FutureError(LegatoError):
    """A future was used where it cannot be."""


class UnfinishedRun(LegatoError):
    """A result was asked of a run that has not reached a final state."""


class UpstreamTaskError(LegatoError):
    """A task could not run because an upstream task did not complete."""


class RunError(LegatoError):
    """Raised by ``State.result()`` for a run that did not complete."""

    def __init__(self, message: str, state: State | None = None) -> None:
        super().__init__(message)
        self.state = state


class FailedRun(RunError):
    """The run ended Failed."""


class CrashedRun(RunError):
    """The run ended Crashed: something outside the user's code stopped it."""


class CancelledRun(RunError):
    """The run ended Cancelled."""


class TerminationSignal(BaseException):
    """The process received SIGTERM while a flow run was in progress.

    A BaseException, like KeyboardInterrupt: the run ends Crashed, not Failed,
    and the signal is not swallowed by ``except Exception``. When the run (or
    the flow run it runs under) was set Cancelling first, as ``legato flow-run
    cancel`` and workers do, it ends Cancelled instead; ``is_cancellation``
    holds that decision once the engine has made it (None before).
    """

    def __init__(self, signal: int, *args: Any) -> None:
        super().__init__(f"Received signal {signal}", *args)
        self.signal = signal
        self.is_cancellation: bool | None = None


class FlowRunCancelled(BaseException):
    """The flow run was cancelled from outside while it waited (e.g. paused).

    A BaseException, like TerminationSignal: the run ends Cancelled and its
    on_cancellation hooks run.
    """


class Pause(SystemExit):
    """``suspend_flow_run`` ended this process's flow run; the run stays Suspended.

    A SystemExit with code 0: uncaught, the process exits quietly with status
    0, and ``except Exception`` does not swallow it. The run starts again from
    the beginning when it is resumed; ``state`` is its Suspended state.
    """

    def __init__(self, message: str, state: State | None = None) -> None:
        super().__init__(0)
        self.message = message
        self.state = state

    def __str__(self) -> str:
        return self.message


class FlowPauseTimeout(LegatoError, TimeoutError):
    """A paused or suspended flow run was not resumed before its timeout."""


class NotPausedError(InvalidStateTransition):
    """``resume_flow_run`` was asked to resume a run that is not paused."""


# Prefect 3 names some errors after the timeout; keep the built-in as base so
# `except TimeoutError` still works.
class TaskRunTimeoutError(LegatoError, TimeoutError):
    """A task run exceeded its timeout_seconds."""


class FlowRunTimeoutError(LegatoError, TimeoutError):
    """A flow run exceeded its timeout_seconds."""


class Abort(LegatoError):
    """Raised by the engine to stop a run early without changing its state."""


class ServerUnavailable(LegatoError):
    """The server did not answer (refused, unreachable, timed out, or kept answering 503)."""

    def __init__(self, message: str, url: str) -> None:
        super().__init__(message)
        self.url = url


class CorruptResult(StorageError):
    """A stored result could not be decoded (damaged, truncated, or unreadable here)."""

    def __init__(self, message: str, key: str | None = None, path: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.path = path


class ResultLocked(StorageError):
    """A write to a key that another holder has locked."""

    def __init__(self, message: str, key: str, holder: str) -> None:
        super().__init__(message)
        self.key = key
        self.holder = holder


class LockNotHeld(LegatoError, ValueError):
    """``release_lock`` was called by a holder that does not hold the lock."""

    def __init__(self, key: str, holder: str) -> None:
        super().__init__(
            f"Cannot release lock {key!r}: it is not held by {holder!r}. "
            "Only the holder that acquired a lock can release it, and only before its "
            "hold_timeout runs out; check is_lock_holder(key, holder) first if unsure."
        )
        self.key = key
        self.holder = holder


class TransactionError(LegatoError):
    """A transaction was used in a way it cannot support."""


class LeaseExpired(ObjectNotFound):
    """A concurrency lease that cannot be renewed any more.

    It expired (its slots are free again), was released, or was dropped by a
    reset of its limit: the holder lost its slots and must acquire anew.
    """

    def __init__(self, lease_id: object, message: str | None = None) -> None:
        super().__init__(
            message
            or f"Concurrency lease {str(lease_id)!r} has expired, was released, or its limit "
            "was reset or deleted: its slots are no longer held. Acquire the slots again, and "
            "renew a lease well within its duration (e.g. every third of it)."
        )
        self.lease_id = str(lease_id)


class AcquireConcurrencySlotTimeoutError(LegatoError, TimeoutError):
    """No slot of a concurrency or rate limit came free within ``timeout_seconds``.

    ``names`` are the limits asked for, ``refused_by`` the one that was full at
    the last attempt (if known); a ``TimeoutError``, as in Prefect 3.
    """

    def __init__(
        self,
        message: str,
        *,
        names: Sequence[str] = (),
        timeout_seconds: float | None = None,
        refused_by: str | None = None,
    ) -> None:
        super().__init__(message)
        self.names = list(names)
        self.timeout_seconds = timeout_seconds
        self.refused_by = refused_by


class ConcurrencySlotAcquisitionError(LegatoError):
    """Slots that waiting would never give, so none are waited for.

    A limit that does not exist (with ``strict=True``), or ``occupy`` larger
    than a limit's size. ``names`` are the limits concerned.
    """

    def __init__(self, message: str, *, names: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.names = list(names)


class ProjectFileError(ConfigurationError):
    """A project file (legato.yaml, prefect.yaml) that cannot be used.

    ``problems`` holds one ``(line, key, message)`` per problem found (line is
    1-based, 0 when unknown); the message names the file, each line and key.
    """

    def __init__(self, message: str, path: str, problems: list[tuple[int, str, str]]) -> None:
        super().__init__(message)
        self.path = path
        self.problems = problems


class EntrypointError(LegatoError):
    """An entrypoint (``path/to/file.py:flow_fn`` or ``module:flow_fn``) that names no flow."""

    def __init__(self, message: str, entrypoint: str) -> None:
        super().__init__(message)
        self.entrypoint = entrypoint


class StepExecutionError(LegatoError):
    """A deployment step (pull step) that is unknown, has bad arguments or failed."""

    def __init__(self, message: str, step: str) -> None:
        super().__init__(message)
        self.step = step


class InfrastructureNotFound(LegatoError):
    """The process (or other infrastructure) a worker started for a run no longer exists."""


class InfrastructureNotAvailable(LegatoError):
    """A run's infrastructure that this worker cannot reach (e.g. a process on another host)."""


class InvalidSchedule(LegatoError, ValueError):
    """A schedule that cannot be used: a bad cron or rrule, an unknown time zone,
    a non-positive interval, or not exactly one of cron/interval/rrule."""


__all__ = [
    "Abort",
    "AcquireConcurrencySlotTimeoutError",
    "CancelledRun",
    "ConcurrencySlotAcquisitionError",
    "ConfigurationError",
    "CorruptResult",
    "CrashedRun",
    "EntrypointError",
    "FailedRun",
    "FlowPauseTimeout",
    "FlowRunTimeoutError",
    "FutureError",
    "InfrastructureNotAvailable",
    "InfrastructureNotFound",
    "InvalidSchedule",
    "InvalidStateTransition",
    "LeaseExpired",
    "LegatoError",
    "LockNotHeld",
    "MappingError",
    "MappingLengthMismatch",
    "MappingMissingIterable",
    "MissingContextError",
    "MissingResult",
    "NotPausedError",
    "ObjectAlreadyExists",
    "ObjectNotFound",
    "ParameterBindError",
    "ParameterError",
    "ParameterTypeError",
    "ProjectFileError",
    "ResultLocked",
    "RunError",
    "SerializationError",
    "ServerUnavailable",
    "SignatureMismatchError",
    "StepExecutionError",
    "StorageError",
    "TaskRunTimeoutError",
    "TransactionError",
    "UnfinishedRun",
    "UpstreamTaskError",
]
