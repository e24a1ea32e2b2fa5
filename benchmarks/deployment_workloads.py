"""Deployment benchmarks, child side: a server, a process work pool, a deployment, a worker.

The engine is chosen by ``BENCH_ENGINE`` (``legato`` or ``prefect``), as in
``workloads.py``; nothing here imports it at module level. The deployment
and worker cases set up, in the child, what a user of either engine would:

1. the engine's own server on loopback (``servers.serve``: SQLite in the
   case's home), with the client pointed at it;
2. a project folder with one flow file (``FLOW_FILE``: its first line writes
   ``time.time()`` to the file named by its ``marker`` parameter);
3. a process work pool, ``<engine> work-pool create bench-pool --type process``;
4. a deployment, ``Flow.from_source(project, "flows.py:bench_started").deploy(
   "bench", work_pool_name="bench-pool")`` (the same call on both engines);
5. a worker, ``<engine> worker start --pool bench-pool --type process``, polling
   every second (``LEGATO_WORKER_QUERY_SECONDS=1`` / ``PREFECT_WORKER_QUERY_SECONDS=1``),
   logging to ``<case>-<engine>-0.worker.log`` next to the child's log;

then warms the worker up with ``WARMUP_RUNS`` runs, each waited for until it
is final. Runs are started with each engine's
``deployments.run_deployment(id, parameters=..., timeout=0)``.

The scheduler case (``scheduler_pass``) needs no server: it creates the
deployments and runs one pass of the engine's scheduler service in this
process, on the SQLite database of the case's home.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENGINE = os.environ.get("BENCH_ENGINE", "prefect")
POOL = "bench-pool"
DEPLOYMENT = "bench"
QUERY_SECONDS_VARS = {
    "legato": "LEGATO_WORKER_QUERY_SECONDS",
    "prefect": "PREFECT_WORKER_QUERY_SECONDS",
}
WARMUP_RUNS = 2
FINAL_STATES = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})
RUN_TIMEOUT_S = 120.0  # for one run to start, or to end
PAUSE_SEED = 5  # the pauses between latency runs: the same sequence on both engines

FLOW_FILE = """\
import os
import time

from {engine} import flow


@flow
def bench_started(marker: str) -> None:
    started = time.time()  # the flow's first line
    with open(marker + ".tmp", "w") as file:
        file.write(repr(started))
    os.replace(marker + ".tmp", marker)
"""


class WorkloadError(RuntimeError):
    """A deployment run did not start or end as expected."""


def _engine_script(name: str) -> str:
    """The engine's console script in this virtualenv."""
    return str(Path(sys.executable).parent / name)


def _client() -> Any:
    module = importlib.import_module(ENGINE)
    get_client = (
        getattr(module, "get_client", None)
        or importlib.import_module(f"{ENGINE}.client").get_client
    )
    return get_client(sync_client=True)


# --------------------------------------------------------------------------- setup


@dataclass
class Deployed:
    """What the deployment cases run against."""

    deployment_id: Any
    markers: Path  # where the runs write their start times
    worker_log: Path
    server_startup_s: float
    setup_s: float  # server, pool, deployment and worker, until the worker ran its warm-up

    def marker(self, label: str) -> Path:
        return self.markers / label


