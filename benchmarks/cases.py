"""Benchmark case registry.

A case is one small *measure* function that runs inside a fresh child process
(after the engine has been chosen through ``BENCH_ENGINE``), plus the metadata
the driver needs, given to the :func:`case` decorator. Adding a case::

    @case(
        "my_case",
        "what it measures, in one line",
        n=(10_000, 200),  # default N for legato, for Prefect (None: skip Prefect)
        target=Target(80, "us/item"),  # legato's own target, optional
    )
    def my_case(n: int) -> Sample:
        w = workloads()
        recorded_run(w.my_flow, 5, flows=1, tasks=5)  # warm-up, not timed
        timing, result = recorded_run(w.my_flow, n, flows=1, tasks=n)
        check(result == n, result)
        return timing.sample(n)

and, if it needs new user code, a flow in ``workloads.py``. ``kind=Kind.RATE``
reports N operations done in ``Sample.seconds`` per second (higher is better);
``rate_per_minute=True`` makes N of a rate case a count of operations (not
seconds) and shows the rate per minute;
``metrics=(Metric(...),)`` adds a table row for a value of ``Sample.extra``
(e.g. the server RSS of the server cases); ``database=Database.POSTGRESQL``
has the driver give the child a new PostgreSQL database in
``BENCH_DATABASE_URL``. ``recorded_run``
times the call's return and the arrival of its ``flows``/``tasks`` run records
in the engine's database; the child may call the function several times
(``--repeat``) and reports the median.

This module is imported by the driver (any Python) and by the children (the
legato and Prefect virtualenvs), so it only imports the standard library at
module level; the engine is imported lazily through :func:`workloads`.
"""

from __future__ import annotations

import importlib
import os
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:
    from records import RecordWatch

T = TypeVar("T")


class Kind(StrEnum):
    """How a case's result is reported."""

    PER_ITEM = "per_item"  # total seconds for N items; compared per item (µs)
    TOTAL = "total"  # one measurement in seconds (N is 1); compared in ms
    MEMORY = "memory"  # peak RSS in MB after N items (time per item shown too)
    RATE = "rate"  # N operations in a fixed time: per second, higher is better


class Home(StrEnum):
    """What the engine's home directory (LEGATO_HOME / PREFECT_HOME) holds at start."""

    EMPTY = "empty"  # a new, empty directory: the engine must create its database
    TEMPLATE = "template"  # a copy of a home whose database already exists


class Database(StrEnum):
    """Where the engine's runs are stored."""

    SQLITE = "sqlite"  # the engine's default: a SQLite file in its home
    POSTGRESQL = "postgresql"  # a database of its own on a PostgreSQL server the driver starts


@dataclass(frozen=True)
class Target:
    """A legato target: the measured value must be <= ``limit`` (>= for a rate "/s").

    ``min_ratio``: legato must also beat Prefect by this factor (the table's
    prefect/legato column, where higher always means legato is better).
    ``limit=None``: only the ratio is a target.
    """

    limit: float | None
    unit: Literal["us/item", "ms", "MB", "/s"]
    at_n: int | None = None  # the N the target is specified at, if any
    min_ratio: float | None = None

    @property
    def higher_is_better(self) -> bool:
        return self.unit == "/s"

    def met(self, value: float) -> bool:
        if self.limit is None:
            return True
        return value >= self.limit if self.higher_is_better else value <= self.limit

    def describe(self) -> str:
        parts = []
        if self.limit is not None:
            if self.higher_is_better:
                parts.append(f">= {self.limit:,g}/s")
            else:
                unit = {"us/item": "µs", "ms": "ms", "MB": "MB"}[self.unit]
                parts.append(f"<= {self.limit:g} {unit}")
            if self.at_n:
                parts[-1] += f" @N={self.at_n:,}"
        if self.min_ratio:
            parts.append(f">= {self.min_ratio:g}x Prefect")
        return ", ".join(parts)


@dataclass(frozen=True)
class Metric:
    """A value a case reports in ``Sample.extra`` besides its time, shown as its own row."""

    key: str  # in Sample.extra
    label: str  # the row is named "<case> <label>"
    unit: Literal["MB", "ms"]
    target: Target | None = None  # legato's, in ``unit``


@dataclass
class Sample:
    """What a measure function returns (the child serialises it as JSON)."""

    seconds: float  # until the workload returned
    n: int
    extra: dict[str, float] = field(default_factory=dict)
    recorded_seconds: float | None = None  # until all its runs were in the database


