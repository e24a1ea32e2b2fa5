"""The API's objects, request bodies, filters and sorts (``prefect.client.schemas``).

Pydantic models; importing them does not load SQLAlchemy, httpx or FastAPI.
"""

from __future__ import annotations

from legato.client.schemas.objects import (
    Flow,
    FlowRun,
    Log,
    OrchestrationResult,
    SetStateStatus,
    State,
    StateDetails,
    StateType,
    TaskRun,
)

__all__ = [
    "Flow",
    "FlowRun",
    "Log",
    "OrchestrationResult",
    "SetStateStatus",
    "State",
    "StateDetails",
    "StateType",
    "TaskRun",
]
