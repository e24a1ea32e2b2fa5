"""The current deployment (set in deployed runs; None otherwise).

A worker's flow process (``python -m legato.engine.deployed_run``) runs one
deployed flow run; it sets these values before the flow starts.
"""

from __future__ import annotations

from typing import Any

_FIELDS = ("flow_run_id", "id", "name", "parameters", "version")
__all__ = list(_FIELDS)

_current: dict[str, Any] = {}


def _set_current(values: dict[str, Any]) -> None:
    """Set the deployment of this process's deployed run (the engine's; not public)."""
    _current.clear()
    _current.update({name: values.get(name) for name in _FIELDS})


def __getattr__(name: str) -> Any:
    if name in _FIELDS:
        value = _current.get(name)
        if name == "parameters":
            return dict(value or {})
        return value
    raise AttributeError(
        f"legato.runtime.deployment has no attribute {name!r}; available: {', '.join(_FIELDS)}"
    )
