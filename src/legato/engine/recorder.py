"""The recorder: keeps run changes in memory and writes them in batches.

The hot path only appends to in-memory containers under a short lock. A daemon
thread writes one batch per ``flush_interval_seconds`` (or sooner when a batch
fills up); the engine calls ``flush()`` before a flow run reports its final
state, and an ``atexit`` hook flushes whatever is left. A batch that fails to
write is kept and tried again, so nothing recorded is dropped silently.
"""

from __future__ import annotations

import atexit
import dataclasses
import datetime
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterable
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from legato.storage.records import FlowRunRow, LogRow, RecordBatch, StateRow, TaskRunRow

if TYPE_CHECKING:
    from legato.client.base import Client
    from legato.engine.runs import FlowRun, TaskRun
    from legato.states import State

logger = logging.getLogger(__name__)

# A pending state: (state, flow run, task run) with one of the runs set.
_PendingState = tuple["State", "FlowRun | None", "TaskRun | None"]


class Recorder:
    """Collects run changes and writes them to a client in batches."""

    def __init__(self, client: Client, flush_interval_seconds: float, max_batch_size: int) -> None:
        self._client = client
        self._interval = flush_interval_seconds
        self._max_batch = max_batch_size
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._known_flows: set[uuid.UUID] = set()
        self._reset_pending()
        self._failed_batch: RecordBatch | None = None

    def _reset_pending(self) -> None:
        self._flows: list[tuple[str, str]] = []
        # Keyed by the run object itself: identity hashing is a C call, where
        # uuid.UUID.__hash__ is Python code.
        self._flow_runs: dict[FlowRun, FlowRun] = {}
        self._task_runs: dict[TaskRun, TaskRun] = {}
        self._states: list[_PendingState] = []
        self._raw_states: list[StateRow] = []
        self._logs: list[LogRow] = []

    @property
    def client(self) -> Client:
        return self._client

    # -- hot path -----------------------------------------------------------
    def flow_state(self, flow_run: FlowRun) -> None:
        """Record ``flow_run``'s current state (and the run itself)."""
        with self._lock:
            if flow_run.flow_id not in self._known_flows:
                self._known_flows.add(flow_run.flow_id)
                self._flows.append((str(flow_run.flow_id), flow_run.flow_name))
            self._flow_runs[flow_run] = flow_run
            self._states.append((flow_run.state, flow_run, None))
            size = len(self._states)
        self._after_add(size)

    def task_state(self, task_run: TaskRun) -> None:
        """Record ``task_run``'s current state (and the run itself)."""
        with self._lock:
            self._task_runs[task_run] = task_run
            self._states.append((task_run.state, None, task_run))
            size = len(self._states)
        self._after_add(size)

    def merge(self, task_run: TaskRun, states: list[StateRow], logs: list[LogRow]) -> None:
        """Record a run's states and logs that another process collected."""
        with self._lock:
            self._task_runs[task_run] = task_run
            self._raw_states.extend(states)
            self._logs.extend(logs)
            size = len(self._raw_states)
        self._after_add(size)

    def log(self, row: LogRow) -> None:
        """Record one run log line."""
        with self._lock:
            self._logs.append(row)
            size = len(self._logs)
        self._after_add(size)

    def _after_add(self, size: int) -> None:
        if self._thread is None:
            self._start_thread()
        if size >= self._max_batch:
            if size >= 2 * self._max_batch:
                # Backpressure: runs are being recorded faster than they are
                # written; the producer writes a batch itself so memory stays
                # bounded (at most about two batches wait in memory).
                self.flush()
            elif not self._wake.is_set():
                self._wake.set()

    # -- writing ------------------------------------------------------------
    def flush(self) -> None:
        """Write everything recorded so far; returns when it is on disk."""
        with self._write_lock:
            batch = self._take_batch()
            if not batch:
                return
            try:
                self._client.record(batch)
            except Exception as exc:
                if not _is_permanent(exc):
                    raise  # kept in _failed_batch and retried with the next batch
                # Retrying a batch the store refuses outright would block every later write.
                self._failed_batch = None
                logger.error(
                    "legato dropped a batch of run records the store refused (%d runs, %d states, %d logs): %s",
                    len(batch.flow_runs) + len(batch.task_runs),
                    len(batch.states),
                    len(batch.logs),
                    exc,
                )
                raise
            self._failed_batch = None

    def _take_batch(self) -> RecordBatch:
        with self._lock:
            flows, flow_runs, task_runs = self._flows, self._flow_runs, self._task_runs
            states, raw_states, logs = self._states, self._raw_states, self._logs
            self._reset_pending()
        batch = self._failed_batch or RecordBatch()
        updated = time.time()  # every run row of the batch gets the same
        batch.flows.extend(flows)
        batch.flow_runs.extend([_flow_run_row(run, updated) for run in flow_runs.values()])
        batch.task_runs.extend(_task_run_rows(task_runs.values(), updated))
        batch.states.extend(_state_rows(states))
        batch.states.extend(raw_states)
        batch.logs.extend(logs)
        # Kept until written: a failed write is retried with the next batch.
        self._failed_batch = batch
        return batch

    def _start_thread(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._loop, name="legato-recorder", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        failures = 0
        while not self._stopped:
            self._wake.wait(self._interval)
            self._wake.clear()
            try:
                self.flush()
                failures = 0
            except Exception:
                failures += 1
                if failures == 1 or failures % 100 == 0:
                    logger.exception(
                        "legato could not write run records (attempt %d); will retry", failures
                    )

    def close(self) -> None:
        """Flush, stop the thread and close the client."""
        self._stopped = True
        self._wake.set()
        try:
            self.flush()
        finally:
            if self._thread is not None and self._thread is not threading.current_thread():
                self._thread.join(timeout=5)
            self._client.close()


def _is_permanent(exc: BaseException) -> bool:
    """True for errors that the same batch would hit again (bad rows, not a busy store)."""
    cause: BaseException | None = exc
    while cause is not None:
        if type(cause).__name__ in ("IntegrityError", "DataError", "ProgrammingError"):
            return True
        cause = cause.__cause__
    return False


# -- rows ------------------------------------------------------------------


def _json(value: Any) -> str:
    return json.dumps(value, default=_json_fallback)


def _json_fallback(value: Any) -> Any:
    """JSON for values json cannot encode: models, enums, dates, ids; repr() otherwise."""
    if isinstance(value, uuid.UUID | Path | Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        try:
            return model_dump(mode="json")
        except Exception:
            return repr(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return repr(value)


def _optional_id(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def _flow_run_row(run: FlowRun, updated: float) -> FlowRunRow:
    """A flow run as a row of ``FLOW_RUN_FIELDS``; ``updated`` is the flush time."""
    state = run.state
    return (
        run.id_text,
        str(run.flow_id),
        run.name,
        run.flow_version,
        _json(run.parameters) if run.parameters else "{}",
        _json(run.tags) if run.tags else "[]",
        run.run_count,
        _optional_id(run.parent_flow_run_id),
        _optional_id(run.parent_task_run_id),
        state.type._value_,
        state.name,
        state.message,
        state.timestamp_seconds,
        run._expected_start_time,
        run._start_time,
        run._end_time,
        run.total_run_time,
        run.created,
        updated,
    )


def _task_run_rows(runs: Iterable[TaskRun], updated: float) -> list[TaskRunRow]:
    """Task runs as rows of ``TASK_RUN_FIELDS``; ``updated`` is the flush time.

    The task runs of a flow run hold the same id object, its ``id``: its text
    is made again only when that object changes from one row to the next.
    """
    rows: list[TaskRunRow] = []
    append = rows.append
    flow_run_id: uuid.UUID | None = None
    flow_run_text: str | None = None
    for run in runs:
        if run.flow_run_id is not flow_run_id:
            flow_run_id = run.flow_run_id
            flow_run_text = _optional_id(flow_run_id)
        append(_task_run_row(run, flow_run_text, updated))
    return rows


def _task_run_row(run: TaskRun, flow_run_id: str | None, updated: float) -> TaskRunRow:
    """A task run as a row of ``TASK_RUN_FIELDS``; ``flow_run_id`` is the id's text."""
    state = run.state
    inputs = run.task_inputs
    return (
        run.id_text,
        flow_run_id,
        run.name,
        run.task_key,
        run.dynamic_key,
        run.task_version,
        run.cache_key,
        _json(run.tags) if run.tags else "[]",
        _json(
            {
                name: [{"input_type": "task_run", "id": str(upstream)} for upstream in ids]
                for name, ids in inputs.items()
            }
        )
        if inputs
        else "{}",
        run.run_count,
        state.type._value_,
        state.name,
        state.message,
        state.timestamp_seconds,
        run._expected_start_time,
        run._start_time,
        run._end_time,
        run.total_run_time,
        run.created,
        updated,
    )


def _state_rows(pending: list[_PendingState]) -> list[StateRow]:
    """Rows of ``StateRow`` for the pending states, in the order they happened."""
    if not pending:
        return []
    return [
        (
            id_,
            None if flow_run is None else flow_run.id_text,
            None if task_run is None else task_run.id_text,
            state.type._value_,
            state.name,
            state.message,
            state.timestamp_seconds,
            None if state.result_ref is None else _json(state.result_ref),
        )
        for id_, (state, flow_run, task_run) in zip(_new_ids(len(pending)), pending, strict=True)
    ]


# A counter starts below 2**47, so it cannot overflow its 48 bits in a batch.
_COUNTER_START_MASK = (1 << 47) - 1


def _new_ids(count: int) -> list[str]:
    """``count`` new ids in the UUIDv7 layout, increasing, made at once.

    The current millisecond and 26 random bits, then a 48-bit counter from a
    random start (RFC 9562, 6.2, "fixed bit-length dedicated counter"). They
    sort in the order they are made (the order the states happened), so the
    states' id index only appends; they cost one ``os.urandom`` a batch and one
    format an id, where ``new_id_str`` costs about three times as much.
    """
    milliseconds = time.time_ns() // 1_000_000
    bits = int.from_bytes(os.urandom(10), "big")  # 80: 12 + 14 + 47 used, the rest spare
    counter = bits & _COUNTER_START_MASK
    prefix = (
        f"{milliseconds >> 16 & 0xFFFFFFFF:08x}-{milliseconds & 0xFFFF:04x}-"
        f"7{bits >> 68:03x}-{0x8000 | (bits >> 47 & 0x3FFF):04x}-"
    )
    return [f"{prefix}{number:012x}" for number in range(counter, counter + count)]


# -- the process's recorders -------------------------------------------------

# One recorder per store: the API URL when a server records, else the SQLite file.
_recorders: dict[str | Path, Recorder] = {}
_recorders_lock = threading.Lock()


def get_recorder() -> Recorder:
    """The recorder for the current settings' store, opened on first use.

    With ``LEGATO_API_URL`` set, runs are recorded through that server (the
    HTTP client sends each batch in one request); otherwise into the
    embedded SQLite file.
    """
    from legato.settings import get_current_settings

    settings = get_current_settings()
    last = _last_lookup
    if last is not None and last[0] is settings and last[1]._stopped is False:
        return last[1]
    key: str | Path = settings.api.url or settings.database_path
    recorder = _recorders.get(key)
    if recorder is not None:
        _remember(settings, recorder)
        return recorder
    with _recorders_lock:
        recorder = _recorders.get(key)
        if recorder is None:
            recorder = Recorder(
                _open_client(settings),
                settings.recorder.flush_interval_seconds,
                settings.recorder.max_batch_size,
            )
            _recorders[key] = recorder
    _remember(settings, recorder)
    return recorder


_last_lookup: tuple[Any, Recorder] | None = None


def _remember(settings: Any, recorder: Recorder) -> None:
    global _last_lookup
    _last_lookup = (settings, recorder)


def _open_client(settings: Any) -> Client:
    """The server's client when ``api.url`` is set, else the embedded one.

    For a server, batches go through ``http.client`` and httpx loads only when
    something other than a batch is asked (``legato.client.records_sender``).
    """
    if settings.api.url:
        from legato.client.records_sender import ServerRecordingClient

        return cast(
            "Client", ServerRecordingClient(settings.api.url, auth_string=settings.api.auth_string)
        )
    from legato.client.embedded import EmbeddedClient

    return EmbeddedClient(settings.database_path)


def flush_all() -> None:
    """Write every recorder's pending records (used at exit and by tests)."""
    for recorder in list(_recorders.values()):
        try:
            recorder.flush()
        except Exception:
            logger.exception("legato could not write run records at exit")


def close_all() -> None:
    """Flush and close every recorder."""
    global _last_lookup
    with _recorders_lock:
        recorders = list(_recorders.values())
        _recorders.clear()
        _last_lookup = None
    for recorder in recorders:
        try:
            recorder.close()
        except Exception:
            logger.exception("legato could not write run records while closing")


def _forget_after_fork() -> None:
    # A forked child must not reuse the parent's connections, locks or thread.
    global _last_lookup
    _recorders.clear()
    _last_lookup = None


atexit.register(flush_all)
os.register_at_fork(after_in_child=_forget_after_fork)
