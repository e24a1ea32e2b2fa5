"""Flow run inputs (Prefect 3's ``FlowRunInput``) and the bodies that create them or resume a run.

Re-exported from ``objects`` (``FlowRunInput``) and ``actions``
(``FlowRunInputCreate``, ``ResumeFlowRun``): import them from there.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from legato.client.schemas._base import LegatoBaseModel, ObjectBaseModel, Row

__all__ = ["FlowRunInput", "FlowRunInputCreate", "ResumeFlowRun"]


class FlowRunInput(ObjectBaseModel):
    """A JSON value sent to a flow run under a key (unique per flow run)."""

    flow_run_id: uuid.UUID
    key: str
    value: Any = None
    sender: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> FlowRunInput:
        """A ``flow_run_inputs`` row."""
        return cls(**{name: row[name] for name in _COLUMNS})

    def as_row(self) -> Row:
        row = self.model_dump(mode="python")
        row["id"], row["flow_run_id"] = str(self.id), str(self.flow_run_id)
        return {name: row[name] for name in _COLUMNS}


_COLUMNS = ("id", "flow_run_id", "key", "value", "sender", "created", "updated")


class FlowRunInputCreate(LegatoBaseModel):
    """``POST /api/flow_runs/{id}/input``: a value under a key, and who sent it."""

    key: str = Field(min_length=1, max_length=255)
    value: Any = None
    sender: str | None = Field(default=None, max_length=255)


class ResumeFlowRun(LegatoBaseModel):
    """``POST /api/flow_runs/{id}/resume``: the input a run paused with wait_for_input expects."""

    run_input: dict[str, Any] | None = None
