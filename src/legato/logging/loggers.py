"""Loggers bound to runs, and the ``print`` hook behind ``log_prints``."""

from __future__ import annotations

import builtins
import logging
import sys
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from legato.engine.context import flow_run_context, task_run_context
from legato.exceptions import MissingContextError

if TYPE_CHECKING:
    from legato.engine.context import FlowRunContext, TaskRunContext

flow_run_logger = logging.getLogger("legato.flow_runs")
task_run_logger = logging.getLogger("legato.task_runs")


class LoggingAdapter(logging.LoggerAdapter):  # type: ignore[type-arg]
    """A logger adapter that merges run fields into each record's ``extra``."""

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        extra = kwargs.get("extra")
        kwargs["extra"] = {**(self.extra or {}), **extra} if extra else self.extra
        return msg, kwargs

    def getChild(self, suffix: str) -> LoggingAdapter:
        return LoggingAdapter(self.logger.getChild(suffix), self.extra)


def get_logger(name: str | None = None) -> logging.Logger:
    """A logger under the ``legato`` namespace (``legato.<name>``)."""
    if not name:
        return logging.getLogger("legato")
    if name == "legato" or name.startswith("legato."):
        return logging.getLogger(name)
    return logging.getLogger(f"legato.{name}")


def flow_run_extra(context: FlowRunContext) -> dict[str, Any]:
    """Record fields for a flow run."""
    run = context.flow_run
    return {
        "flow_run_id": run.id,
        "flow_run_name": run.name,
        "flow_name": run.flow_name,
        "legato_recorder": context.recorder,
    }


def task_run_extra(context: TaskRunContext, flow_context: FlowRunContext | None) -> dict[str, Any]:
    """Record fields for a task run (and its flow run, if any)."""
    run = context.task_run
    extra: dict[str, Any] = {
        "task_run_id": run.id,
        "task_run_name": run.name,
        "task_name": run.task_name,
        "flow_run_id": run.flow_run_id,
        "legato_recorder": context.recorder,
    }
    if flow_context is not None:
        extra["flow_run_name"] = flow_context.flow_run.name
        extra["flow_name"] = flow_context.flow_run.flow_name
    return extra


def get_run_logger(**extra: Any) -> LoggingAdapter:
    """The logger of the current flow or task run.

    Records carry the run's ids and names, are shown on the console and are
    recorded with the run. Raises ``MissingContextError`` outside of a run.
    """
    task_context = task_run_context.get()
    flow_context = flow_run_context.get()
    if task_context is not None:
        fields = task_run_extra(task_context, flow_context)
        return LoggingAdapter(task_run_logger, {**fields, **extra})
    if flow_context is not None:
        return LoggingAdapter(flow_run_logger, {**flow_run_extra(flow_context), **extra})
    raise MissingContextError(
        "get_run_logger() was called outside of a flow or task run, so there is no run "
        "to attach the logs to. Call it inside a function decorated with @flow or @task, "
        "or use legato.logging.get_logger(name) for logs that belong to no run."
    )


# -- log_prints ----------------------------------------------------------------

_original_print = builtins.print
_print_hook_installed = False


def _printing_logger() -> LoggingAdapter | None:
    task_context = task_run_context.get()
    if task_context is not None:
        return get_run_logger() if task_context.log_prints else None
    flow_context = flow_run_context.get()
    if flow_context is not None and flow_context.log_prints:
        return get_run_logger()
    return None


def _print(
    *values: object,
    sep: str | None = " ",
    end: str | None = "\n",
    file: Any = None,
    flush: bool = False,
) -> None:
    if file is None or file is sys.stdout:
        run_logger = _printing_logger()
        if run_logger is not None:
            run_logger.info((" " if sep is None else sep).join(str(value) for value in values))
            return
    _original_print(*values, sep=sep, end=end, file=file, flush=flush)


def install_print_hook() -> None:
    """Route ``print()`` inside runs with ``log_prints=True`` to the run logger.

    Installed once per process; outside such runs it calls the built-in print.
    """
    global _print_hook_installed
    if not _print_hook_installed:
        builtins.print = _print
        _print_hook_installed = True
