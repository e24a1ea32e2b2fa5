"""The current flow run: ``legato.runtime.flow_run.id``, ``.name``, ``.parameters``..."""

from __future__ import annotations

from typing import Any

from legato.engine.context import flow_run_context

_FIELDS = (
    "deployment_id",
    "flow_name",
    "flow_version",
    "id",
    "name",
    "parameters",
    "parent_flow_run_id",
    "parent_task_run_id",
    "run_count",
    "scheduled_start_time",
    "tags",
)
__all__ = list(_FIELDS)


def _run() -> Any:
    context = flow_run_context.get()
    return context.flow_run if context is not None else None


def _field(name: str) -> Any:
    run = _run()
    if run is None:
        return {"parameters": {}, "tags": [], "run_count": 0}.get(name)
    if name == "id":
        return str(run.id)
    if name == "scheduled_start_time":
        return run.expected_start_time
    if name in ("parent_flow_run_id", "parent_task_run_id", "deployment_id"):
        value = getattr(run, name)
        return None if value is None else str(value)
    if name == "parameters":
        return dict(run.parameters)
    if name == "tags":
        return list(run.tags)
    return getattr(run, name)


def __getattr__(name: str) -> Any:
    if name in _FIELDS:
        return _field(name)
    raise AttributeError(
        f"legato.runtime.flow_run has no attribute {name!r}; available: {', '.join(_FIELDS)}"
    )
