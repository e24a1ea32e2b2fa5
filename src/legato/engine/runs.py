"""The run records the engine moves through states: ``FlowRun`` and ``TaskRun``.

Plain slotted objects: one is created per run on the hot path. The recorder
reads their fields when it writes a batch; nothing here touches storage.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from typing import Any

from legato.engine.ids import new_uuid
from legato.states import State, StateType

_UTC = _dt.UTC


def _to_datetime(seconds: float | None) -> _dt.datetime | None:
    return None if seconds is None else _dt.datetime.fromtimestamp(seconds, _UTC)


class _Run:
    """Fields and behaviour shared by flow runs and task runs."""

    __slots__ = (
        "_end_time",
        "_expected_start_time",
        "_id_text",
        "_start_time",
        "created",
        "id",
        "name",
        "parameters",
        "run_count",
        "state",
        "tags",
        "total_run_time",
    )

    def __init__(
        self, name: str, state: State, tags: list[str], parameters: dict[str, Any]
    ) -> None:
        self.id = new_uuid()
        self._id_text: str | None = None
        self.name = name
        self.state = state
        self.tags = tags
        self.parameters = parameters
        self.run_count = 0
        self.created = state.timestamp_seconds
        self._expected_start_time: float = self.created
        self._start_time: float | None = None
        self._end_time: float | None = None
        self.total_run_time = 0.0

    @property
    def id_text(self) -> str:
        """``str(self.id)``, computed once (the recorder writes it in many rows).

        ``id`` is set once, when the run is made: the text is not recomputed.
        """
        text = self._id_text
        if text is None:
            text = self._id_text = str(self.id)
        return text

    @property
    def state_type(self) -> Any:
        return self.state.type

    @property
    def state_name(self) -> str:
        return self.state.name

    @property
    def start_time(self) -> _dt.datetime | None:
        return _to_datetime(self._start_time)

    @property
    def end_time(self) -> _dt.datetime | None:
        return _to_datetime(self._end_time)

    @property
    def expected_start_time(self) -> _dt.datetime | None:
        return _to_datetime(self._expected_start_time)

    @property
    def estimated_run_time(self) -> _dt.timedelta:
        return _dt.timedelta(seconds=self.total_run_time)


class FlowRun(_Run):
    """One run of a flow."""

    __slots__ = (
        "deployment_id",
        "flow_id",
        "flow_name",
        "flow_version",
        "is_finished",
        "parent_flow_run_id",
        "parent_task_run_id",
    )

    def __init__(
        self,
        name: str,
        flow_id: uuid.UUID,
        flow_name: str,
        state: State,
        tags: list[str],
        parameters: dict[str, Any],
        flow_version: str | None = None,
        parent_flow_run_id: uuid.UUID | None = None,
        parent_task_run_id: uuid.UUID | None = None,
    ) -> None:
        super().__init__(name, state, tags, parameters)
        self.flow_id = flow_id
        self.flow_name = flow_name
        self.flow_version = flow_version
        self.parent_flow_run_id = parent_flow_run_id
        self.parent_task_run_id = parent_task_run_id
        self.deployment_id: uuid.UUID | None = None
        self.is_finished = False

    def adopt_state(self, state: State) -> None:
        """Take a state the store already holds (set through the API), without recording it.

        The run's bookkeeping follows, as ``FlowRunEngine.set_state`` does it:
        time spent RUNNING is added up to the new state's time.
        """
        previous = self.state
        if previous.type is StateType.RUNNING:
            self.total_run_time += max(0.0, state.timestamp_seconds - previous.timestamp_seconds)
        state.state_details.flow_run_id = self.id
        self.state = state

    def __repr__(self) -> str:
        return f"FlowRun(id={self.id!s}, name={self.name!r}, state={self.state})"


class TaskRun(_Run):
    """One run of a task."""

    __slots__ = (
        "cache_key",
        "dynamic_key",
        "flow_run_id",
        "flow_run_name",
        "task_inputs",
        "task_key",
        "task_name",
        "task_version",
        "wait_for",
    )

    def __init__(
        self,
        name: str,
        task_key: str,
        task_name: str,
        dynamic_key: str,
        state: State,
        tags: list[str],
        parameters: dict[str, Any],
        flow_run_id: uuid.UUID | None,
        flow_run_name: str | None = None,
        task_version: str | None = None,
        task_inputs: dict[str, list[uuid.UUID]] | None = None,
    ) -> None:
        super().__init__(name, state, tags, parameters)
        self.task_key = task_key
        self.task_name = task_name
        self.dynamic_key = dynamic_key
        self.flow_run_id = flow_run_id
        self.flow_run_name = flow_run_name
        self.task_version = task_version
        self.task_inputs = task_inputs
        self.cache_key: str | None = None
        self.wait_for: list[Any] | None = None

    def __repr__(self) -> str:
        return f"TaskRun(id={self.id!s}, name={self.name!r}, state={self.state})"
