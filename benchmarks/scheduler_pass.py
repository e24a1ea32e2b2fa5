"""How long legato's scheduler takes to create the runs of many cron deployments.

Creates ``--deployments`` deployments (over 50 flows), each with one cron
schedule (``M * * * *``, M spread over the hour: hourly runs), then times
one scheduler pass as the server's scheduler service runs it (the
deployments with active schedules, then ``schedule_runs`` in write
transactions of 100 deployments), and a second pass 30 minutes later (what a
steady pass costs: one new slot for half of the schedules)::

    python benchmarks/scheduler_pass.py                         # 1,000 deployments, SQLite
    python benchmarks/scheduler_pass.py --max-runs 10
    python benchmarks/scheduler_pass.py --database-url postgresql+psycopg://...

The SQLite file is a new one in a temporary folder; a PostgreSQL database
must exist (it is migrated, and the deployments are added to it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from legato.client.schemas.actions import DeploymentCreate, DeploymentScheduleCreate
from legato.orchestration import deployments, flows, scheduling
from legato.orchestration.store import Store
from legato.schedules import Cron
from legato.storage import database, sqlite

BATCH = 100


def _setup(store: Store, count: int) -> float:
    def work(connection) -> None:  # type: ignore[no-untyped-def]
        for number in range(count):
            flow, _ = flows.get_or_create_flow(connection, f"bench-flow-{number % 50}")
            body = DeploymentCreate(
                name=f"bench-{number}",
                flow_id=flow["id"],
                schedules=[DeploymentScheduleCreate(schedule=Cron(f"{number % 60} * * * *"))],
            )
            deployments.create_deployment(connection, body)

    started = time.perf_counter()
    store.write(work)
    return time.perf_counter() - started


def _pass(store: Store, now: dt.datetime, args: argparse.Namespace) -> tuple[int, float]:
    started = time.perf_counter()
    ids = store.read(scheduling.schedulable_deployment_ids)
    created = 0
    horizon = dt.timedelta(seconds=args.horizon_seconds)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        created += store.write(
            lambda c, chunk=chunk: scheduling.schedule_runs(
                c, now, horizon, args.min_runs, args.max_runs, deployment_ids=chunk
            )
        )
    return created, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--deployments", type=int, default=1000)
    parser.add_argument("--max-runs", type=int, default=100)
    parser.add_argument("--min-runs", type=int, default=3)
    parser.add_argument("--horizon-seconds", type=float, default=100 * 24 * 3600.0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url
        if url is None:
            path = Path(folder) / "legato.db"
            sqlite.open_database(path).close()
            url = database.sqlite_url(path)
        else:
            database.upgrade(url)
        store = Store(url)
        try:
            setup = _setup(store, args.deployments)
            now = dt.datetime.now(dt.UTC)
            first, first_seconds = _pass(store, now, args)
            later, later_seconds = _pass(store, now + dt.timedelta(minutes=30), args)
        finally:
            store.close()
    print(
        f"database: {url.split(':')[0]}, deployments: {args.deployments} (created in {setup:.2f} s)"
    )
    print(
        f"first pass: {first} runs in {first_seconds:.2f} s ({first / first_seconds:,.0f} runs/s)"
    )
    print(f"pass 30 minutes later: {later} runs in {later_seconds:.2f} s")


if __name__ == "__main__":
    main()
