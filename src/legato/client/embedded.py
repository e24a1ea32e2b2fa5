"""The embedded client: runs recorded straight into a local SQLite file.

``record`` (the recorder's batches) goes through one stdlib ``sqlite3``
connection guarded by a lock, so the recorder thread and the flow's thread can
share the client, and a flow run never imports SQLAlchemy. Everything else
calls the orchestration service (``legato.orchestration``) through a
``Store`` created on first use: the same functions, rules and transactions as
the REST server's handlers.

Methods have Prefect 3's names and return the API's objects
(``legato.client.schemas.objects``), which also read like storage rows
(``run["state_type"]``), as the CLI uses them.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from legato._types import UNSET, Unset
from legato.client._embedded_concurrency import EmbeddedConcurrencyMethods
from legato.client._embedded_deployments import DeploymentsMixin
from legato.client._embedded_flow_run_inputs import EmbeddedFlowRunInputs
from legato.client._embedded_work_pools import WorkPoolsMixin
from legato.client.base import Row
from legato.exceptions import ObjectAlreadyExists, ObjectNotFound, StorageError
from legato.storage import writes
from legato.storage.records import RecordBatch
from legato.storage.sqlite import open_database, run_write

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from legato.client import _arguments as args
    from legato.client.schemas import filters as f
    from legato.client.schemas.actions import LogCreate
    from legato.client.schemas.objects import (
        Artifact,
        DependencyResult,
        Flow,
        FlowRun,
        Log,
        OrchestrationResult,
        State,
        TaskRun,
        Variable,
    )
    from legato.client.schemas.sorting import FlowRunSort, FlowSort, LogSort, TaskRunSort
    from legato.orchestration.store import Store

__all__ = ["EmbeddedClient"]

T = TypeVar("T")


class EmbeddedClient(
    EmbeddedConcurrencyMethods, WorkPoolsMixin, DeploymentsMixin, EmbeddedFlowRunInputs
):
    """A ``Client`` over the SQLite file at ``database_path``.

    Opening creates the file (and its directory) if needed and brings the
    schema to head; it raises ConfigurationError or StorageError with the path
    and the fix when that is impossible.
    """

    def __init__(self, database_path: Path) -> None:
        self.database_path = Path(database_path)
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = open_database(self.database_path)
        self._store: Store | None = None

    def __repr__(self) -> str:
        return f"EmbeddedClient({str(self.database_path)!r})"

    def __enter__(self) -> EmbeddedClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- the recorder's path ----------------------------------------------------

    def record(self, batch: RecordBatch) -> None:
        """Write one batch of runs, states and logs in a single transaction."""
        if batch:
            self._write(lambda connection: writes.write_batch(connection, batch))

    def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            if self._connection is None:
                raise StorageError(f"{self!r} is closed; create a new client.")
            try:
                return work(self._connection)
            except sqlite3.Error as exc:
                raise StorageError(
                    f"Could not write to the legato database {str(self.database_path)!r}: {exc}"
                ) from exc

    def _write_sqlite(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work`` in one write transaction on this client's own ``sqlite3`` connection."""
        return self._write(lambda connection: run_write(connection, work))

    def api_healthcheck(self) -> Exception | None:
        """None when the database answers, else the error (Prefect's contract)."""
        try:
            self._read(lambda c: c.exec_driver_sql("SELECT 1").scalar())
        except Exception as exc:
            return exc
        return None

    # -- flows --------------------------------------------------------------------

    def create_flow(self, flow: Any) -> uuid.UUID:
        """The id of ``flow``'s flow (a ``@flow`` or a name), created if needed."""
        from legato.client import _arguments as args

        return self.create_flow_from_name(args.flow_name_of(flow))

    def create_flow_from_name(self, flow_name: str) -> uuid.UUID:
        """The id of the flow named ``flow_name``, created if needed."""
        from legato.orchestration import flows

        row, _ = self._read(lambda c: flows.get_or_create_flow(c, flow_name), write=True)
        return uuid.UUID(row["id"])

    def read_flow(self, flow_id: Any) -> Flow:
        """One flow; raises ObjectNotFound."""
        from legato.client import _arguments as args
        from legato.client.schemas.objects import Flow
        from legato.orchestration import flows

        row = self._read(lambda c: flows.read_flow(c, args.as_uuid(flow_id)))
        if row is None:
            raise _not_found("flow", flow_id)
        return Flow.from_row(row)

    def read_flow_by_name(self, flow_name: str) -> Flow:
        """One flow by name; raises ObjectNotFound."""
        from legato.client.schemas.objects import Flow
        from legato.orchestration import flows

        row = self._read(lambda c: flows.read_flow_by_name(c, flow_name))
        if row is None:
            raise ObjectNotFound(f"No flow named {flow_name!r} in this database.")
        return Flow.from_row(row)

    def read_flows(
        self,
        *,
        flow_filter: f.FlowFilter | Mapping[str, Any] | None = None,
        flow_run_filter: f.FlowRunFilter | Mapping[str, Any] | None = None,
        task_run_filter: f.TaskRunFilter | Mapping[str, Any] | None = None,
        sort: FlowSort | None = None,
        limit: int | None = None,
        offset: int = 0,
        name: str | None = None,
    ) -> list[Flow]:
        """Flows, newest first; ``name=`` is a shorthand for a substring filter."""
        from legato.client import _arguments as args
        from legato.client.schemas.objects import Flow
        from legato.orchestration import flows

        filters = args.flow_run_filters(
            args.flows_filter(flow_filter, name), flow_run_filter, task_run_filter
        )
        rows = self._filter(flows.filter_flows, filters, sort, limit, offset)
        return [Flow.from_row(row) for row in rows]

    def delete_flow(self, flow_id: Any) -> None:
        """Delete a flow with its runs; raises ObjectNotFound."""
        from legato.client import _arguments as args
        from legato.orchestration import flows

        if not self._read(lambda c: flows.delete_flow(c, args.as_uuid(flow_id)), write=True):
            raise _not_found("flow", flow_id)

    # -- flow runs ----------------------------------------------------------------

    def create_flow_run(
        self,
        flow: Any,
        name: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        tags: Iterable[str] | None = None,
        parent_task_run_id: Any = None,
        state: args.StateLike | None = None,
        work_pool_name: str | None = None,
        work_queue_name: str | None = None,
        job_variables: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> FlowRun:
        """Create a flow run of ``flow`` (a ``@flow`` or a name) in ``state`` (default PENDING)."""
        from legato.client import _arguments as args
        from legato.client.schemas.objects import FlowRun
        from legato.orchestration import flow_runs, flows

        def work(connection: Connection) -> Row:
            flow_row, _ = flows.get_or_create_flow(connection, args.flow_name_of(flow))
            body = args.flow_run_create(
                uuid.UUID(flow_row["id"]),
                flow=flow,
                name=name,
                parameters=parameters,
                context=context,
                tags=tags,
                parent_task_run_id=parent_task_run_id,
                state=state,
                work_pool_name=work_pool_name,
                work_queue_name=work_queue_name,
                job_variables=job_variables,
                idempotency_key=idempotency_key,
            )
            return flow_runs.create_flow_run(connection, body)

        return FlowRun.from_row(self._read(work, write=True))

    def read_flow_run(self, flow_run_id: Any) -> FlowRun:
        """One flow run (with ``flow_name``); raises ObjectNotFound."""
        from legato.client.schemas.objects import FlowRun
        from legato.orchestration import flow_runs

        return FlowRun.from_row(self._read_run("flow run", flow_run_id, flow_runs.read_flow_run))

    def read_flow_runs(
        self,
        *,
        flow_filter: f.FlowFilter | Mapping[str, Any] | None = None,
        flow_run_filter: f.FlowRunFilter | Mapping[str, Any] | None = None,
        task_run_filter: f.TaskRunFilter | Mapping[str, Any] | None = None,
        sort: FlowRunSort | None = None,
        limit: int | None = None,
        offset: int = 0,
        flow_name: str | None = None,
        state_types: Sequence[str] | None = None,
        state_names: Sequence[str] | None = None,
        parent_flow_run_id: Any = None,
    ) -> list[FlowRun]:
        """Flow runs, newest first unless ``sort`` says otherwise.

        ``flow_name`` (exact), ``state_types``, ``state_names`` and
        ``parent_flow_run_id`` are shorthands for the filters.
        """
        from legato.client import _arguments as args
        from legato.client.schemas.objects import FlowRun
        from legato.orchestration import flow_runs

        filters = args.flow_run_filters(
            flow_filter,
            flow_run_filter,
            task_run_filter,
            flow_name=flow_name,
            state_types=state_types,
            state_names=state_names,
            parent_flow_run_id=parent_flow_run_id,
        )
        rows = self._filter(flow_runs.filter_flow_runs, filters, sort, limit, offset)
        return [FlowRun.from_row(row) for row in rows]

    def count_flow_runs(
        self,
        *,
        flow_filter: f.FlowFilter | Mapping[str, Any] | None = None,
        flow_run_filter: f.FlowRunFilter | Mapping[str, Any] | None = None,
        task_run_filter: f.TaskRunFilter | Mapping[str, Any] | None = None,
        flow_name: str | None = None,
        state_types: Sequence[str] | None = None,
    ) -> int:
        """How many flow runs match."""
        from legato.client import _arguments as args
        from legato.orchestration import flow_runs

        filters = args.flow_run_filters(
            flow_filter,
            flow_run_filter,
            task_run_filter,
            flow_name=flow_name,
            state_types=state_types,
        )
        return self._count(flow_runs.count_flow_runs, filters)

    def update_flow_run(
        self,
        flow_run_id: Any,
        name: str | None = None,
        flow_version: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        tags: Iterable[str] | None = None,
        infrastructure_pid: str | None = None,
        job_variables: Mapping[str, Any] | None = None,
    ) -> None:
        """Change a flow run's name, version, parameters, tags, infrastructure pid or job
        variables; raises ObjectNotFound."""
        from legato.client.schemas.actions import FlowRunUpdate
        from legato.orchestration import flow_runs

        update = FlowRunUpdate(
            name=name,
            flow_version=flow_version,
            parameters=None if parameters is None else dict(parameters),
            tags=None if tags is None else list(tags),
            infrastructure_pid=infrastructure_pid,
            job_variables=None if job_variables is None else dict(job_variables),
        )
        self._change_run(
            "flow run", flow_run_id, lambda c, run_id: flow_runs.update_flow_run(c, run_id, update)
        )

    def delete_flow_run(self, flow_run_id: Any) -> None:
        """Delete a flow run with its task runs, states and logs; raises ObjectNotFound."""
        from legato.orchestration import flow_runs

        self._change_run("flow run", flow_run_id, flow_runs.delete_flow_run)

    def set_flow_run_state(
        self, flow_run_id: Any, state: args.StateLike, force: bool = False
    ) -> OrchestrationResult:
        """Propose a state for a flow run, through the transition rules."""
        return self._set_state("flow_run", flow_run_id, state, force)

    def read_flow_run_states(self, flow_run_id: Any) -> list[State]:
        """A flow run's state history, oldest first."""
        return self._read_states("flow_run", flow_run_id)

    def read_flow_run_graph(self, flow_run_id: Any) -> list[DependencyResult]:
        """A flow run's task runs with the task runs each one's inputs came from."""
        from legato.client import _arguments as args
        from legato.client.schemas.objects import DependencyResult, TaskRun
        from legato.orchestration import task_runs

        self.read_flow_run(flow_run_id)  # ObjectNotFound for an unknown run
        rows = self._read(lambda c: task_runs.read_flow_run_graph(c, args.as_uuid(flow_run_id)))
        return [DependencyResult.from_task_run(TaskRun.from_row(row)) for row in rows]

    # -- task runs ----------------------------------------------------------------

    def create_task_run(
        self,
        task: Any,
        flow_run_id: Any,
        dynamic_key: str,
        id: Any = None,
        name: str | None = None,
        extra_tags: Iterable[str] | None = None,
        state: args.StateLike | None = None,
        task_inputs: Mapping[str, Iterable[Any]] | None = None,
    ) -> TaskRun:
        """Create a task run of ``task`` (idempotent on flow run, task key and dynamic key)."""
        from legato.client import _arguments as args
        from legato.client.schemas.objects import TaskRun
        from legato.orchestration import task_runs

        body = args.task_run_create(
            task,
            flow_run_id,
            dynamic_key,
            id=id,
            name=name,
            extra_tags=extra_tags,
            state=state,
            task_inputs=task_inputs,
        )
        row, _ = self._read(lambda c: task_runs.create_task_run(c, body), write=True)
        return TaskRun.from_row(row)

    def read_task_run(self, task_run_id: Any) -> TaskRun:
        """One task run; raises ObjectNotFound."""
        from legato.client.schemas.objects import TaskRun
        from legato.orchestration import task_runs

        return TaskRun.from_row(self._read_run("task run", task_run_id, task_runs.read_task_run))

    def read_task_runs(
        self,
        *,
        flow_filter: f.FlowFilter | Mapping[str, Any] | None = None,
        flow_run_filter: f.FlowRunFilter | Mapping[str, Any] | None = None,
        task_run_filter: f.TaskRunFilter | Mapping[str, Any] | None = None,
        sort: TaskRunSort | None = None,
        limit: int | None = None,
        offset: int = 0,
        flow_run_id: Any = None,
        name: str | None = None,
        state_types: Sequence[str] | None = None,
    ) -> list[TaskRun]:
        """Task runs, newest first unless ``sort`` says otherwise.

        ``flow_run_id``, ``name`` (substring) and ``state_types`` are
        shorthands for the task run filter.
        """
        from legato.client import _arguments as args
        from legato.client.schemas.objects import TaskRun
        from legato.orchestration import task_runs

        filters = args.task_run_filters(
            flow_filter,
            flow_run_filter,
            task_run_filter,
            flow_run_id=flow_run_id,
            name=name,
            state_types=state_types,
        )
        rows = self._filter(task_runs.filter_task_runs, filters, sort, limit, offset)
        return [TaskRun.from_row(row) for row in rows]

    def count_task_runs(
        self,
        *,
        flow_filter: f.FlowFilter | Mapping[str, Any] | None = None,
        flow_run_filter: f.FlowRunFilter | Mapping[str, Any] | None = None,
        task_run_filter: f.TaskRunFilter | Mapping[str, Any] | None = None,
    ) -> int:
        """How many task runs match."""
        from legato.client import _arguments as args
        from legato.orchestration import task_runs

        filters = args.task_run_filters(flow_filter, flow_run_filter, task_run_filter)
        return self._count(task_runs.count_task_runs, filters)

    def set_task_run_state(
        self, task_run_id: Any, state: args.StateLike, force: bool = False
    ) -> OrchestrationResult:
        """Propose a state for a task run, through the transition rules."""
        return self._set_state("task_run", task_run_id, state, force)

    def read_task_run_states(self, task_run_id: Any) -> list[State]:
        """A task run's state history, oldest first."""
        return self._read_states("task_run", task_run_id)

    def delete_task_run(self, task_run_id: Any) -> None:
        """Delete a task run with its states and logs; raises ObjectNotFound."""
        from legato.orchestration import task_runs

        self._change_run("task run", task_run_id, task_runs.delete_task_run)

    def read_states(self, *, flow_run_id: Any = None, task_run_id: Any = None) -> list[State]:
        """The state history of one run, oldest first."""
        if flow_run_id is None and task_run_id is None:
            raise ValueError("read_states needs a flow_run_id or a task_run_id")
        if flow_run_id is not None:
            return self._read_states("flow_run", flow_run_id)
        return self._read_states("task_run", task_run_id)

    def _filter(
        self,
        query: Callable[..., Sequence[Row]],
        filters: args.RunFilters,
        sort: Any,
        limit: int | None,
        offset: int,
    ) -> Sequence[Row]:
        """Rows of a flow, flow run or task run read (100 unless ``limit`` says otherwise)."""
        flows, runs, tasks = filters
        return self._read(
            lambda c: query(
                c,
                flow_filter=flows,
                flow_run_filter=runs,
                task_run_filter=tasks,
                sort=sort,
                limit=100 if limit is None else limit,
                offset=offset,
            )
        )

    def _count(self, query: Callable[..., int], filters: args.RunFilters) -> int:
        flows, runs, tasks = filters
        return self._read(
            lambda c: query(c, flow_filter=flows, flow_run_filter=runs, task_run_filter=tasks)
        )

    def _read_run(
        self, kind: str, run_id: Any, query: Callable[[Connection, uuid.UUID], Row | None]
    ) -> Row:
        """One run's row; ObjectNotFound for an unknown id or text that is not one."""
        target = _id_or_none(run_id)
        row = None if target is None else self._read(lambda c: query(c, target))
        if row is None:
            raise _not_found(kind, run_id)
        return row

    def _change_run(
        self, kind: str, run_id: Any, work: Callable[[Connection, uuid.UUID], bool]
    ) -> None:
        """Update or delete one run in a write transaction; ObjectNotFound when nothing matched."""
        target = _id_or_none(run_id)
        if target is None or not self._read(lambda c: work(c, target), write=True):
            raise _not_found(kind, run_id)

    def _set_state(
        self, kind: str, run_id: Any, state: args.StateLike, force: bool
    ) -> OrchestrationResult:
        from legato.client.schemas.actions import StateCreate
        from legato.orchestration import states

        proposed = StateCreate.from_state(state)
        target = _id_or_none(run_id)
        if target is None:
            raise _not_found(kind.replace("_", " "), run_id)
        change = self._read(
            lambda c: states.set_run_state(c, kind, target, proposed, force=force),  # type: ignore[arg-type]
            write=True,
        )
        return states.orchestration_result(change)

    def _read_states(self, kind: str, run_id: Any) -> list[State]:
        from legato.client.schemas.objects import State
        from legato.orchestration import states

        target = _id_or_none(run_id)
        if target is None:
            return []
        rows = self._read(lambda c: states.read_run_states(c, kind, target))  # type: ignore[arg-type]
        return [State.from_row(row) for row in rows]

    # -- logs ---------------------------------------------------------------------

    def create_logs(self, logs: Iterable[LogCreate | Mapping[str, Any]]) -> None:
        """Write log lines for runs."""
        from legato.client import _arguments as args
        from legato.orchestration import logs as run_logs

        lines = args.log_creates(logs)
        if lines:
            self._read(lambda c: run_logs.create_logs(c, lines), write=True)

    def read_logs(
        self,
        log_filter: f.LogFilter | Mapping[str, Any] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        sort: LogSort | None = None,
        *,
        flow_run_id: Any = None,
        task_run_id: Any = None,
        after: float | None = None,
    ) -> list[Log]:
        """Log lines, oldest first; ``after`` (POSIX seconds, exclusive) to follow a run."""
        from legato.client import _arguments as args
        from legato.client.schemas.objects import Log
        from legato.orchestration import logs as run_logs

        log_filter = args.log_filter(
            log_filter, flow_run_id=flow_run_id, task_run_id=task_run_id, after=after
        )
        rows = self._read(
            lambda c: run_logs.filter_logs(
                c,
                log_filter=log_filter,
                sort=sort,
                limit=1000 if limit is None else limit,
                offset=offset or 0,
            )
        )
        return [Log.from_row(row) for row in rows]

    # -- saved blocks ---------------------------------------------------------

    def save_block_document(
        self, block_type_slug: str, name: str, data: dict[str, Any], overwrite: bool = False
    ) -> None:
        """Save ``data`` as ``block_type_slug/name``; ObjectAlreadyExists unless ``overwrite``."""
        from legato.storage.queries import blocks

        saved = self._read(
            lambda c: blocks.save_block_document(
                c, block_type_slug, name, data, overwrite=overwrite
            ),
            write=True,
        )
        if not saved:
            raise ObjectAlreadyExists(
                f"A {block_type_slug!r} block named {name!r} exists already. "
                "Pass overwrite=True to replace it, or choose another name."
            )

    def read_block_document(self, block_type_slug: str, name: str) -> dict[str, Any]:
        """The data saved as ``block_type_slug/name``; raises ObjectNotFound."""
        from legato.storage.queries import blocks

        row = self._read(lambda c: blocks.read_block_document(c, block_type_slug, name))
        if row is None:
            raise ObjectNotFound(
                f"No {block_type_slug!r} block named {name!r} in this database. "
                "Save one first (e.g. LocalFileSystem(basepath=...).save(name)), or check LEGATO_HOME."
            )
        data: dict[str, Any] = row["data"]
        return data

    def read_block_documents(self, block_type_slug: str | None = None) -> list[dict[str, Any]]:
        """Saved blocks (rows with block_type_slug, name, data), by type and name."""
        from legato.storage.queries import blocks

        return self._read(
            lambda c: blocks.read_block_documents(c, block_type_slug=block_type_slug, limit=10_000)
        )

    def delete_block_document(self, block_type_slug: str, name: str) -> None:
        """Delete a saved block; raises ObjectNotFound."""
        from legato.storage.queries import blocks

        if not self._read(
            lambda c: blocks.delete_block_document(c, block_type_slug, name), write=True
        ):
            raise ObjectNotFound(f"No {block_type_slug!r} block named {name!r} to delete.")

    # -- the store ------------------------------------------------------------

    def _read(self, query: Callable[[Connection], T], write: bool = False) -> T:
        """Run ``query`` on a connection; with ``write``, in one write transaction."""
        store = self._get_store()
        return store.write(query) if write else store.read(query)

    def _get_store(self) -> Store:
        with self._lock:
            if self._connection is None:
                raise StorageError(f"{self!r} is closed; create a new client.")
            if self._store is None:
                from legato.orchestration.store import Store  # SQLAlchemy: not on a run's path
                from legato.storage.engine import sqlite_url

                self._store = Store(sqlite_url(self.database_path), name=str(self.database_path))
            return self._store

    # -- lifecycle ----------------------------------------------------------

    def close(self) -> None:
        """Release the connection and the store's engines; idempotent."""
        with self._lock:
            connection, self._connection = self._connection, None
            store, self._store = self._store, None
        if connection is not None:
            connection.close()
        if store is not None:
            store.close()

    # -- artifacts and variables --

    def create_artifact(
        self,
        *,
        key: str | None = None,
        type: str,
        data: Any,
        description: str | None = None,
        flow_run_id: str | uuid.UUID | None = None,
        task_run_id: str | uuid.UUID | None = None,
        metadata: dict[str, str] | None = None,
    ) -> Artifact:
        """Store an artifact (a new version when ``key`` exists) and return it."""
        from legato.client.schemas.objects import Artifact
        from legato.orchestration import artifacts

        row = self._transaction(
            lambda c: artifacts.create_artifact(
                c,
                key=key,
                type=type,
                data=data,
                description=description,
                flow_run_id=flow_run_id,
                task_run_id=task_run_id,
                metadata=metadata,
            )
        )
        return Artifact.from_row(row)

    def update_artifact(
        self,
        artifact_id: str | uuid.UUID,
        *,
        data: Any | Unset = UNSET,
        description: str | None | Unset = UNSET,
    ) -> Artifact:
        """Change an artifact in place (progress); raises ObjectNotFound."""
        from legato.client.schemas.objects import Artifact
        from legato.orchestration import artifacts

        row = self._transaction(
            lambda c: artifacts.update_artifact(c, artifact_id, data=data, description=description)
        )
        if row is None:
            raise self._artifact_not_found(artifact_id)
        return Artifact.from_row(row)

    def read_artifact(self, artifact_id: str | uuid.UUID) -> Artifact:
        """One artifact (one version); raises ObjectNotFound."""
        from legato.client.schemas.objects import Artifact
        from legato.orchestration import artifacts

        row = self._read(lambda c: artifacts.read_artifact(c, artifact_id))
        if row is None:
            raise self._artifact_not_found(artifact_id)
        return Artifact.from_row(row)

    def read_latest_artifact(self, key: str) -> Artifact:
        """The newest version of ``key``; raises ObjectNotFound."""
        from legato.client.schemas.objects import Artifact
        from legato.orchestration import artifacts

        row = self._read(lambda c: artifacts.read_latest_artifact(c, key))
        if row is None:
            raise ObjectNotFound(
                f"No artifact with key {key!r} in this database. "
                "List keys with `legato artifact ls`, or check LEGATO_HOME."
            )
        return Artifact.from_row(row)

    def read_artifacts(
        self,
        *,
        key: str | None = None,
        type: str | None = None,
        flow_run_id: str | uuid.UUID | None = None,
        task_run_id: str | uuid.UUID | None = None,
        latest_only: bool = False,
        sort: str = "created_desc",
        limit: int = 100,
        offset: int = 0,
    ) -> list[Artifact]:
        """Artifacts matching every filter given; ``latest_only``: newest version per key."""
        from legato.client.schemas.objects import Artifact
        from legato.orchestration import artifacts

        rows = self._read(
            lambda c: artifacts.filter_artifacts(
                c,
                key=key,
                type=type,
                flow_run_id=flow_run_id,
                task_run_id=task_run_id,
                latest_only=latest_only,
                sort=sort,
                limit=limit,
                offset=offset,
            )
        )
        return [Artifact.from_row(row) for row in rows]

    def count_artifacts(
        self,
        *,
        key: str | None = None,
        type: str | None = None,
        flow_run_id: str | uuid.UUID | None = None,
        task_run_id: str | uuid.UUID | None = None,
        latest_only: bool = False,
    ) -> int:
        """How many artifacts ``read_artifacts`` would return without paging."""
        from legato.orchestration import artifacts

        return self._read(
            lambda c: artifacts.count_artifacts(
                c,
                key=key,
                type=type,
                flow_run_id=flow_run_id,
                task_run_id=task_run_id,
                latest_only=latest_only,
            )
        )

    def delete_artifact(self, artifact_id: str | uuid.UUID) -> None:
        """Delete one artifact (one version); raises ObjectNotFound."""
        from legato.orchestration import artifacts

        if not self._transaction(lambda c: artifacts.delete_artifact(c, artifact_id)):
            raise self._artifact_not_found(artifact_id)

    def create_variable(
        self, *, name: str, value: Any, tags: Sequence[str] | None = None
    ) -> Variable:
        """Store a new variable; raises ObjectAlreadyExists if the name is taken."""
        from legato.client.schemas.objects import Variable
        from legato.orchestration import variables

        row = self._transaction(
            lambda c: variables.create_variable(c, name=name, value=value, tags=tags)
        )
        return Variable.from_row(row)

    def read_variable_by_name(self, name: str) -> Variable | None:
        """The variable called ``name``, None if there is none."""
        from legato.client.schemas.objects import Variable
        from legato.orchestration import variables

        row = self._read(lambda c: variables.read_variable_by_name(c, name))
        return None if row is None else Variable.from_row(row)

    def read_variables(
        self,
        *,
        name_like: str | None = None,
        tags: Sequence[str] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Variable]:
        """Variables by name; ``name_like`` is a substring, ``tags`` must all be present."""
        from legato.client.schemas.objects import Variable
        from legato.orchestration import variables

        rows = self._read(
            lambda c: variables.filter_variables(
                c, name_like=name_like, tags=tags, limit=limit, offset=offset
            )
        )
        return [Variable.from_row(row) for row in rows]

    def update_variable(
        self,
        name: str,
        *,
        value: Any | Unset = UNSET,
        tags: Sequence[str] | None | Unset = UNSET,
    ) -> Variable:
        """Change a variable's value and/or tags; raises ObjectNotFound."""
        from legato.client.schemas.objects import Variable
        from legato.orchestration import variables

        row = self._transaction(
            lambda c: variables.update_variable(c, name, value=value, tags=tags)
        )
        if row is None:
            raise self._variable_not_found(name)
        return Variable.from_row(row)

    def set_variable(
        self, name: str, value: Any, *, tags: Sequence[str] | None = None, overwrite: bool = False
    ) -> Variable:
        """Create or, with ``overwrite``, replace a variable (value and tags) in one transaction."""
        from legato.client.schemas.objects import Variable
        from legato.orchestration import variables

        def work(connection: Connection) -> Row:
            if overwrite:
                row = variables.update_variable(connection, name, value=value, tags=tags)
                if row is not None:
                    return row
            return variables.create_variable(connection, name=name, value=value, tags=tags)

        return Variable.from_row(self._transaction(work))

    def delete_variable_by_name(self, name: str) -> None:
        """Delete a variable; raises ObjectNotFound."""
        from legato.orchestration import variables

        if not self._transaction(lambda c: variables.delete_variable(c, name)):
            raise self._variable_not_found(name)

    def _transaction(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one write transaction that holds the write lock from its start.

        (``Store.write``: ``BEGIN IMMEDIATE`` on SQLite. ``set_variable`` reads
        before it writes; a deferred transaction could then fail at once with
        "database is locked" when the recorder wrote in between.)
        """
        return self._read(work, write=True)

    @staticmethod
    def _artifact_not_found(artifact_id: str | uuid.UUID) -> ObjectNotFound:
        return ObjectNotFound(
            f"No artifact with id {str(artifact_id)!r} in this database. "
            "List artifacts with `legato artifact ls --all-versions`, or check LEGATO_HOME."
        )

    @staticmethod
    def _variable_not_found(name: str) -> ObjectNotFound:
        return ObjectNotFound(
            f"No variable named {name!r} in this database. "
            "List variables with `legato variable ls`, or check LEGATO_HOME."
        )


def _not_found(kind: str, object_id: Any) -> ObjectNotFound:
    return ObjectNotFound(
        f"No {kind} with id {str(object_id)!r} in this database. Check the id, or LEGATO_HOME."
    )


def _id_or_none(value: Any) -> uuid.UUID | None:
    """An id as a UUID; None for text that is not one (it then names nothing)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        return None
