"""A worker process for the multi-process limit tests: ``python _limit_worker.py MODE ...``.

The store comes from the environment (``LEGATO_HOME`` for the embedded file,
``LEGATO_API_URL`` for a server). Every mode prints ``ready`` once imported and
set up, then waits for a line on stdin (``go``, or for ``rate`` the POSIX time
to stop at), so that all workers start together.

- ``tasks TAG COUNT SECONDS``: one flow submits COUNT tasks tagged TAG, each
  sleeping SECONDS; prints ``done``.
- ``hold TAG NAME``: a task tagged TAG enters ``concurrency(NAME)`` and prints
  ``held``, then sleeps until killed.
- ``rate NAME``: calls ``rate_limit(NAME)`` until the time read from stdin;
  prints the count.
"""

from __future__ import annotations

import sys
import time

from legato import flow, task
from legato.concurrency._global_slots import current_client
from legato.concurrency.sync import concurrency, rate_limit


def wait_for_go() -> str:
    # Open the store first (imports, connections), so that workers start together.
    current_client().read_concurrency_limits()
    print("ready", flush=True)
    return sys.stdin.readline().strip()


def run_tasks(tag: str, count: int, seconds: float) -> None:
    @task(tags=[tag])
    def work(index: int) -> int:
        time.sleep(seconds)
        return index

    @flow(log_prints=False)
    def many() -> list[int]:
        return [future.result() for future in [work.submit(i) for i in range(count)]]

    wait_for_go()
    assert many() == list(range(count))
    print("done", flush=True)


def hold(tag: str, name: str) -> None:
    @task(tags=[tag])
    def holder() -> None:
        with concurrency(name, strict=True):
            print("held", flush=True)
            time.sleep(600)  # until killed

    @flow
    def holding() -> None:
        holder()

    wait_for_go()
    holding()


def rate(name: str) -> None:
    stop_at = float(wait_for_go())
    count = 0
    while (remaining := stop_at - time.time()) > 0:
        try:
            rate_limit(name, strict=True, timeout_seconds=remaining)
        except TimeoutError:
            break
        if time.time() <= stop_at:  # a grant after the window is not counted
            count += 1
    print(count, flush=True)


def main(mode: str, *args: str) -> None:
    if mode == "tasks":
        run_tasks(args[0], int(args[1]), float(args[2]))
    elif mode == "hold":
        hold(args[0], args[1])
    elif mode == "rate":
        rate(args[0])
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(*sys.argv[1:])
