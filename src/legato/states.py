"""Run states: ``StateType``, ``State`` and the named constructors.

A state is a plain slotted object (not a pydantic model) because the engine
creates three of them per task run on the hot path. Timestamps are kept as
POSIX seconds and turned into aware datetimes only when read.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from legato.exceptions import (
    CancelledRun,
    CrashedRun,
    FailedRun,
    UnfinishedRun,
)

_UTC = _dt.UTC


class StateType(StrEnum):
    """The kind of a state; its name says where a run is."""

    SCHEDULED = "SCHEDULED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CRASHED = "CRASHED"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"
    PAUSED = "PAUSED"

    def __str__(self) -> str:
        return self.value


TERMINAL_STATES = frozenset(
    {StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED}
)


class StateDetails:
    """Ids and options a state carries besides its type (all default to None)."""

    cache_expiration: Any = None
    cache_key: str | None = None
    flow_run_id: Any = None
    pause_key: str | None = None
    pause_reschedule: bool | None = None
    pause_timeout: Any = None
    retriable: bool | None = None
    # The flow run input keys a pause waits on ({"response", "schema", "description"}).
    run_input_keyset: dict[str, str] | None = None
    scheduled_time: Any = None
    task_run_id: Any = None
    untrackable_result: bool | None = None

    _FIELDS = (
        "cache_expiration",
        "cache_key",
        "flow_run_id",
        "pause_key",
        "pause_reschedule",
        "pause_timeout",
        "retriable",
        "run_input_keyset",
        "scheduled_time",
        "task_run_id",
        "untrackable_result",
    )

    def __init__(self, **values: Any) -> None:
        unknown = [name for name in values if name not in self._FIELDS]
        if unknown:
            raise TypeError(f"Unknown state detail(s): {', '.join(sorted(unknown))}")
        self.__dict__.update(values)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={value!r}"
            for name, value in sorted(self.__dict__.items())
            if value is not None
        )
        return f"StateDetails({shown})"


class State:
    """Where a run is, with an optional message and the run's result or error."""

    __slots__ = (
        "_details",
        "_run_ids",
        "_timestamp",
        "data",
        "message",
        "name",
        "result_ref",
        "type",
    )

    def __init__(
        self,
        type: StateType,
        name: str | None = None,
        message: str | None = None,
        data: Any = None,
        state_details: StateDetails | None = None,
        timestamp: float | _dt.datetime | None = None,
    ) -> None:
        self.type = type if type.__class__ is StateType else StateType(type)
        self.name = name if name is not None else _DEFAULT_NAMES[self.type]
        self.message = message
        self.data = data
        # Metadata of the persisted result (a JSON-ready dict), when there is one:
        # what a later process reads the value back with.
        self.result_ref: dict[str, Any] | None = None
        self._details = state_details
        self._run_ids: tuple[Any, Any] | None = None
        if timestamp is None:
            self._timestamp = time.time()
        elif isinstance(timestamp, _dt.datetime):
            self._timestamp = timestamp.timestamp()
        else:
            self._timestamp = float(timestamp)

    # -- attributes ---------------------------------------------------------
    @property
    def timestamp(self) -> _dt.datetime:
        """When the run entered this state (UTC)."""
        return _dt.datetime.fromtimestamp(self._timestamp, _UTC)

    @property
    def timestamp_seconds(self) -> float:
        """When the run entered this state, as POSIX seconds."""
        return self._timestamp

    @property
    def state_details(self) -> StateDetails:
        """Ids and options attached to this state (made on first read)."""
        details = self._details
        if details is None:
            details = self._details = StateDetails()
        if self._run_ids is not None:
            details.flow_run_id, details.task_run_id = self._run_ids
            self._run_ids = None
        return details

    @state_details.setter
    def state_details(self, value: StateDetails) -> None:
        self._details = value
        self._run_ids = None

    def attach_run_ids(self, flow_run_id: Any, task_run_id: Any) -> None:
        """Note the run this state belongs to; shows in ``state_details`` when read."""
        if self._details is None:
            self._run_ids = (flow_run_id, task_run_id)
        else:
            self._details.flow_run_id = flow_run_id
            self._details.task_run_id = task_run_id

    # -- predicates ---------------------------------------------------------
    def is_scheduled(self) -> bool:
        return self.type is StateType.SCHEDULED

    def is_pending(self) -> bool:
        return self.type is StateType.PENDING

    def is_running(self) -> bool:
        return self.type is StateType.RUNNING

    def is_completed(self) -> bool:
        return self.type is StateType.COMPLETED

    def is_failed(self) -> bool:
        return self.type is StateType.FAILED

    def is_crashed(self) -> bool:
        return self.type is StateType.CRASHED

    def is_cancelling(self) -> bool:
        return self.type is StateType.CANCELLING

    def is_cancelled(self) -> bool:
        return self.type is StateType.CANCELLED

    def is_paused(self) -> bool:
        return self.type is StateType.PAUSED

    def is_final(self) -> bool:
        """True for Completed, Failed, Crashed and Cancelled."""
        return self.type in TERMINAL_STATES

    # -- result -------------------------------------------------------------
    def result(self, raise_on_failure: bool = True, fetch: bool = True) -> Any:
        """The run's return value, or its error.

        A Failed, Crashed or Cancelled state raises its exception (or returns it
        with ``raise_on_failure=False``); a state that is not final raises
        ``UnfinishedRun``.
        """
        return get_state_result(self, raise_on_failure=raise_on_failure)

    async def aresult(self, raise_on_failure: bool = True) -> Any:
        """Async twin of ``result()``."""
        return get_state_result(self, raise_on_failure=raise_on_failure)

    # -- copies and display -------------------------------------------------
    def copy(self, **updates: Any) -> State:
        """A new state with the given attributes replaced (timestamp kept)."""
        values: dict[str, Any] = {
            "type": self.type,
            "name": self.name,
            "message": self.message,
            "data": self.data,
            "state_details": self.state_details if (self._details or self._run_ids) else None,
            "timestamp": self._timestamp,
        }
        values.update(updates)
        state = State(**values)
        if "data" not in updates:
            state.result_ref = self.result_ref
        return state

    model_copy = copy

    def fresh_copy(self, **updates: Any) -> State:
        """A copy with a new timestamp and no data."""
        values: dict[str, Any] = {"type": self.type, "name": self.name, "message": self.message}
        values.update(updates)
        return State(**values)

    def __str__(self) -> str:
        return f"{self.name}({self.message!r})" if self.message else f"{self.name}()"

    def __repr__(self) -> str:
        result = f", result={self.data!r}" if self.data is not None else ""
        return f"{self.name}(message={self.message!r}, type={self.type.value}{result})"


