"""The current task run: ``legato.runtime.task_run.id``, ``.name``, ``.parameters``..."""

from __future__ import annotations

from typing import Any

from legato.engine.context import task_run_context

_FIELDS = (
    "flow_run_id",
    "id",
    "name",
    "parameters",
    "run_count",
    "scheduled_start_time",
    "tags",
    "task_name",
)
__all__ = list(_FIELDS)


def _field(name: str) -> Any:
    context = task_run_context.get()
    if context is None:
        return {"parameters": {}, "tags": [], "run_count": 0}.get(name)
    run = context.task_run
    if name in ("id", "flow_run_id"):
        value = getattr(run, name)
        return None if value is None else str(value)
    if name == "scheduled_start_time":
        return run.expected_start_time
    if name == "parameters":
        return dict(context.parameters)
    if name == "tags":
        return list(run.tags)
    return getattr(run, name)


def __getattr__(name: str) -> Any:
    if name in _FIELDS:
        return _field(name)
    raise AttributeError(
        f"legato.runtime.task_run has no attribute {name!r}; available: {', '.join(_FIELDS)}"
    )
