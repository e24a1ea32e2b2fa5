"""The Client seam: how the engine and the CLI reach the store.

Two implementations share this protocol: ``EmbeddedClient`` (a local SQLite
file, no server) and, later, ``HttpClient`` (a legato server). The engine only
ever calls ``record``; reads serve the CLI and users' code.

Rows come back as plain dicts whose keys are the column names of
``legato.storage.records`` (timestamps as timezone-aware UTC datetimes, JSON
columns decoded).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from legato.storage.records import RecordBatch

Row = dict[str, Any]


@runtime_checkable
class Client(Protocol):
    """What every client offers."""

    def record(self, batch: RecordBatch) -> None:
        """Write one batch of runs, states and logs in a single transaction."""

    def read_flows(
        self, *, name: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[Row]:
        """Flows, newest first; ``name`` filters by substring."""

    def read_flow_runs(
        self,
        *,
        flow_name: str | None = None,
        state_types: Sequence[str] | None = None,
        state_names: Sequence[str] | None = None,
        parent_flow_run_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Row]:
        """Flow runs, newest first, each with a ``flow_name`` key."""

    def read_flow_run(self, flow_run_id: str) -> Row:
        """One flow run (with ``flow_name``); raises ObjectNotFound."""

    def count_flow_runs(
        self, *, flow_name: str | None = None, state_types: Sequence[str] | None = None
    ) -> int:
        """How many flow runs match."""

    def read_task_runs(
        self,
        *,
        flow_run_id: str | None = None,
        name: str | None = None,
        state_types: Sequence[str] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Row]:
        """Task runs, newest first."""

    def read_task_run(self, task_run_id: str) -> Row:
        """One task run; raises ObjectNotFound."""

    def read_states(
        self, *, flow_run_id: str | None = None, task_run_id: str | None = None
    ) -> list[Row]:
        """The state history of one run, oldest first."""

    def read_logs(
        self,
        *,
        flow_run_id: str | None = None,
        task_run_id: str | None = None,
        after: float | None = None,
        limit: int = 1000,
    ) -> list[Row]:
        """Log rows, oldest first; ``after`` (POSIX seconds) for following."""

    def delete_flow_run(self, flow_run_id: str) -> None:
        """Delete a flow run with its task runs, states and logs; raises ObjectNotFound."""

    def save_block_document(
        self, block_type_slug: str, name: str, data: dict[str, Any], overwrite: bool = False
    ) -> None:
        """Save a block's data by type and name; ObjectAlreadyExists unless ``overwrite``."""

    def read_block_document(self, block_type_slug: str, name: str) -> dict[str, Any]:
        """The data saved as ``block_type_slug/name``; raises ObjectNotFound."""

    def close(self) -> None:
        """Release connections."""
