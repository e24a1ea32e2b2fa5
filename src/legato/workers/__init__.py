"""Workers: poll a work pool and launch its scheduled flow runs.

``get_worker_class("process")`` gives the worker class of a type. Built in:
``process`` (``legato.workers.process.ProcessWorker``). Other types come
from packages that declare an entry point in the ``legato.workers`` group
(``docker = "legato_docker:DockerWorker"``), or from ``register_worker_type``.
Nothing is imported here until a worker class is asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from legato.exceptions import ConfigurationError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from legato.workers.base import BaseWorker

__all__ = ["get_worker_class", "register_worker_type", "worker_types"]

ENTRY_POINT_GROUP = "legato.workers"

_BUILT_IN = {"process": "legato.workers.process:ProcessWorker"}
_registered: dict[str, type[BaseWorker]] = {}


def register_worker_type(worker_class: type[BaseWorker]) -> type[BaseWorker]:
    """Make ``worker_class`` available under its ``type`` (usable as a class decorator)."""
    _registered[worker_class.type] = worker_class
    return worker_class


def worker_types() -> list[str]:
    """Every worker type that can be started: built in, registered or installed."""
    return sorted({*_BUILT_IN, *_registered, *(entry.name for entry in _entry_points())})


def get_worker_class(worker_type: str) -> type[BaseWorker]:
    """The worker class of ``worker_type``; ConfigurationError naming the types there are."""
    if worker_type in _registered:
        return _registered[worker_type]
    target = _BUILT_IN.get(worker_type)
    if target is None:
        entry = next((entry for entry in _entry_points() if entry.name == worker_type), None)
        if entry is None:
            raise ConfigurationError(
                f"No worker type {worker_type!r}. Available: {', '.join(worker_types())}. "
                "Other types come from packages that declare a 'legato.workers' entry point."
            )
        target = entry.value
    module_name, _, attribute = target.partition(":")
    worker_class: type[BaseWorker] = getattr(importlib.import_module(module_name), attribute)
    return worker_class


def _entry_points() -> list[EntryPoint]:
    from importlib.metadata import entry_points

    return list(entry_points(group=ENTRY_POINT_GROUP))
