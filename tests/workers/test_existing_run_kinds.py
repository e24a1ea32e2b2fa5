"""``run_existing_flow_run`` runs every kind of flow (as worker flow processes do), in process."""

from __future__ import annotations

import pytest

from legato import flow
from legato.client import get_client
from legato.engine.existing_runs import run_existing_flow_run

seen: list[int] = []


@flow
def counts_up(n: int = 2):
    for number in range(n):
        seen.append(number)
        yield number


@flow
def counts_then_fails(n: int = 2):
    yield from range(n)
    raise ValueError("the data is wrong")


@flow
async def counts_up_async(n: int = 2):
    for number in range(n):
        seen.append(number)
        yield number


def created(flow_object, **parameters):
    with get_client(sync_client=True) as client:
        return client.create_flow_run(flow_object, parameters=parameters)


@pytest.mark.parametrize("generator_flow", [counts_up, counts_up_async], ids=["sync", "async"])
def test_a_generator_flow_runs_as_the_existing_run(legato_home, generator_flow):
    seen.clear()
    run = created(generator_flow, n=3)

    state = run_existing_flow_run(generator_flow, run.id)

    assert state.is_completed()
    assert seen == [0, 1, 2]
    with get_client(sync_client=True) as client:
        stored = client.read_flow_run(run.id)
    assert str(stored.state.type) == "COMPLETED"
    assert stored.name == run.name and stored.run_count == 1


def test_a_failing_generator_flow_returns_its_failed_state(legato_home):
    run = created(counts_then_fails)

    state = run_existing_flow_run(counts_then_fails, run.id)

    assert state.is_failed()
    assert "ValueError: the data is wrong" in state.message
