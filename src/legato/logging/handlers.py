"""Logging handlers: record run logs in the store; format them on the console."""

from __future__ import annotations

import logging
from typing import Any

from legato.engine.ids import new_id_str
from legato.engine.recorder import get_recorder


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


class RunLogRecorder(logging.Handler):
    """Sends every record that belongs to a run to that run's recorder."""

    def emit(self, record: logging.LogRecord) -> None:
        attributes = record.__dict__
        flow_run_id = attributes.get("flow_run_id")
        task_run_id = attributes.get("task_run_id")
        if flow_run_id is None and task_run_id is None:
            return
        try:
            message = record.getMessage()
            if record.exc_info:
                message = f"{message}\n{_formatter.formatException(record.exc_info)}"
            recorder = attributes.get("legato_recorder") or get_recorder()
            recorder.log(
                (
                    new_id_str(),
                    _optional_str(flow_run_id),
                    _optional_str(task_run_id),
                    record.name,
                    record.levelno,
                    message,
                    record.created,
                )
            )
        except Exception:
            self.handleError(record)


_formatter = logging.Formatter()


class ConsoleFormatter(logging.Formatter):
    """``12:00:00.123 | INFO    | Flow run 'brave-otter' - message``."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s.%(msecs)03d | %(levelname)-7s | %(run_prefix)s%(message)s", "%H:%M:%S"
        )

    def format(self, record: logging.LogRecord) -> str:
        attributes = record.__dict__
        task_run_name = attributes.get("task_run_name")
        if task_run_name is not None:
            record.run_prefix = f"Task run {task_run_name!r} - "
        else:
            flow_run_name = attributes.get("flow_run_name")
            if flow_run_name is not None:
                record.run_prefix = f"Flow run {flow_run_name!r} - "
            else:
                record.run_prefix = f"{record.name} - "
        return super().format(record)
