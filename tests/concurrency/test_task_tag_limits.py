"""Tag concurrency limits in the task engine, against real stores."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from legato import flow, task
from legato.client import get_client
from legato.concurrency._leases import renewer
from legato.engine import recorder, tag_limits
from legato.exceptions import TaskRunTimeoutError


def names_of(client, run_id):
    return [state.name for state in client.read_task_run_states(run_id)]


def tagged_runs(client, tag):
    return [run for run in client.read_task_runs(limit=200) if tag in run.tags]


class Peak:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.inside = self.peak = 0

    def __enter__(self) -> None:
        with self.lock:
            self.inside += 1
            self.peak = max(self.peak, self.inside)

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.inside -= 1


def test_submitted_tagged_tasks_respect_the_limit_and_record_their_wait(client, name):
    client.create_concurrency_limit(name, 2)
    peak = Peak()

    @task(tags=[name, "other-tag-without-limit"])
    def work(i):
        with peak:
            time.sleep(0.05)
        return i

    @flow
    def many():
        return [f.result() for f in [work.submit(i) for i in range(8)]]

    assert many() == list(range(8))
    assert peak.peak == 2
    runs = tagged_runs(client, name)
    assert len(runs) == 8
    histories = [names_of(client, run.id) for run in runs]
    waited = [h for h in histories if "AwaitingConcurrencySlot" in h]
    assert waited, histories
    for history in waited:
        assert history == ["Pending", "AwaitingConcurrencySlot", "Running", "Completed"]
    assert client.read_concurrency_leases(f"tag:{name}") == []


def test_every_ending_gives_the_slot_back(client, name):
    client.create_concurrency_limit(name, 1)
    attempts = []

    @task(tags=[name])
    def fails():
        raise ValueError("no")

    @task(tags=[name], retries=2, retry_delay_seconds=0.2)
    def flaky():
        # No slot is held during a retry's delay.
        attempts.append(len(client.read_concurrency_leases(f"tag:{name}")))
        if len(attempts) < 3:
            raise ValueError("again")
        return "ok"

    @task(tags=[name], timeout_seconds=0.2)
    def slow():
        for _ in range(100):
            time.sleep(0.02)

    @flow
    def endings():
        states = [fails(return_state=True), slow(return_state=True), flaky(return_state=True)]
        return [state.type.value for state in states]

    assert endings() == ["FAILED", "FAILED", "COMPLETED"]
    assert attempts == [1, 1, 1]
    assert client.read_concurrency_leases(f"tag:{name}") == []
    assert renewer.held() == []


class Interrupt(BaseException):
    """Stands for KeyboardInterrupt (a BaseException that crashes the run)."""


def test_a_crash_gives_the_slot_back(client, name):
    client.create_concurrency_limit(name, 1)

    @task(tags=[name])
    def crashes():
        raise Interrupt()

    @flow
    def crashing():
        crashes()

    with pytest.raises(Interrupt):
        crashing()
    (run,) = tagged_runs(client, name)
    assert run.state.type.value == "CRASHED"
    assert client.read_concurrency_leases(f"tag:{name}") == []


def test_async_tasks_hold_and_give_back_slots(client, name):
    client.create_concurrency_limit(name, 2)
    peak = Peak()

    @task(tags=[name])
    async def work(i):
        with peak:
            await asyncio.sleep(0.05)
        return i

    @task(tags=[name], timeout_seconds=0.1)
    async def too_slow():
        await asyncio.sleep(5)

    @flow
    async def many():
        results = await asyncio.gather(*(work(i) for i in range(6)))
        state = await too_slow(return_state=True)
        return results, state.type.value

    results, state_type = asyncio.run(many())
    assert results == list(range(6)) and state_type == "FAILED"
    assert peak.peak == 2
    histories = [names_of(client, run.id) for run in tagged_runs(client, name)]
    assert any("AwaitingConcurrencySlot" in history for history in histories)
    assert client.read_concurrency_leases(f"tag:{name}") == []


def test_generator_tasks_hold_a_slot_while_they_yield(client, name):
    client.create_concurrency_limit(name, 1)
    seen = []

    @task(tags=[name])
    def numbers():
        for i in range(3):
            seen.append(len(client.read_concurrency_leases(f"tag:{name}")))
            yield i

    @flow
    def consume():
        return list(numbers())

    assert consume() == [0, 1, 2]
    assert seen == [1, 1, 1]
    assert client.read_concurrency_leases(f"tag:{name}") == []


def test_tags_without_limits_and_untagged_tasks_take_nothing(client, name, monkeypatch):
    @task(tags=[f"{name}-unlimited"])
    def tagged():
        return len(client.read_concurrency_leases())

    @flow
    def plain():
        return tagged()

    assert plain() == 0

    # Untagged runs never look limits up: the engine would fail them if it did.
    def refuse(engine):
        raise AssertionError("an untagged run looked up tag limits")

    monkeypatch.setattr(tag_limits, "take", refuse)
    monkeypatch.setattr(tag_limits, "atake", refuse)

    @task
    def untagged(x):
        return x + 1

    @task
    async def untagged_async(x):
        return x + 1

    @flow
    def untagged_flow():
        return untagged(1) + untagged.submit(2).result() + asyncio.run(untagged_async(3))

    assert untagged_flow() == 9


def test_limited_tags_are_cached_for_a_short_time(name):
    # The cache does not depend on the store: the embedded one is enough.
    client = get_client(sync_client=True)

    @task(tags=[name])
    def work():
        return len(client.read_concurrency_leases(f"tag:{name}"))

    @flow
    def once():
        return work()

    assert once() == 0  # no limit yet: nothing held
    client.create_concurrency_limit(name, 1)
    assert once() == 0  # within the cache's lifetime the new limit is not seen
    deadline = time.monotonic() + tag_limits.LIMITED_TAGS_TTL_SECONDS * 3
    while once() == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert once() == 1


def test_tags_from_the_tags_context_count(client, name):
    from legato import tags

    client.create_concurrency_limit(name, 1)

    @task
    def work():
        return len(client.read_concurrency_leases(f"tag:{name}"))

    @flow
    def tagged_by_context():
        with tags(name):
            return work()

    assert tagged_by_context() == 1


def test_a_store_that_fails_the_slot_lookup_fails_the_run(client, name, monkeypatch):
    client.create_concurrency_limit(name, 1)

    @task(tags=[name])
    def work():
        return "ran"

    @flow
    def run_it():
        state = work(return_state=True)
        return state.type.value, state.message

    def broken(client, tags):
        raise TaskRunTimeoutError("store unreachable")

    monkeypatch.setattr(tag_limits.limited_tags, "of", broken)
    state_type, message = run_it()
    assert state_type == "FAILED"
    assert "Could not take the concurrency slots" in message and "store unreachable" in message


def test_the_tag_limit_lists_the_task_runs_holding_it(client, name):
    client.create_concurrency_limit(name, 2)

    @task(tags=[name])
    def holding():
        from legato.runtime import flow_run, task_run

        (lease,) = client.read_concurrency_leases(f"tag:{name}")
        holders = client.read_concurrency_limit_by_tag(name).active_slots
        return lease.holder, [str(i) for i in holders], task_run.id, flow_run.id

    @flow
    def hold():
        return holding()

    holder, holders, task_run_id, flow_run_id = hold()
    assert holders == [task_run_id]
    assert holder["task_run_id"] == task_run_id and holder["flow_run_id"] == flow_run_id
    assert client.read_concurrency_limit_by_tag(name).active_slots == []


def test_a_tag_limit_deleted_meanwhile_lets_runs_go_ahead_quietly(client, name, concurrency_logs):
    client.create_concurrency_limit(name, 1)

    @task(tags=[name])
    def work():
        return 1

    @flow
    def run_it():
        return work()

    assert run_it() == 1  # the tag is now cached as limited
    client.delete_concurrency_limit_by_tag(name)
    assert run_it() == 1  # the store answers that the limit is missing: no wait
    assert not [record for record in concurrency_logs if name in record.getMessage()]


def test_a_cancelled_async_task_gives_the_slot_back(client, name):
    client.create_concurrency_limit(name, 1)
    started = []

    @task(tags=[name])
    async def forever():
        started.append(len(client.read_concurrency_leases(f"tag:{name}")))
        await asyncio.sleep(30)

    async def main():
        call = asyncio.ensure_future(forever())
        for _ in range(500):  # until the run holds its slot (bounded: 10 s)
            if started:
                break
            await asyncio.sleep(0.02)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call

    asyncio.run(main())
    assert started == [1]
    assert client.read_concurrency_leases(f"tag:{name}") == []
    recorder.flush_all()  # a standalone run that crashed is written by the recorder's timer
    (run,) = tagged_runs(client, name)
    assert run.state.type.value == "CRASHED"
