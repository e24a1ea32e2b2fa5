"""A worker's poll waits on the store for a run, so a run created between polls starts at once."""

from __future__ import annotations

from _worker_support import state_of, wait_for


def test_a_run_created_while_the_worker_waits_starts_without_waiting_for_the_next_poll(
    store, pool_name
):
    with store.client() as client:
        deployment_id = store.deploy(client, "trivial", pool_name)
        # Polls 20 s apart: only a poll that waits for runs can start this one within 15 s.
        store.legato("worker", "start", "--pool", pool_name, LEGATO_WORKER_QUERY_SECONDS="20")
        wait_for(
            lambda: client.read_work_queue_by_name("default", pool_name).last_polled,
            timeout=60,
            what="the worker's first poll",
        )
        run = client.create_flow_run_from_deployment(deployment_id)
        wait_for(
            lambda: state_of(client, run.id) == "COMPLETED",
            timeout=15,
            what="the run to complete while the worker's poll waits",
        )


def test_a_worker_waiting_in_a_long_poll_stops_at_once(store, pool_name):
    import signal
    import time

    with store.client() as client:
        store.deploy(client, "trivial", pool_name)
        worker = store.legato(
            "worker", "start", "--pool", pool_name, LEGATO_WORKER_QUERY_SECONDS="20"
        )
        wait_for(
            lambda: client.read_work_queue_by_name("default", pool_name).last_polled,
            timeout=60,
            what="the worker's first poll",
        )
    asked = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    worker.communicate(timeout=60)
    assert time.monotonic() - asked < 15  # not the rest of its 20 s poll
    assert worker.returncode == 0