_DEFAULT_NAMES = {state_type: state_type.value.capitalize() for state_type in StateType}


def get_state_result(state: State, raise_on_failure: bool = True) -> Any:
    """Return a state's result, raising for failed or unfinished states."""
    if state.type is StateType.COMPLETED:
        data = state.data
        if isinstance(data, State):
            return get_state_result(data, raise_on_failure)
        if data is None and state.result_ref is not None:
            from legato.results import load_persisted_result

            return load_persisted_result(state.result_ref)
        return data
    if state.type in (StateType.FAILED, StateType.CRASHED, StateType.CANCELLED):
        exc = get_state_exception(state)
        if raise_on_failure:
            raise exc
        return exc
    raise UnfinishedRun(
        f"The run is in state {state} and has no result yet. Wait for it to finish "
        "(future.wait() or future.result()) before asking for its result."
    )


def get_state_exception(state: State) -> BaseException:
    """The exception a failed, crashed or cancelled state stands for."""
    data = state.data
    if isinstance(data, BaseException):
        return data
    if isinstance(data, State):
        return get_state_exception(data)
    if isinstance(data, list) and data and all(isinstance(item, State) for item in data):
        for item in data:
            if item.type in (StateType.FAILED, StateType.CRASHED, StateType.CANCELLED):
                return get_state_exception(item)
    message = state.message or f"Run ended in state {state.name}."
    if state.type is StateType.CRASHED:
        return CrashedRun(message, state)
    if state.type is StateType.CANCELLED:
        return CancelledRun(message, state)
    return FailedRun(message, state)


def is_state(value: Any) -> bool:
    """True if ``value`` is a State."""
    return isinstance(value, State)


def is_state_iterable(value: Any) -> bool:
    """True for a non-empty list, tuple or set made only of states."""
    if isinstance(value, list | tuple | set) and value:
        return all(isinstance(item, State) for item in value)
    return False


# -- named constructors (Prefect 3 names) -----------------------------------


def _details_with(details: StateDetails | None, **values: Any) -> StateDetails:
    details = details or StateDetails()
    for key, value in values.items():
        setattr(details, key, value)
    return details


def Scheduled(
    cls: type[State] = State,
    scheduled_time: _dt.datetime | None = None,
    **kwargs: Any,
) -> State:
    """A run waiting for its scheduled time."""
    details = _details_with(
        kwargs.pop("state_details", None),
        scheduled_time=scheduled_time or _dt.datetime.now(_UTC),
    )
    return cls(type=StateType.SCHEDULED, state_details=details, **kwargs)


def Late(
    cls: type[State] = State, scheduled_time: _dt.datetime | None = None, **kwargs: Any
) -> State:
    """A scheduled run that did not start on time."""
    return Scheduled(cls=cls, scheduled_time=scheduled_time, name="Late", **kwargs)


def AwaitingRetry(
    cls: type[State] = State, scheduled_time: _dt.datetime | None = None, **kwargs: Any
) -> State:
    """A run waiting to be retried."""
    return Scheduled(cls=cls, scheduled_time=scheduled_time, name="AwaitingRetry", **kwargs)