Measure = Callable[[int], Sample]


@dataclass(frozen=True)
class Case:
    name: str
    title: str
    measure: Measure
    n_legato: int
    n_prefect: int | None  # None: Prefect is not run by default (see ``note``)
    kind: Kind = Kind.PER_ITEM
    target: Target | None = None
    processes: int = 1  # fresh processes per engine; the median is reported
    home: Home = Home.TEMPLATE
    scalable: bool = True  # whether --n / --prefect-n apply
    timeout_s: float = 300.0
    note: str = ""
    database: Database = Database.SQLITE
    metrics: tuple[Metric, ...] = ()  # extra rows from Sample.extra
    rate_per_minute: bool = False  # a rate case whose N is a count, shown per minute


REGISTRY: dict[str, Case] = {}

# The case whose run in an empty home also produces the template home that
# the Home.TEMPLATE cases start from (for Prefect: the migrated database).
TEMPLATE_CASE = "first_run"


def case(
    name: str,
    title: str,
    *,
    n: tuple[int, int | None],
    kind: Kind = Kind.PER_ITEM,
    target: Target | None = None,
    processes: int = 1,
    home: Home = Home.TEMPLATE,
    scalable: bool = True,
    timeout_s: float = 300.0,
    note: str = "",
    database: Database = Database.SQLITE,
    metrics: tuple[Metric, ...] = (),
    rate_per_minute: bool = False,
) -> Callable[[Measure], Measure]:
    """Register a measure function as a benchmark case (see the module docstring)."""

    def register(measure: Measure) -> Measure:
        if name in REGISTRY:
            raise ValueError(f"duplicate benchmark case {name!r}")
        REGISTRY[name] = Case(
            name=name,
            title=title,
            measure=measure,
            n_legato=n[0],
            n_prefect=n[1],
            kind=kind,
            target=target,
            processes=processes,
            home=home,
            scalable=scalable,
            timeout_s=timeout_s,
            note=note,
            database=database,
            metrics=metrics,
            rate_per_minute=rate_per_minute,
        )
        return measure

    return register


# --------------------------------------------------------------------------- child helpers


def engine_module() -> str:
    return os.environ.get("BENCH_ENGINE", "prefect")


def workloads() -> ModuleType:
    """Import the workload module (and with it the engine) lazily."""
    return importlib.import_module("workloads")


def timed(fn: Callable[..., T], *args: Any) -> tuple[float, T]:
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def check(ok: bool, got: object) -> None:
    if not ok:
        raise AssertionError(f"workload returned an unexpected result: {got!r}")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _triangle(n: int) -> int:
    return n * (n + 1) // 2  # sum(inc(i) for i in range(n))


