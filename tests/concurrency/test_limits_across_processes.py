"""A tag limit held by several real processes at once, on the embedded file and on servers.

The peak number of task runs Running at once is computed from the states the
workers recorded (Running and final timestamps), not from the workers' own
view. (Leases and rate limits across processes: test_leases_across_processes.)
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.slow

PROCESSES = 6
TASKS_PER_PROCESS = 10
TAG_LIMIT = 3
TASK_SECONDS = 0.1


def recorded_states(client: Any, tag: str) -> list[list[Any]]:
    """The recorded states of every task run tagged ``tag``, one list per run."""
    runs = [run for run in client.read_task_runs(limit=500) if tag in run.tags]
    return [client.read_task_run_states(run.id) for run in runs]


def running_intervals(histories: list[list[Any]]) -> list[tuple[float, float]]:
    """(Running, final) timestamps of each run's recorded states."""
    intervals = []
    for states in histories:
        started = [s.timestamp.timestamp() for s in states if s.type.value == "RUNNING"]
        ended = [s.timestamp.timestamp() for s in states if s.type.value == "COMPLETED"]
        assert len(started) == 1 and len(ended) == 1, [(s.type, s.name) for s in states]
        intervals.append((started[0], ended[0]))
    return intervals


def peak_overlap(intervals: list[tuple[float, float]]) -> int:
    # An end and a start at the same instant do not overlap: ends sort first.
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    peak = inside = 0
    for _, change in events:
        inside += change
        peak = max(peak, inside)
    return peak


def test_six_processes_sixty_tagged_tasks_never_exceed_the_tag_limit(store, client, name, workers):
    client.create_concurrency_limit(name, TAG_LIMIT)
    started = [
        workers.start(store.env, "tasks", name, str(TASKS_PER_PROCESS), str(TASK_SECONDS))
        for _ in range(PROCESSES)
    ]
    for process in started:
        workers.wait_for_line(process, "ready")
    for process in started:
        workers.send(process, "go")
    for process in started:
        assert "done" in workers.finish(process)

    histories = recorded_states(client, name)
    assert len(histories) == PROCESSES * TASKS_PER_PROCESS
    assert peak_overlap(running_intervals(histories)) == TAG_LIMIT
    waited = [h for h in histories if any(s.name == "AwaitingConcurrencySlot" for s in h)]
    assert waited, "with 60 runs for 3 slots, some runs must have waited"
    assert client.read_concurrency_leases(f"tag:{name}") == []
