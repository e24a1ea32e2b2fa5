"""The public error tree of legato.

    LegatoError
    ├── ConfigurationError        bad settings, unusable LEGATO_HOME
    ├── StorageError              the store could not be read or written
    ├── ObjectNotFound            an id or name that does not exist
    ├── ObjectAlreadyExists
    ├── InvalidStateTransition
    ├── MissingContextError       an API that needs a run, called outside one
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
    └── RunError                  raised by state.result() for bad final states
        ├── FailedRun
        ├── CrashedRun
        └── CancelledRun

    TerminationSignal (a BaseException, like KeyboardInterrupt): SIGTERM
    arrived while a flow run was in progress; the run ends Crashed.

Every message names the problem, the value and the fix. Errors carry their data
as attributes (``exc.state``).
"""

from __future__ import annotations

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
    and the signal is not swallowed by ``except Exception``.
    """

    def __init__(self, signal: int, *args: Any) -> None:
        super().__init__(f"Received signal {signal}", *args)
        self.signal = signal


# Prefect 3 names some errors after the timeout; keep the built-in as base so
# `except TimeoutError` still works.
class TaskRunTimeoutError(LegatoError, TimeoutError):
    """A task run exceeded its timeout_seconds."""


class FlowRunTimeoutError(LegatoError, TimeoutError):
    """A flow run exceeded its timeout_seconds."""


class Abort(LegatoError):
    """Raised by the engine to stop a run early without changing its state."""


__all__ = [
    "Abort",
    "CancelledRun",
    "ConfigurationError",
    "CrashedRun",
    "FailedRun",
    "FlowRunTimeoutError",
    "FutureError",
    "InvalidStateTransition",
    "LegatoError",
    "MappingError",
    "MappingLengthMismatch",
    "MappingMissingIterable",
    "MissingContextError",
    "MissingResult",
    "ObjectAlreadyExists",
    "ObjectNotFound",
    "ParameterBindError",
    "ParameterError",
    "ParameterTypeError",
    "SerializationError",
    "RunError",
    "SignatureMismatchError",
    "StorageError",
    "TaskRunTimeoutError",
    "UnfinishedRun",
    "UpstreamTaskError",
]
