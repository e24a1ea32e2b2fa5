"""The scheduler and late-runs services inside a real ``legato server start`` (on SQLite and
PostgreSQL), with short loops (conftest.SERVICES_ENV) and bounded waits."""

from __future__ import annotations

import time
import uuid

from legato.client.http import SyncHttpClient
from legato.schedules import Interval

WAIT_SECONDS = 60.0


def wait_for(what, condition, timeout_seconds: float = WAIT_SECONDS):
    """Poll ``condition()`` until it returns something truthy (bounded); return it."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        found = condition()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: not seen in {timeout_seconds} s"
        time.sleep(0.1)


def test_an_interval_deployment_gets_runs_which_become_late(server):
    flow_name = f"flow-{uuid.uuid4().hex[:12]}"
    with SyncHttpClient(server.api_url) as client:
        flow_id = client.create_flow_from_name(flow_name)
        deployment_id = client.create_deployment(
            flow_id, "every-second", schedules=[Interval(1)], parameters={"x": 1}
        )

        def scheduled():
            runs = client.read_flow_runs(flow_name=flow_name, limit=200)
            return runs if len(runs) >= 100 else None

        runs = wait_for("100 scheduled runs (the default max_runs)", scheduled)
        assert {run.deployment_id for run in runs} == {deployment_id}
        assert all(run.auto_scheduled for run in runs)
        assert all(run.parameters == {"x": 1} for run in runs)
        starts = sorted(run.expected_start_time for run in runs)
        assert all(
            (later - earlier).total_seconds() == 1
            for earlier, later in zip(starts, starts[1:], strict=False)
        )

        # Nobody runs them: after the 1-second grace they turn Late, and the scheduler
        # keeps 100 waiting ahead.
        late = wait_for(
            "a Late run",
            lambda: client.read_flow_runs(flow_name=flow_name, state_names=["Late"]),
        )
        assert late[0].state.type.value == "SCHEDULED"

        # Pausing deletes the runs that have not started, Late ones included.
        client.pause_deployment(deployment_id)
        assert client.read_flow_runs(flow_name=flow_name, state_types=["SCHEDULED"]) == []