def AwaitingConcurrencySlot(
    cls: type[State] = State, scheduled_time: _dt.datetime | None = None, **kwargs: Any
) -> State:
    """A run waiting for a concurrency slot."""
    return Scheduled(
        cls=cls, scheduled_time=scheduled_time, name="AwaitingConcurrencySlot", **kwargs
    )


def Pending(cls: type[State] = State, **kwargs: Any) -> State:
    """A run that has been created and has not started."""
    return cls(type=StateType.PENDING, **kwargs)


def Running(cls: type[State] = State, **kwargs: Any) -> State:
    """A run in progress."""
    return cls(type=StateType.RUNNING, **kwargs)


def Retrying(cls: type[State] = State, **kwargs: Any) -> State:
    """A run in progress again after a failure."""
    return cls(type=StateType.RUNNING, name="Retrying", **kwargs)


def Completed(cls: type[State] = State, **kwargs: Any) -> State:
    """A run that finished successfully."""
    return cls(type=StateType.COMPLETED, **kwargs)


def Cached(cls: type[State] = State, **kwargs: Any) -> State:
    """A completed run whose result came from the cache."""
    return cls(type=StateType.COMPLETED, name="Cached", **kwargs)


def Failed(cls: type[State] = State, **kwargs: Any) -> State:
    """A run that ended with an error in user code."""
    return cls(type=StateType.FAILED, **kwargs)


def TimedOut(cls: type[State] = State, **kwargs: Any) -> State:
    """A run that exceeded its timeout."""
    return cls(type=StateType.FAILED, name="TimedOut", **kwargs)


def Crashed(cls: type[State] = State, **kwargs: Any) -> State:
    """A run stopped by something outside the user's code."""
    return cls(type=StateType.CRASHED, **kwargs)


def Cancelling(cls: type[State] = State, **kwargs: Any) -> State:
    """A run asked to cancel, not yet stopped."""
    return cls(type=StateType.CANCELLING, **kwargs)


def Cancelled(cls: type[State] = State, **kwargs: Any) -> State:
    """A run that was cancelled."""
    return cls(type=StateType.CANCELLED, **kwargs)


def Paused(
    cls: type[State] = State,
    timeout_seconds: int | None = None,
    pause_expiration_time: _dt.datetime | None = None,
    reschedule: bool = False,
    pause_key: str | None = None,
    **kwargs: Any,
) -> State:
    """A run waiting to be resumed."""
    if timeout_seconds is not None and pause_expiration_time is None:
        pause_expiration_time = _dt.datetime.now(_UTC) + _dt.timedelta(seconds=timeout_seconds)
    details = _details_with(
        kwargs.pop("state_details", None),
        pause_timeout=pause_expiration_time,
        pause_reschedule=reschedule,
        pause_key=pause_key,
    )
    return cls(type=StateType.PAUSED, state_details=details, **kwargs)


def Suspended(
    cls: type[State] = State,
    timeout_seconds: int | None = None,
    pause_expiration_time: _dt.datetime | None = None,
    pause_key: str | None = None,
    **kwargs: Any,
) -> State:
    """A paused run whose process has ended; it resumes from a fresh start."""
    return Paused(
        cls=cls,
        timeout_seconds=timeout_seconds,
        pause_expiration_time=pause_expiration_time,
        reschedule=True,
        pause_key=pause_key,
        name="Suspended",
        **kwargs,
    )


def exception_to_failed_state(
    exc: BaseException | None = None, message: str | None = None
) -> State:
    """A Failed state carrying ``exc``, with a message that names it."""
    if message is None:
        message = f"Run encountered an exception: {format_exception_line(exc)}"
    return Failed(data=exc, message=message)


def format_exception_line(exc: BaseException | None) -> str:
    """``ValueError: boom`` for an exception."""
    if exc is None:
        return "(no exception)"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def summarize_states(states: Iterable[State]) -> State:
    """The final state of a run that returned several states or futures.

    Completed if all completed; Failed if any failed, crashed or was cancelled,
    or if any did not finish.
    """
    states = list(states)
    bad = [
        s for s in states if s.type in (StateType.FAILED, StateType.CRASHED, StateType.CANCELLED)
    ]
    if bad:
        return Failed(
            message=f"{len(bad)}/{len(states)} states failed.",
            data=states,
        )
    unfinished = [s for s in states if not s.is_final()]
    if unfinished:
        return Failed(
            message=f"{len(unfinished)}/{len(states)} states did not finish.",
            data=states,
        )
    return Completed(
        message=f"All {len(states)} states completed." if states else None, data=states
    )


__all__ = [
    "AwaitingConcurrencySlot",
    "AwaitingRetry",
    "Cached",
    "Cancelled",
    "Cancelling",
    "Completed",
    "Crashed",
    "Failed",
    "Late",
    "Paused",
    "Pending",
    "Retrying",
    "Running",
    "Scheduled",
    "State",
    "StateDetails",
    "StateType",
    "Suspended",
    "TimedOut",
    "exception_to_failed_state",
    "get_state_exception",
    "get_state_result",
    "is_state",
    "is_state_iterable",
]
