"""Workers racing for the same scheduled runs: each run is claimed exactly once, and
concurrency limits hold, on SQLite and on PostgreSQL, through the store and over HTTP.

Every racer polls the pool, proposes PENDING for each run it got and keeps
the runs whose answer was ACCEPT, until a poll gives nothing. Racers start
together (a barrier); every loop is bounded.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from legato.client.embedded import EmbeddedClient
from legato.client.http import SyncHttpClient
from legato.client.schemas.actions import FlowRunCreate, StateCreate, WorkPoolCreate
from legato.client.schemas.objects import StateDetails
from legato.orchestration import flow_runs, flows, states, work_pool_runs, work_pools
from legato.orchestration.store import Store
from legato.states import Pending, Scheduled, StateType
from legato.storage.schema import flow_runs as flow_runs_table
from legato.storage.schema import states as states_table

MAX_ROUNDS = 500
JOIN_SECONDS = 120


def _schedule_runs(store: Store, pool: str, count: int) -> list[str]:
    due = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)

    def work(connection) -> list[str]:
        flow, _ = flows.get_or_create_flow(connection, f"race-{pool}")
        state = StateCreate(
            type=StateType.SCHEDULED, state_details=StateDetails(scheduled_time=due)
        )
        body = FlowRunCreate(flow_id=flow["id"], state=state, work_pool_name=pool)
        return [flow_runs.create_flow_run(connection, body)["id"] for _ in range(count)]

    return store.write(work)


def _race(racers: int, claim_round: Callable[[int], list[str]]) -> list[list[str]]:
    """Run ``claim_round(racer)`` in ``racers`` threads until it gives nothing; the claims."""
    claimed: list[list[str]] = [[] for _ in range(racers)]
    errors: list[BaseException] = []
    start = threading.Barrier(racers)

    def racer(number: int) -> None:
        try:
            start.wait(timeout=30)
            for _ in range(MAX_ROUNDS):
                got = claim_round(number)
                if got is None:
                    return
                claimed[number] += got
            raise AssertionError(f"racer {number} still found runs after {MAX_ROUNDS} rounds")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a racer did not finish in time"
    assert errors == []
    return claimed


def _store_round(store: Store, pool: str) -> list[str] | None:
    """One poll and its claims, through the orchestration service; None when nothing is left."""
    items = store.write(lambda c: work_pool_runs.get_scheduled_flow_runs(c, pool, limit=25))
    if not items:
        return None
    accepted = []
    for item in items:
        run_id = item["flow_run"]["id"]
        change = store.write(
            lambda c, run_id=run_id: states.set_run_state(
                c, "flow_run", run_id, StateCreate(type=StateType.PENDING)
            )
        )
        if change.outcome.decision.value == "ACCEPT":
            accepted.append(run_id)
    return accepted


def _pending_states_per_run(store: Store, run_ids: list[str]) -> Counter[str]:
    statement = sa.select(states_table.c.flow_run_id).where(
        states_table.c.flow_run_id.in_(run_ids), states_table.c.type == "PENDING"
    )
    return Counter(store.read(lambda c: list(c.execute(statement).scalars())))


def test_four_racers_claim_each_of_200_runs_exactly_once(db_url):
    setup = Store(db_url)
    setup.write(lambda c: work_pools.create_work_pool(c, WorkPoolCreate(name="race")))
    run_ids = _schedule_runs(setup, "race", 200)
    racer_stores = [Store(db_url) for _ in range(4)]
    try:
        claimed = _race(4, lambda n: _store_round(racer_stores[n], "race"))
    finally:
        for store in racer_stores:
            store.close()

    everything = [run_id for claims in claimed for run_id in claims]
    assert len(everything) == 200 and set(everything) == set(run_ids)  # once each
    # Each run has one PENDING state in its history, and is PENDING now
    assert set(_pending_states_per_run(setup, run_ids).values()) == {1}
    left = setup.read(
        lambda c: c.execute(
            sa.select(sa.func.count()).where(flow_runs_table.c.state_type == "SCHEDULED")
        ).scalar()
    )
    setup.close()
    assert left == 0


def test_a_pool_limit_holds_while_racers_claim(db_url):
    setup = Store(db_url)
    setup.write(
        lambda c: work_pools.create_work_pool(
            c, WorkPoolCreate(name="limited", concurrency_limit=5)
        )
    )
    run_ids = _schedule_runs(setup, "limited", 40)
    racer_stores = [Store(db_url) for _ in range(4)]
    try:
        claimed = _race(4, lambda n: _store_round(racer_stores[n], "limited"))
    finally:
        for store in racer_stores:
            store.close()

    everything = [run_id for claims in claimed for run_id in claims]
    assert len(everything) == len(set(everything)) == 5  # the limit, never more
    pending = _pending_states_per_run(setup, run_ids)
    setup.close()
    assert sorted(pending) == sorted(everything)


def _client_round(client: Any, pool: str) -> list[str] | None:
    items = client.get_scheduled_flow_runs_for_work_pool(pool, limit=10)
    if not items:
        return None
    return [
        str(item.flow_run.id)
        for item in items
        if client.set_flow_run_state(item.flow_run.id, Pending()).status.value == "ACCEPT"
    ]


def test_three_clients_claim_each_of_90_runs_exactly_once(kind, tmp_path, request, unique):
    """Through the clients: three HTTP clients on one server, or three embedded clients
    on one SQLite file (as three worker processes would be)."""
    if kind == "embedded":
        path = tmp_path / "store" / "legato.db"

        def make() -> Any:
            return EmbeddedClient(path)
    else:
        api_url = request.getfixturevalue("server").api_url

        def make() -> Any:
            return SyncHttpClient(api_url)

    pool = unique("race-pool")
    clients = [make() for _ in range(3)]
    try:
        clients[0].create_work_pool(WorkPoolCreate(name=pool))
        due = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        run_ids = {
            str(
                clients[0]
                .create_flow_run(
                    f"race-{pool}", state=Scheduled(scheduled_time=due), work_pool_name=pool
                )
                .id
            )
            for _ in range(90)
        }
        claimed = _race(3, lambda n: _client_round(clients[n], pool))
    finally:
        for client in clients:
            client.close()

    everything = [run_id for claims in claimed for run_id in claims]
    assert len(everything) == 90 and set(everything) == run_ids


def test_racing_creates_with_one_idempotency_key_make_one_run(db_url):
    setup = Store(db_url)
    flow_id = setup.write(lambda c: flows.get_or_create_flow(c, "keyed")[0]["id"])
    racer_stores = [Store(db_url) for _ in range(4)]
    start = threading.Barrier(4)
    made: list[tuple[str, bool]] = []
    errors: list[BaseException] = []

    def create(store: Store) -> None:
        try:
            start.wait(timeout=30)
            for day in range(20):
                body = FlowRunCreate(flow_id=flow_id, idempotency_key=f"day-{day}")
                row, created = store.write(
                    lambda c, body=body: flow_runs.create_or_read_flow_run(c, body)
                )
                made.append((row["id"], created))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(store,)) for store in racer_stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_SECONDS)
    for store in racer_stores:
        store.close()
    count = setup.read(
        lambda c: c.execute(sa.select(sa.func.count()).select_from(flow_runs_table)).scalar()
    )
    setup.close()

    assert errors == []
    assert count == 20  # one run per key
    assert len({run_id for run_id, _ in made}) == 20
    assert sum(created for _, created in made) == 20  # and each key was created once
