"""The Client seam: how the engine, the CLI and users reach the store.

Two homes, one contract (tests/client runs the same suite on both):

- ``EmbeddedClient``: a local SQLite file, no server (the default);
- ``SyncHttpClient``: a legato server (``LEGATO_API_URL``).

and their asynchronous twins, ``AsyncEmbeddedClient`` and
``AsyncHttpClient`` (``AsyncClient``), with the same methods as coroutines.
The engine only ever calls ``record`` (through the recorder). Reads return
the API's objects (``legato.client.schemas.objects``: ``FlowRun``,
``TaskRun``, ``State``, ``Log``...), which also read like storage rows
(``run["flow_name"]``, ``dict(run)``): the keys are the column names of
``legato.storage.records``, timestamps timezone-aware UTC datetimes, JSON
columns decoded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from legato.storage.records import RecordBatch

if TYPE_CHECKING:
    from legato.client.schemas.objects import FlowRun

__all__ = ["AsyncClient", "Client", "Row"]

# A row: column name -> value (the objects the clients return are such mappings).
Row = Mapping[str, Any]


@runtime_checkable
class Client(Protocol):
    """What every synchronous client offers to the engine and the CLI.

    The full method list (Prefect 3's names: ``create_flow_run``,
    ``set_flow_run_state``, ``read_logs``...) is in docs/client.md; this
    protocol names the part the recorder and the CLI rely on, with the
    objects seen as rows (the clients return ``FlowRun``, ``Log``... which
    are such mappings).
    """

    def record(self, batch: RecordBatch) -> None:
        """Write one batch of runs, states and logs in a single transaction."""

    def read_flows(self, *, limit: int | None = None, offset: int = 0) -> Sequence[Row]:
        """Flows, newest first."""

    def read_flow_runs(
        self,
        *,
        limit: int | None = None,
        offset: int = 0,
        flow_name: str | None = None,
        state_types: Sequence[str] | None = None,
        state_names: Sequence[str] | None = None,
        parent_flow_run_id: Any = None,
    ) -> Sequence[Row]:
        """Flow runs, newest first, each with a ``flow_name``."""

    def read_flow_run(self, flow_run_id: Any) -> Row:
        """One flow run; raises ObjectNotFound."""

    def count_flow_runs(
        self, *, flow_name: str | None = None, state_types: Sequence[str] | None = None
    ) -> int:
        """How many flow runs match."""

    def read_task_runs(
        self,
        *,
        limit: int | None = None,
        offset: int = 0,
        flow_run_id: Any = None,
        name: str | None = None,
        state_types: Sequence[str] | None = None,
    ) -> Sequence[Row]:
        """Task runs, newest first."""

    def read_task_run(self, task_run_id: Any) -> Row:
        """One task run; raises ObjectNotFound."""

    def read_states(self, *, flow_run_id: Any = None, task_run_id: Any = None) -> Sequence[Row]:
        """The state history of one run, oldest first."""

    def read_logs(
        self,
        *,
        limit: int | None = None,
        flow_run_id: Any = None,
        task_run_id: Any = None,
        after: float | None = None,
    ) -> Sequence[Row]:
        """Log lines, oldest first; ``after`` (POSIX seconds, exclusive) for following."""

    def delete_flow_run(self, flow_run_id: Any) -> None:
        """Delete a flow run with its task runs, states and logs; raises ObjectNotFound."""

    def close(self) -> None:
        """Release connections."""


@runtime_checkable
class AsyncClient(Protocol):
    """What every asynchronous client offers: the same methods, as coroutines."""

    async def record(self, batch: RecordBatch) -> None:
        """Write one batch of runs, states and logs in a single transaction."""

    async def read_flow_run(self, flow_run_id: Any) -> FlowRun:
        """One flow run; raises ObjectNotFound."""

    async def read_flow_runs(self, **filters: Any) -> Sequence[FlowRun]:
        """Flow runs, newest first."""

    async def aclose(self) -> None:
        """Release connections."""