def _run_cli(args: list[str], log: Path, cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    with open(log, "ab") as out:
        out.write(f"--- {ENGINE} {' '.join(args)}\n".encode())
        out.flush()
        proc = subprocess.run(
            [_engine_script(ENGINE), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            timeout=180,
        )
    if proc.returncode != 0:
        from servers import tail

        raise WorkloadError(
            f"`{ENGINE} {' '.join(args)}` exited with {proc.returncode}:\n{tail(log)}"
        )


def deploy_with_worker(limit: int | None = None) -> Deployed:
    """Server, project folder, pool, deployment and a warm worker (see the module doc).

    ``limit``: the worker's ``--limit`` (most runs at once; None: no limit).
    """
    from servers import HOME_VARS, serve, start_helper

    started = time.monotonic()
    server = serve()
    home = Path(os.environ[HOME_VARS[ENGINE]])
    base = home.parent
    stem = home.name.removesuffix(".home")
    project = Path(tempfile.mkdtemp(prefix=f"{stem}.project-", dir=base))
    (project / "flows.py").write_text(FLOW_FILE.format(engine=ENGINE))
    markers = project / "markers"
    markers.mkdir()
    setup_log = base / f"{stem}.setup.log"
    _run_cli(["work-pool", "create", POOL, "--type", "process"], setup_log, project)
    flows = importlib.import_module(f"{ENGINE}.flows")
    source = flows.Flow.from_source(str(project), "flows.py:bench_started")
    deployment_id = source.deploy(DEPLOYMENT, work_pool_name=POOL)
    worker_log = base / f"{stem}.worker.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    env[QUERY_SECONDS_VARS[ENGINE]] = "1"
    command = [_engine_script(ENGINE), "worker", "start", "--pool", POOL, "--type", "process"]
    if limit is not None:
        command += ["--limit", str(limit)]
    start_helper(
        command,
        worker_log,
        project,
        env,
    )
    deployed = Deployed(deployment_id, markers, worker_log, server.startup_s, 0.0)
    with _client() as client:
        for number in range(WARMUP_RUNS):
            run_once(deployed, client, f"warmup-{number}")
    deployed.setup_s = time.monotonic() - started
    return deployed


# --------------------------------------------------------------------------- runs


def start_run(deployed: Deployed, label: str) -> Any:
    """Create a run of the deployment that writes its start time to marker ``label``."""
    run_deployment = importlib.import_module(f"{ENGINE}.deployments").run_deployment
    marker = deployed.marker(label)
    return run_deployment(deployed.deployment_id, parameters={"marker": str(marker)}, timeout=0)


def _state_type(client: Any, run_id: Any) -> str:
    state = client.read_flow_run(run_id).state
    return "" if state is None else str(getattr(state.type, "value", state.type))


def _failure(deployed: Deployed, what: str) -> WorkloadError:
    from servers import tail

    return WorkloadError(f"{what} (worker log {deployed.worker_log}):\n{tail(deployed.worker_log)}")


def wait_started(deployed: Deployed, client: Any, run_id: Any, label: str) -> float:
    """The run's start time as its flow wrote it (bounded wait; fails if the run ends without)."""
    marker = deployed.marker(label)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    next_check = time.monotonic() + 0.5
    while not marker.exists():
        now = time.monotonic()
        if now > deadline:
            raise _failure(deployed, f"run {run_id} did not start within {RUN_TIMEOUT_S:.0f} s")
        if now >= next_check:
            state = _state_type(client, run_id)
            if state in FINAL_STATES and not marker.exists():
                raise _failure(deployed, f"run {run_id} ended {state} without starting its flow")
            next_check = now + 0.5
        time.sleep(0.002)
    return float(marker.read_text())


def wait_final(deployed: Deployed, client: Any, run_ids: list[Any], interval: float) -> None:
    """Until every run is in a final state (bounded); fails unless all are Completed."""
    waiting = list(run_ids)
    deadline = time.monotonic() + RUN_TIMEOUT_S + 2.0 * len(run_ids)
    while waiting:
        if time.monotonic() > deadline:
            raise _failure(deployed, f"{len(waiting)} run(s) did not end in time")
        states = {run_id: _state_type(client, run_id) for run_id in waiting}
        bad = {str(k): v for k, v in states.items() if v in FINAL_STATES and v != "COMPLETED"}
        if bad:
            raise _failure(deployed, f"runs did not complete: {bad}")
        waiting = [run_id for run_id, state in states.items() if state not in FINAL_STATES]
        if waiting:
            time.sleep(interval)


def run_once(deployed: Deployed, client: Any, label: str) -> float:
    """One run, from the call to its flow's first line (seconds); returns once it is final."""
    called = time.time()
    flow_run = start_run(deployed, label)
    started = wait_started(deployed, client, flow_run.id, label)
    wait_final(deployed, client, [flow_run.id], interval=0.05)
    return started - called


# --------------------------------------------------------------------------- measures


def start_latencies(n: int) -> tuple[list[float], Deployed]:
    """``n`` runs one after the other, each waited for until final, then a pause of 0-1 s.

    The pause (the same seeded sequence on both engines) spreads the calls over
    the worker's poll cycle, so the latencies sample every phase of it.
    """
    deployed = deploy_with_worker()
    pauses = random.Random(PAUSE_SEED)
    latencies = []
    with _client() as client:
        for number in range(n):
            latencies.append(run_once(deployed, client, f"latency-{number}"))
            time.sleep(pauses.uniform(0.0, 1.0))
    return latencies, deployed


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def _timestamp(value: Any) -> float:
    return float(value.timestamp())


def runs_throughput(n: int, limit: int) -> tuple[float, Deployed]:
    """Seconds from the first of ``n`` runs' start to the last one's end (all created at once).

    The worker runs at most ``limit`` of them at once (``--limit``).
    """
    deployed = deploy_with_worker(limit)
    with _client() as client:
        run_ids = [start_run(deployed, f"rate-{number}").id for number in range(n)]
        wait_final(deployed, client, run_ids, interval=0.25)
        first_start = min(float(deployed.marker(f"rate-{i}").read_text()) for i in range(n))
        ends = [client.read_flow_run(run_id).end_time for run_id in run_ids]
    if any(end is None for end in ends):
        raise _failure(deployed, "a completed run has no end time")
    return max(_timestamp(end) for end in ends) - first_start, deployed


# --------------------------------------------------------------------------- the scheduler

FLOWS = 50  # the deployments are spread over this many flows


def cron_for(number: int) -> str:
    """Hourly, at minute ``number % 60``: 3 runs per schedule in both engines' first pass."""
    return f"{number % 60} * * * *"


def scheduler_pass(count: int, runs_per_schedule: int) -> tuple[float, int]:
    """Create ``count`` cron deployments, then time one scheduler pass: (seconds, runs made)."""
    if ENGINE == "legato":
        return _legato_scheduler_pass(count, runs_per_schedule)
    return asyncio.run(_prefect_scheduler_pass(count))


def _legato_scheduler_pass(count: int, runs_per_schedule: int) -> tuple[float, int]:
    import sqlalchemy as sa

    from legato.client.schemas.actions import DeploymentCreate, DeploymentScheduleCreate
    from legato.orchestration import deployments, flows
    from legato.orchestration.store import Store
    from legato.schedules import Cron
    from legato.server.services.scheduler import SchedulerService
    from legato.settings import get_current_settings
    from legato.storage import database
    from legato.storage.schema import flow_runs

    store = Store(database.sqlite_url(get_current_settings().database_path))

    def create(connection: Any) -> None:
        for number in range(count):
            flow, _ = flows.get_or_create_flow(connection, f"bench-flow-{number % FLOWS}")
            body = DeploymentCreate(
                name=f"bench-{number}",
                flow_id=flow["id"],
                schedules=[DeploymentScheduleCreate(schedule=Cron(cron_for(number)))],
            )
            deployments.create_deployment(connection, body)

    try:
        store.write(create)
        settings = get_current_settings().server.services.scheduler
        service = SchedulerService(
            store,
            loop_seconds=settings.loop_seconds,
            horizon_seconds=settings.horizon_seconds,
            min_runs=runs_per_schedule,
            max_runs=runs_per_schedule,
        )
        started = time.perf_counter()
        created = asyncio.run(service.run_once())
        seconds = time.perf_counter() - started
        count_runs = sa.select(sa.func.count()).where(flow_runs.c.deployment_id.is_not(None))
        stored = int(store.read(lambda connection: connection.execute(count_runs).scalar_one()))
    finally:
        store.close()
    if stored != created:
        raise WorkloadError(f"the scheduler reported {created} runs, the database holds {stored}")
    return seconds, created


async def _prefect_scheduler_pass(count: int) -> tuple[float, int]:
    import sqlalchemy as sa
    from prefect.server import models, schemas
    from prefect.server.database import provide_database_interface
    from prefect.server.schemas.schedules import CronSchedule
    from prefect.server.services.scheduler import schedule_deployments

    db = provide_database_interface()
    await db.create_db()  # a no-op on the template home's migrated database
    async with db.session_context(begin_transaction=True) as session:
        flows = [
            await models.flows.create_flow(
                session=session, flow=schemas.core.Flow(name=f"bench-flow-{number}")
            )
            for number in range(FLOWS)
        ]
        for number in range(count):
            schedule = schemas.core.DeploymentSchedule(
                schedule=CronSchedule(cron=cron_for(number)), active=True
            )
            deployment = schemas.core.Deployment(
                name=f"bench-{number}", flow_id=flows[number % FLOWS].id, schedules=[schedule]
            )
            await models.deployments.create_deployment(session=session, deployment=deployment)
    started = time.perf_counter()
    await schedule_deployments()  # one pass of the scheduler service, default settings
    seconds = time.perf_counter() - started
    async with db.session_context() as session:
        count_runs = sa.select(sa.func.count()).where(db.FlowRun.deployment_id.is_not(None))
        stored = int((await session.execute(count_runs)).scalar_one())
    return seconds, stored