def median_sample(samples: list[Sample]) -> Sample:
    """The sample with the median time (until recorded when every sample has it)."""

    def key(sample: Sample) -> float:
        if all(s.recorded_seconds is not None for s in samples):
            return sample.recorded_seconds or 0.0
        return sample.seconds

    ordered = sorted(samples, key=key)
    return ordered[(len(ordered) - 1) // 2]


@dataclass
class Timing:
    returned: float  # seconds until the workload call returned
    recorded: float | None  # seconds until all its runs were in the database (None: not seen)

    def sample(self, n: int, extra: dict[str, float] | None = None) -> Sample:
        return Sample(self.returned, n, dict(extra or {}), self.recorded)


_watch: RecordWatch | None = None
_records_ok = True  # False once some records never showed up: stop waiting for more


def recorded_run(fn: Callable[..., T], *args: Any, flows: int, tasks: int) -> tuple[Timing, T]:
    """Call ``fn(*args)``; time its return and the arrival of its ``flows``/``tasks`` records.

    Use it for warm-ups too: waiting for their records keeps a recording backlog
    from leaking into the timed run.
    """
    global _watch, _records_ok
    from records import Counts, RecordWatch

    if _watch is None:
        _watch = RecordWatch(engine_module(), os.environ.get("BENCH_DATABASE_URL") or None)
    wanted = _watch.counts() + Counts(flows, tasks)
    start = time.perf_counter()
    result = fn(*args)
    returned = time.perf_counter()
    recorded: float | None = None
    if _records_ok:
        seen = _watch.wait_for(wanted, timeout=60 + 0.1 * (flows + tasks))
        _records_ok = seen is not None
        recorded = None if seen is None else seen - start
    return Timing(returned - start, recorded), result


# --------------------------------------------------------------------------- cases


@case(
    "import",
    "`import legato` vs `import prefect`, cold (fresh process)",
    n=(1, 1),
    kind=Kind.TOTAL,
    processes=5,
    home=Home.EMPTY,
    scalable=False,
    timeout_s=120.0,
)
def import_time(n: int) -> Sample:
    seconds, _ = timed(importlib.import_module, engine_module())
    return Sample(seconds, 1)


def _first_flow_run(n: int) -> Sample:
    w = workloads()  # the import is not part of this measurement
    timing, result = recorded_run(w.empty_flow, flows=1, tasks=0)
    check(result is None, result)
    return timing.sample(1)


case(
    "first_run",
    "first flow run in a fresh process, new empty home (creates the database); excl. import",
    n=(1, 1),
    kind=Kind.TOTAL,
    target=Target(100, "ms"),
    processes=3,
    home=Home.EMPTY,
    scalable=False,
    timeout_s=240.0,
)(_first_flow_run)

case(
    "first_run_existing_db",
    "first flow run in a fresh process, home with an existing database; excl. import",
    n=(1, 1),
    kind=Kind.TOTAL,
    processes=3,
    scalable=False,
    timeout_s=180.0,
)(_first_flow_run)


@case(
    "empty_flows",
    "N runs of an empty flow",
    n=(1_000, 20),
    target=Target(300, "us/item"),
)
def empty_flows(n: int) -> Sample:
    w = workloads()
    recorded_run(w.empty_flow, flows=1, tasks=0)  # warm-up

    def run() -> None:
        for _ in range(n):
            w.empty_flow()

    timing, _ = recorded_run(run, flows=n, tasks=0)
    return timing.sample(n)


@case(
    "sequential_tasks",
    "N sequential task calls in one flow",
    n=(10_000, 500),
    target=Target(50, "us/item"),
)
def sequential_tasks(n: int) -> Sample:
    w = workloads()
    recorded_run(w.sequential_tasks, 5, flows=1, tasks=5)  # warm-up
    timing, result = recorded_run(w.sequential_tasks, n, flows=1, tasks=n)
    check(result == n, result)
    return timing.sample(n)


@case(
    "submit",
    "N `.submit()` in one flow, then wait for all results",
    n=(10_000, 500),
    target=Target(80, "us/item", at_n=10_000),
)
def submit(n: int) -> Sample:
    w = workloads()
    recorded_run(w.submit_then_wait, 5, flows=1, tasks=5)  # warm-up
    timing, result = recorded_run(w.submit_then_wait, n, flows=1, tasks=n)
    check(result == _triangle(n), result)
    return timing.sample(n)


@case(
    "map",
    "`.map` over N items in one flow, then wait for all results",
    n=(10_000, 500),
    target=Target(80, "us/item", at_n=10_000),
)
def map_(n: int) -> Sample:
    w = workloads()
    recorded_run(w.map_tasks, 5, flows=1, tasks=5)  # warm-up
    timing, result = recorded_run(w.map_tasks, n, flows=1, tasks=n)
    check(result == _triangle(n), result)
    return timing.sample(n)


@case(
    "chain",
    "a chain of N dependent tasks (each `.submit` takes the previous future)",
    n=(10_000, 500),
)
def chain(n: int) -> Sample:
    w = workloads()
    recorded_run(w.chain, 5, flows=1, tasks=5)  # warm-up
    timing, result = recorded_run(w.chain, n, flows=1, tasks=n)
    check(result == n, result)
    return timing.sample(n)


@case(
    "subflows",
    "one flow calling N subflows",
    n=(1_000, 20),
)
def subflows(n: int) -> Sample:
    w = workloads()
    recorded_run(w.subflows, 2, flows=3, tasks=0)  # warm-up
    timing, result = recorded_run(w.subflows, n, flows=n + 1, tasks=0)
    check(result == n, result)
    return timing.sample(n)


_next_key = 0


@case(
    "retries",
    "M calls of a task that fails twice then succeeds (retries=2, delay 0); per call",
    n=(1_000, 30),
)
def retries(n: int) -> Sample:
    global _next_key
    w = workloads()
    # Every call needs keys that have not failed yet (the case may be repeated in-process).
    recorded_run(w.retrying_tasks, 2, _next_key, flows=1, tasks=2)  # warm-up
    timing, result = recorded_run(w.retrying_tasks, n, _next_key + 2, flows=1, tasks=n)
    _next_key += n + 2
    check(result == 3 * n, result)
    return timing.sample(n)


def _salt() -> str:
    """A fresh cache namespace: a repeated case must not hit the previous run's cache."""
    return f"{os.getpid()}-{time.perf_counter_ns()}"


@case(
    "cache_hits",
    "N calls of a cached task (cache_policy=INPUTS) with the same input: N-1 cache hits",
    n=(10_000, 200),
    target=Target(100, "us/item", at_n=10_000),
)
def cache_hits(n: int) -> Sample:
    w = workloads()
    recorded_run(w.cache_hits, 5, _salt(), flows=1, tasks=5)  # warm-up
    timing, result = recorded_run(w.cache_hits, n, _salt(), flows=1, tasks=n)
    check(result == 2 * n, result)
    return timing.sample(n)


@case(
    "cache_misses",
    "N calls of a cached task with distinct inputs: each runs and persists to local disk",
    n=(10_000, 200),
    target=Target(300, "us/item", at_n=10_000),
)
def cache_misses(n: int) -> Sample:
    w = workloads()
    recorded_run(w.cache_misses, 5, _salt(), flows=1, tasks=5)  # warm-up
    timing, result = recorded_run(w.cache_misses, n, _salt(), flows=1, tasks=n)
    check(result == _triangle(n), result)
    return timing.sample(n)


@case(
    "transactions",
    "M transactions of 10 persisted tasks each, committed; per transaction",
    n=(1_000, 20),
)
def transactions(n: int) -> Sample:
    w = workloads()
    recorded_run(w.transactions_of_ten, 2, _salt(), flows=1, tasks=20)  # warm-up
    timing, result = recorded_run(w.transactions_of_ten, n, _salt(), flows=1, tasks=10 * n)
    check(result == 55 * n, result)
    return timing.sample(n)


@case(
    "peak_rss",
    "peak RSS of the process after N sequential tasks in one flow",
    n=(100_000, 1_000),
    kind=Kind.MEMORY,
    target=Target(300, "MB", at_n=100_000),
    timeout_s=420.0,
    note=(
        "Prefect runs at a smaller N by default: at its per-task cost, 100,000 tasks "
        "would take over an hour. Prefect's peak RSS excludes its ephemeral API "
        "server, which runs in a separate process."
    ),
)
def peak_rss(n: int) -> Sample:
    w = workloads()
    recorded_run(w.sequential_tasks, 5, flows=1, tasks=5)  # warm-up
    before = peak_rss_mb()
    timing, result = recorded_run(w.sequential_tasks, n, flows=1, tasks=n)
    check(result == n, result)
    return timing.sample(n, {"rss_before_mb": before})


# --------------------------------------------------------------------------- server cases

# Each server case starts the engine's own server in its child (``servers.serve``:
# a subprocess on a free port, the case's home, the driver's database if any) and
# points the client at it; the server is stopped when the child ends.

CREATE_WARMUP_S = 1.0
SERVER_RSS = Metric("server_rss_mb", "server RSS", "MB", Target(150, "MB"))


def _server_flow_run_creates(seconds: int) -> Sample:
    from servers import serve

    server = serve()
    idle_mb = server.rss_mb()
    w = workloads()
    w.create_flow_runs(CREATE_WARMUP_S)  # warm-up: the client's imports, its connection
    count, elapsed = w.create_flow_runs(float(seconds))
    check(count > 0, count)
    extra = {
        "server_rss_mb": server.rss_mb(),
        "server_rss_idle_mb": idle_mb,
        "server_startup_s": server.startup_s,
    }
    return Sample(elapsed, count, extra)


def _server_flow_tasks(n: int) -> Sample:
    from servers import serve

    server = serve()
    w = workloads()
    recorded_run(w.sequential_tasks, 5, flows=1, tasks=5)  # warm-up
    timing, result = recorded_run(w.sequential_tasks, n, flows=1, tasks=n)
    check(result == n, result)
    return timing.sample(
        n, {"server_rss_mb": server.rss_mb(), "server_startup_s": server.startup_s}
    )


_CREATES_NOTE = (
    "flow runs created in 10 s by one client through the engine's server "
    "(`client.create_flow_run(flow=...)` in a loop, after a 1 s warm-up); N = runs "
    "created. Its prefect/legato column is legato's rate / Prefect's rate (= Prefect's "
    "time per creation / legato's), so higher means legato is faster, as in every row. "
    "'server RSS' = VmRSS of the server process and its descendants after the load."
)
_TASKS_NOTE = (
    "one flow of N sequential tasks, recorded through the engine's server "
    "(LEGATO_API_URL / PREFECT_API_URL); Prefect runs at a smaller N (its per-task cost), "
    "compare per task."
)


def _loopback_ceiling(seconds: int) -> Sample:
    import urllib.request

    import ceiling
    from servers import free_port

    port = free_port()
    server = ceiling.start(port)
    try:
        url = f"http://127.0.0.1:{port}/api"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except OSError:
                check(time.monotonic() < deadline and server.poll() is None, "no answer")
                time.sleep(0.05)
        ceiling.post_for(f"{url}/flow_runs/", CREATE_WARMUP_S)
        count, elapsed = ceiling.post_for(f"{url}/flow_runs/", float(seconds))
    finally:
        server.terminate()
        server.wait(timeout=10)
    return Sample(elapsed, count)


case(
    "http_loopback_ceiling",
    "reference: POSTs per second from one sync httpx client to a no-op ASGI app, 10 s",
    n=(10, None),
    kind=Kind.RATE,
    scalable=False,
    timeout_s=120.0,
    note=(
        "no framework, no database (benchmarks/ceiling.py): the most that the server "
        "cases' client and transport (httpx, uvicorn with httptools and uvloop) can do "
        "on this machine; legato only."
    ),
)(_loopback_ceiling)

case(
    "server_flow_run_creates",
    "flow runs created per second through the API server (SQLite), one sync client, 10 s",
    n=(10, 10),
    kind=Kind.RATE,
    target=Target(2_000, "/s", min_ratio=10),
    scalable=False,
    timeout_s=300.0,
    note=_CREATES_NOTE,
    metrics=(SERVER_RSS,),
)(_server_flow_run_creates)

case(
    "server_flow_1000_tasks",
    "a flow of N sequential tasks recorded through the API server (SQLite)",
    n=(1_000, 200),
    timeout_s=300.0,
    note=_TASKS_NOTE,
)(_server_flow_tasks)

case(
    "server_flow_run_creates_pg",
    "flow runs created per second through the API server (PostgreSQL), one sync client, 10 s",
    n=(10, 10),
    kind=Kind.RATE,
    target=Target(2_000, "/s", min_ratio=10),
    scalable=False,
    timeout_s=600.0,
    note=_CREATES_NOTE,
    database=Database.POSTGRESQL,
    metrics=(SERVER_RSS,),
)(_server_flow_run_creates)

case(
    "server_flow_1000_tasks_pg",
    "a flow of N sequential tasks recorded through the API server (PostgreSQL)",
    n=(1_000, 200),
    timeout_s=600.0,
    note=_TASKS_NOTE,
    database=Database.POSTGRESQL,
)(_server_flow_tasks)


# --------------------------------------------------------------------------- concurrency limits

_ROUND_TRIP_NOTE = (
    "`with concurrency(name, strict=True): pass` N times on a global limit of 10 slots that "
    "nothing else uses (created first through the engine's client), after 20 warm-up round "
    "trips; per round trip = one acquire and one release in the store. legato's default "
    "store is its embedded SQLite file; Prefect's is its ephemeral local API server."
)


def _concurrency_round_trips(n: int, through_server: bool) -> Sample:
    server = None
    if through_server:
        from servers import serve

        server = serve()
    w = workloads()
    name = f"bench-limit-{_salt()}"
    w.create_concurrency_limit(name, 10)
    w.concurrency_round_trips(name, 20)  # warm-up: imports, connections, the lease thread
    # No run is started, so 'recorded' is the same time (nothing to wait for).
    timing, count = recorded_run(w.concurrency_round_trips, name, n, flows=0, tasks=0)
    check(count == n, count)
    return timing.sample(n, {} if server is None else {"server_startup_s": server.startup_s})


case(
    "concurrency_round_trip",
    "acquire+release of an uncontended global concurrency limit, default store",
    n=(2_000, 100),
    target=Target(1_000, "us/item", min_ratio=10),
    timeout_s=300.0,
    note=_ROUND_TRIP_NOTE,
)(lambda n: _concurrency_round_trips(n, through_server=False))

case(
    "concurrency_round_trip_server",
    "acquire+release of an uncontended global concurrency limit through the API server (SQLite)",
    n=(2_000, 100),
    target=Target(3_000, "us/item", min_ratio=10),
    timeout_s=300.0,
    note=_ROUND_TRIP_NOTE,
)(lambda n: _concurrency_round_trips(n, through_server=True))


# --------------------------------------------------------------------------- deployments and workers

# Each of these starts, in its child, the engine's server, a process work pool, a
# deployment of a flow file in a new project folder and a process worker polling every
# second (``deployment_workloads.py``), then warms the worker up with two runs.

_LATENCY_NOTE = (
    "one run at a time: `run_deployment(id, timeout=0)`, then wait for the flow's first line "
    "(it writes time.time() to a file: wall-clock time across processes) and for the run to end, "
    "then a pause of 0-1 s (a seeded sequence, the same on both engines: the calls fall at every "
    "phase of the worker's 1 s poll); N = runs measured after 2 warm-up runs. 'returned' = the "
    "median; the p95 row = the 95th percentile. Prefect runs fewer (each takes ~5 s)."
)
_THROUGHPUT_NOTE = (
    "N runs created at once with `run_deployment(id, timeout=0)` (scheduled now) for one "
    "process worker started with `--limit 4` (at most 4 flow processes at once), after 2 "
    "warm-up runs; the rate is N / (the last run's end_time in the database - the first run's "
    "first line). Prefect runs fewer (each of its flow processes takes seconds of CPU)."
)
WORKER_LIMIT = 4
_SCHEDULER_NOTE = (
    "1,000 deployments over 50 flows, each with one hourly cron schedule (`M * * * *`, M = "
    "0..59), created first in the case's SQLite database; then one pass of the engine's "
    "scheduler service in the child's process, timed. Same work on both engines: 3 runs per "
    "schedule, 3,000 runs. Prefect: `prefect.server.services.scheduler.schedule_deployments()` "
    "with its defaults (min 3 runs, at least 1 h ahead: 3 runs of an hourly schedule); legato: "
    "`SchedulerService.run_once()` with min_runs = max_runs = 3 (its default max is 100)."
)
RUNS_PER_SCHEDULE = 3


def _deployment_start_latency(n: int) -> Sample:
    import deployment_workloads as d

    latencies, deployed = d.start_latencies(n)
    extra = {
        "p95_ms": d.p95(latencies) * 1e3,
        "min_ms": min(latencies) * 1e3,
        "max_ms": max(latencies) * 1e3,
        "server_startup_s": deployed.server_startup_s,
        "setup_s": deployed.setup_s,
    }
    return Sample(statistics.median(latencies), n, extra)


case(
    "deployment_start_latency",
    "run_deployment(timeout=0) to the flow's first line, warm process worker polling every 1 s",
    n=(50, 15),
    kind=Kind.TOTAL,
    target=Target(1_000, "ms", min_ratio=5),
    timeout_s=600.0,
    note=_LATENCY_NOTE,
    metrics=(Metric("p95_ms", "p95", "ms"),),
)(_deployment_start_latency)


def _worker_runs_per_minute(n: int) -> Sample:
    import deployment_workloads as d

    seconds, deployed = d.runs_throughput(n, WORKER_LIMIT)
    return Sample(seconds, n, {"server_startup_s": deployed.server_startup_s})


case(
    "worker_runs_per_minute",
    "runs of a trivial flow one process worker (--limit 4) completes per minute, N queued at once",
    n=(60, 20),
    kind=Kind.RATE,
    target=Target(None, "/s", min_ratio=5),
    timeout_s=600.0,
    note=_THROUGHPUT_NOTE,
    rate_per_minute=True,
)(_worker_runs_per_minute)


def _scheduler_cron_deployments(n: int) -> Sample:
    import deployment_workloads as d

    seconds, created = d.scheduler_pass(n, RUNS_PER_SCHEDULE)
    check(created == n * RUNS_PER_SCHEDULE, created)
    return Sample(seconds, n, {"runs_created": float(created)})


case(
    "scheduler_1000_cron_deployments",
    "one scheduler pass creating the runs of 1,000 cron deployments (3 runs each)",
    n=(1_000, 1_000),
    kind=Kind.TOTAL,
    target=Target(None, "ms", min_ratio=5),
    scalable=False,
    timeout_s=600.0,
    note=_SCHEDULER_NOTE,
)(_scheduler_cron_deployments)
