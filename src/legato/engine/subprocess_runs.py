"""Running one task run in a child process of the ProcessPoolTaskRunner.

The parent sends the task, the run's identity and its resolved parameters
(cloudpickle). The child runs the task engine against an in-memory recorder
and sends back the final state with the state history and logs it collected;
the parent records them, so each run is written by one process only.
"""

from __future__ import annotations

import concurrent.futures as cf
from typing import TYPE_CHECKING, Any

from legato.states import Crashed, State, format_exception_line
from legato.storage.records import LogRow, RecordBatch, StateRow

if TYPE_CHECKING:
    from legato.engine.context import FlowRunContext
    from legato.engine.recorder import Recorder
    from legato.engine.runs import TaskRun
    from legato.engine.task_engine import TaskRunEngine
    from legato.tasks import Task


def pack(task: Task[..., Any], task_run: TaskRun, flow_context: FlowRunContext | None) -> bytes:
    """Everything the child needs to run ``task_run``."""
    import cloudpickle

    from legato.settings import get_current_settings

    settings = get_current_settings()
    flow_run = flow_context.flow_run if flow_context is not None else None
    return bytes(
        cloudpickle.dumps(
            {
                "task": task,
                "run": {
                    "id": task_run.id,
                    "name": task_run.name,
                    "dynamic_key": task_run.dynamic_key,
                    "tags": task_run.tags,
                    "parameters": task_run.parameters,
                    "flow_run_id": task_run.flow_run_id,
                    "task_inputs": task_run.task_inputs,
                },
                "flow_run": None
                if flow_run is None
                else {
                    "id": flow_run.id,
                    "name": flow_run.name,
                    "flow_name": flow_run.flow_name,
                    "flow_id": flow_run.flow_id,
                },
                "log_prints": flow_context.log_prints if flow_context is not None else False,
                "settings": {
                    "LEGATO_HOME": str(settings.home),
                    "LEGATO_LOGGING_LEVEL": settings.logging.level,
                },
            }
        )
    )


class _CollectingClient:
    """A client that keeps batches in memory (the child writes nothing)."""

    def __init__(self) -> None:
        self.batches: list[RecordBatch] = []

    def record(self, batch: RecordBatch) -> None:
        self.batches.append(batch)

    def drain(self) -> tuple[list[StateRow], list[LogRow]]:
        batches, self.batches = self.batches, []
        return [row for b in batches for row in b.states], [row for b in batches for row in b.logs]

    def close(self) -> None:
        self.batches.clear()


_child_recorder: tuple[Recorder, _CollectingClient] | None = None


def _recorder() -> tuple[Recorder, _CollectingClient]:
    global _child_recorder
    if _child_recorder is None:
        from legato.engine.recorder import Recorder

        client = _CollectingClient()
        _child_recorder = (Recorder(client, 3600.0, 10**9), client)  # type: ignore[arg-type]
    return _child_recorder


def run_packed_task(payload: bytes) -> bytes:
    """Child side: run the task and return its final state, history and logs."""
    import cloudpickle

    from legato.engine.context import FlowRunContext, flow_run_context
    from legato.engine.runs import FlowRun, TaskRun
    from legato.engine.task_engine import TaskRunEngine, run_task_async, run_task_sync
    from legato.logging.configuration import setup_logging
    from legato.settings import temporary_settings
    from legato.states import Pending
    from legato.task_runners import ThreadPoolTaskRunner

    data = cloudpickle.loads(payload)
    task, run = data["task"], data["run"]
    with temporary_settings(data["settings"]):
        setup_logging()
        recorder, client = _recorder()
        task_run = TaskRun(
            name=run["name"],
            task_key=task.task_key,
            task_name=task.name,
            dynamic_key=run["dynamic_key"],
            state=Pending(),
            tags=run["tags"],
            parameters=run["parameters"],
            flow_run_id=run["flow_run_id"],
            task_version=task.version,
            task_inputs=run["task_inputs"],
        )
        task_run.id = run["id"]
        flow_context = None
        if data["flow_run"] is not None:
            info = data["flow_run"]
            flow_run = FlowRun(info["name"], info["flow_id"], info["flow_name"], Pending(), [], {})
            flow_run.id = info["id"]
            flow_context = FlowRunContext(
                None, flow_run, ThreadPoolTaskRunner(), recorder, data["log_prints"]
            )
        token = flow_run_context.set(flow_context)
        try:
            engine = TaskRunEngine(task, task_run, flow_context, recorder)
            if task.isasync:
                import asyncio

                state = asyncio.run(run_task_async(engine))
            else:
                state = run_task_sync(engine)
        finally:
            flow_run_context.reset(token)
        recorder.flush()
        states, logs = client.drain()
        # The Pending state was recorded by the parent already.
        states = [row for row in states if row[3] != "PENDING" or row[4] != "Pending"]
        fields = (
            task_run.name,
            task_run.run_count,
            task_run._start_time,
            task_run._end_time,
            task_run.total_run_time,
        )
        return bytes(cloudpickle.dumps((_picklable(state), states, logs, fields)))


def _picklable(state: State) -> State:
    import cloudpickle

    try:
        cloudpickle.dumps(state.data)
        return state
    except Exception:
        error = RuntimeError(
            f"(not picklable) {format_exception_line(state.data) if isinstance(state.data, BaseException) else repr(state.data)}"
        )
        return state.copy(data=error)


def apply_child_result(child: cf.Future[bytes], engine: TaskRunEngine) -> State:
    """Parent side: record what the child sent back; the run's final state."""
    import cloudpickle

    try:
        final, states, logs, fields = cloudpickle.loads(child.result())
    except BaseException as exc:
        return engine.set_state(
            Crashed(message=f"The task's process failed: {format_exception_line(exc)}", data=exc)
        )
    run = engine.task_run
    run.name, run.run_count, run._start_time, run._end_time, run.total_run_time = fields
    run.state = final
    engine.recorder.merge(run, states, logs)
    return final  # type: ignore[no-any-return]
