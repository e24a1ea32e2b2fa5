"""The current deployment (set in deployed runs; None otherwise)."""

from __future__ import annotations

from typing import Any

_FIELDS = ("flow_run_id", "id", "name", "parameters", "version")
__all__ = list(_FIELDS)


def __getattr__(name: str) -> Any:
    if name in _FIELDS:
        # Deployments arrive with the deployments issue; until then no run is deployed.
        return {} if name == "parameters" else None
    raise AttributeError(
        f"legato.runtime.deployment has no attribute {name!r}; available: {', '.join(_FIELDS)}"
    )
