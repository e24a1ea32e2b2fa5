"""Benchmark workloads: ordinary Prefect 3 user code, written once.

The engine is chosen by the ``BENCH_ENGINE`` environment variable before this
module is imported:

* ``BENCH_ENGINE=legato``  -> ``import legato as prefect``
* ``BENCH_ENGINE=prefect`` -> ``import prefect``

Everything below this switch is literally the same code for both engines, and
only uses the public API (``@flow``, ``@task``, task calls, ``.submit``,
``.map``, futures' ``.result()``, ``retries``/``retry_delay_seconds``, and
``get_client(sync_client=True)`` with ``create_flow_run`` and
``create_global_concurrency_limit``, ``concurrency.sync.concurrency``).
Workloads return a value so the measuring side can check the work was done.
"""

from __future__ import annotations

import importlib
import os
import time
from typing import Any

ENGINE = os.environ.get("BENCH_ENGINE", "prefect")

if ENGINE == "legato":
    import legato as prefect
elif ENGINE == "prefect":
    import prefect  # type: ignore[no-redef]
else:  # pragma: no cover - guarded by the driver
    raise SystemExit(f"BENCH_ENGINE must be 'legato' or 'prefect', not {ENGINE!r}")


cache_policies = importlib.import_module(f"{prefect.__name__}.cache_policies")
concurrency_sync = importlib.import_module(f"{prefect.__name__}.concurrency.sync")
client_actions = importlib.import_module(f"{prefect.__name__}.client.schemas.actions")
transactions = importlib.import_module(f"{prefect.__name__}.transactions")
# ``prefect.get_client``; legato's lives in ``legato.client`` (and in ``legato`` when exported).
get_client = (
    getattr(prefect, "get_client", None)
    or importlib.import_module(f"{prefect.__name__}.client").get_client
)

# --------------------------------------------------------------------------- tasks


@prefect.task
def inc(x: int) -> int:
    return x + 1


_attempts: dict[int, int] = {}


@prefect.task(retries=2, retry_delay_seconds=0)
def flaky(key: int) -> int:
    """Fails on its first two attempts for each ``key``, then succeeds."""
    attempt = _attempts.get(key, 0) + 1
    _attempts[key] = attempt
    if attempt < 3:
        raise ValueError(f"planned failure {attempt} for key {key}")
    return attempt


@prefect.task(cache_policy=cache_policies.INPUTS)
def cached_inc(x: int, salt: str) -> int:
    return x + 1


@prefect.task(persist_result=True)
def persisted_inc(x: int) -> int:
    return x + 1


# --------------------------------------------------------------------------- flows


@prefect.flow
def empty_flow() -> None:
    return None


@prefect.flow
def sequential_tasks(n: int) -> int:
    total = 0
    for _ in range(n):
        total = inc(total)
    return total


@prefect.flow
def submit_then_wait(n: int) -> int:
    futures = [inc.submit(i) for i in range(n)]
    return sum(future.result() for future in futures)


@prefect.flow
def map_tasks(n: int) -> int:
    futures = inc.map(range(n))
    return sum(future.result() for future in futures)


@prefect.flow
def chain(n: int) -> int:
    future: Any = inc.submit(0)
    for _ in range(n - 1):
        future = inc.submit(future)
    result: int = future.result()
    return result


@prefect.flow
def child_flow(x: int) -> int:
    return x + 1


@prefect.flow
def subflows(n: int) -> int:
    total = 0
    for i in range(n):
        total += child_flow(i) - i
    return total


@prefect.flow
def retrying_tasks(m: int, offset: int = 0) -> int:
    """``m`` calls of a task that fails twice then succeeds (3 attempts each)."""
    return sum(flaky(offset + i) for i in range(m))


@prefect.flow
def cache_hits(n: int, salt: str) -> int:
    """``n`` calls with the same input: one miss, then ``n - 1`` cache hits."""
    return sum(cached_inc(1, salt) for _ in range(n))


@prefect.flow
def cache_misses(n: int, salt: str) -> int:
    """``n`` calls with distinct inputs: every one runs and persists its result."""
    return sum(cached_inc(i, salt) for i in range(n))


@prefect.flow
def transactions_of_ten(m: int, salt: str) -> int:
    """``m`` transactions, each of 10 tasks whose results persist on commit."""
    total = 0
    for i in range(m):
        with transactions.transaction(key=f"{salt}-{i}"):
            for j in range(10):
                total += persisted_inc(j)
    return total


@prefect.flow
def created_through_api() -> None:
    """Never run here: ``create_flow_runs`` only creates runs of it on the server."""
    return None


def create_flow_runs(seconds: float) -> tuple[int, float]:
    """Create runs of one flow through the API client for ``seconds``: (count, elapsed)."""
    count = 0
    with get_client(sync_client=True) as client:
        start = time.perf_counter()
        deadline = start + seconds
        while time.perf_counter() < deadline:
            client.create_flow_run(flow=created_through_api)
            count += 1
        elapsed = time.perf_counter() - start
    return count, elapsed


def create_concurrency_limit(name: str, limit: int) -> None:
    """A global concurrency limit (both engines need it created before it is used)."""
    with get_client(sync_client=True) as client:
        client.create_global_concurrency_limit(
            client_actions.GlobalConcurrencyLimitCreate(name=name, limit=limit)
        )


def concurrency_round_trips(name: str, n: int) -> int:
    """``n`` acquire+release round trips of one slot of an uncontended limit."""
    count = 0
    for _ in range(n):
        with concurrency_sync.concurrency(name, occupy=1, strict=True):
            count += 1
    return count
