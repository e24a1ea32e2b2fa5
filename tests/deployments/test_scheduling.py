"""The scheduler's work (``schedule_runs``) and late runs (``mark_late_runs``), with a given clock,
on SQLite and on PostgreSQL; two schedulers at once in threads and in processes."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import time
import zoneinfo
from pathlib import Path

import sqlalchemy as sa

from legato.client.schemas.actions import StateCreate
from legato.orchestration import scheduling, states
from legato.orchestration.store import Store
from legato.schedules import Cron, Interval
from legato.states import Pending, Scheduled, StateType
from legato.storage.schema import flow_runs
from legato.storage.schema import states as state_rows

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def schedule(store, now=NOW, horizon=dt.timedelta(days=1), min_runs=3, max_runs=100, **options):
    return store.write(
        lambda c: scheduling.schedule_runs(c, now, horizon, min_runs, max_runs, **options)
    )


def runs(store, deployment_id=None):
    statement = sa.select(flow_runs).order_by(flow_runs.c.expected_start_time, flow_runs.c.id)
    if deployment_id is not None:
        statement = statement.where(flow_runs.c.deployment_id == deployment_id)
    return store.read(lambda c: [dict(row) for row in c.execute(statement).mappings()])


def slots(found):
    return [run["expected_start_time"] for run in found]


def test_runs_fill_the_horizon_with_the_deployment_and_schedule_values(store, deploy):
    row = deploy(
        "hourly",
        version="7",
        tags=["prod"],
        parameters={"a": 1, "b": 1},
        schedules=[Interval(3600, parameters={"b": 2})],
    )

    assert schedule(store) == 25  # 00:00 through 24:00: the bounds are inclusive

    found = runs(store, row["id"])
    assert slots(found) == [NOW + HOUR * hour for hour in range(25)]
    schedule_id = row["schedules"][0]["id"]
    first = found[0]
    assert (
        first["idempotency_key"] == f"scheduled {row['id']} {schedule_id} 2030-01-01T00:00:00+00:00"
    )
    assert (first["state_type"], first["state_name"]) == ("SCHEDULED", "Scheduled")
    assert first["auto_scheduled"] is True
    assert first["parameters"] == {"a": 1, "b": 2}
    assert (first["tags"], first["deployment_version"]) == (["prod"], "7")
    assert (first["flow_id"], first["work_pool_name"], first["job_variables"]) == (
        row["flow_id"],
        None,
        {},
    )
    history = store.read(lambda c: states.read_run_states(c, "flow_run", first["id"]))
    assert [(state["type"], state["name"]) for state in history] == [("SCHEDULED", "Scheduled")]


def test_max_runs_caps_and_min_runs_reaches_beyond_the_horizon(store, deploy):
    capped = deploy("capped", schedules=[Interval(3600)])
    yearly = deploy("yearly", schedules=[Cron("0 0 1 1 *")])
    own_cap = deploy("own-cap", schedules=[{"schedule": Interval(60), "max_scheduled_runs": 2}])

    assert schedule(store, max_runs=5) == 5 + 3 + 2

    assert slots(runs(store, capped["id"])) == [NOW + HOUR * hour for hour in range(5)]
    assert [when.year for when in slots(runs(store, yearly["id"]))] == [2030, 2031, 2032]
    assert len(runs(store, own_cap["id"])) == 2


def test_a_later_pass_adds_only_the_slots_it_lacks(store, deploy):
    row = deploy("hourly", schedules=[Interval(3600)])
    assert schedule(store, max_runs=5) == 5
    assert schedule(store, max_runs=5) == 0  # the same slots again: nothing new

    # A worker claims the first run: one fewer waits, so one more is made.
    first = runs(store, row["id"])[0]
    claim = StateCreate.from_state(Pending())
    store.write(lambda c: states.set_run_state(c, "flow_run", first["id"], claim))
    assert schedule(store, max_runs=5) == 1
    # Two hours later, the runs of 00:00 (claimed) and 01:00 (past) no longer count:
    # 02:00 to 05:00 wait, so one more keeps five ahead.
    assert schedule(store, now=NOW + 2 * HOUR, max_runs=5) == 1
    assert slots(runs(store, row["id"])) == [NOW + HOUR * hour for hour in range(7)]
    keys = [run["idempotency_key"] for run in runs(store, row["id"])]
    assert len(set(keys)) == len(keys)


def test_inactive_schedules_and_paused_deployments_get_no_runs(store, deploy):
    deploy("inactive", schedules=[Interval(3600, active=False)])
    deploy("paused", paused=True, schedules=[Interval(3600)])
    chosen = deploy("chosen", schedules=[Interval(3600)])
    other = deploy("other", schedules=[Interval(3600)])

    assert schedule(store, max_runs=2, deployment_ids=[chosen["id"]]) == 2
    assert {run["deployment_id"] for run in runs(store)} == {chosen["id"]}
    assert store.read(scheduling.schedulable_deployment_ids) == sorted([chosen["id"], other["id"]])


def test_a_daylight_saving_change_gives_each_local_time_once(store, deploy):
    # Paris: clocks go forward on 2030-03-31 (02:00 -> 03:00), back on 2030-10-27.
    row = deploy("paris", schedules=[Cron("30 2 * * *", timezone="Europe/Paris")])
    start = dt.datetime(2030, 3, 30, tzinfo=dt.UTC)

    schedule(store, now=start, horizon=dt.timedelta(days=2), max_runs=10)

    paris = zoneinfo.ZoneInfo("Europe/Paris")
    local = [when.astimezone(paris) for when in slots(runs(store, row["id"]))]
    assert [(when.day, when.hour, when.minute) for when in local] == [
        (30, 2, 30),
        (31, 3, 30),
        (1, 2, 30),
    ]


# -- two schedulers at once


def _expected_total(store, deploy) -> int:
    for number in range(4):
        deploy(f"d{number}", schedules=[Interval(600), Cron("*/15 * * * *")])
    # Six passes at NOW, each 10 minutes further ahead than the last (PASSES): the
    # slots from NOW to a day and 50 minutes later, both bounds included (150 of 10
    # minutes, 100 of 15 minutes), whichever pass of whichever scheduler makes them.
    return 4 * (150 + 100)


PASSES = [dt.timedelta(days=1, minutes=minutes) for minutes in range(0, 60, 10)]


def test_two_schedulers_in_threads_never_make_two_runs_of_a_slot(store, deploy, db_url):
    expected = _expected_total(store, deploy)
    stores = [Store(db_url) for _ in range(3)]
    barrier = threading.Barrier(len(stores))
    created: list[int] = []
    errors: list[BaseException] = []

    def scheduler(own: Store) -> None:
        try:
            barrier.wait(timeout=30)
            for horizon in PASSES:
                created.append(schedule(own, horizon=horizon, max_runs=1000))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=scheduler, args=(own,)) for own in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for own in stores:
        own.close()

    assert errors == []
    assert not any(thread.is_alive() for thread in threads)
    # Whoever made them, each slot has one run.
    found = runs(store)
    keys = [run["idempotency_key"] for run in found]
    assert len(keys) == len(set(keys)) == expected
    assert sum(created) == expected


_PROCESS_SCRIPT = """
import datetime as dt, sys, time
from legato.orchestration import scheduling
from legato.orchestration.store import Store

url, start_at = sys.argv[1], float(sys.argv[2])
now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
store = Store(url)
while time.time() < start_at:  # both processes start their passes together (bounded: ~2 s)
    time.sleep(0.005)
total = 0
for minutes in range(0, 60, 10):
    horizon = dt.timedelta(days=1, minutes=minutes)
    total += store.write(lambda c: scheduling.schedule_runs(c, now, horizon, 3, 1000))
store.close()
print(total)
"""


def test_two_schedulers_in_processes_never_make_two_runs_of_a_slot(store, deploy, db_url, tmp_path):
    expected = _expected_total(store, deploy)
    script = tmp_path / "scheduler.py"
    script.write_text(_PROCESS_SCRIPT)
    start_at = time.time() + 2.0
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), db_url, str(start_at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parent,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]

    assert [process.returncode for process in processes] == [0, 0], outputs
    found = runs(store)
    keys = [run["idempotency_key"] for run in found]
    assert len(keys) == len(set(keys))
    assert len(found) == expected
    assert sum(int(out.strip()) for out, _ in outputs) == expected


# -- late runs


def test_runs_not_started_after_the_grace_period_become_late(store, deploy):
    row = deploy("hourly", schedules=[Interval(3600)])
    schedule(store, max_runs=4)  # 00:00, 01:00, 02:00, 03:00
    found = runs(store, row["id"])
    # One run is claimed, one waits to be retried: neither is late.
    store.write(
        lambda c: states.set_run_state(
            c, "flow_run", found[0]["id"], StateCreate.from_state(Pending())
        )
    )
    retry = StateCreate.from_state(
        Scheduled(scheduled_time=found[1]["expected_start_time"], name="AwaitingRetry")
    )
    store.write(lambda c: states.set_run_state(c, "flow_run", found[1]["id"], retry))
    at = NOW + 2 * HOUR + dt.timedelta(seconds=30)

    assert store.read(lambda c: scheduling.has_late_runs(c, at, 15)) is True
    assert store.write(lambda c: scheduling.mark_late_runs(c, at, 15)) == 1  # 02:00 only
    assert store.write(lambda c: scheduling.mark_late_runs(c, at, 15)) == 0
    assert store.read(lambda c: scheduling.has_late_runs(c, at, 15)) is False
    assert store.write(lambda c: scheduling.mark_late_runs(c, at, 60)) == 0  # within 60 s

    late = runs(store, row["id"])[2]
    assert (late["state_type"], late["state_name"]) == (StateType.SCHEDULED.value, "Late")
    assert late["expected_start_time"] == NOW + 2 * HOUR  # still expected when scheduled
    history = store.read(lambda c: states.read_run_states(c, "flow_run", late["id"]))
    assert [state["name"] for state in history] == ["Scheduled", "Late"]
    assert "Not started within 15 s" in history[-1]["message"]
    # A Late run can still be claimed by a worker.
    claim = store.write(
        lambda c: states.set_run_state(c, "flow_run", late["id"], StateCreate.from_state(Pending()))
    )
    assert claim.outcome.decision.value == "ACCEPT"


def test_many_late_runs_are_marked_in_one_call(store, deploy):
    deploy("minutely", schedules=[Interval(60)])
    assert schedule(store, max_runs=2500) == 1441
    later = NOW + dt.timedelta(days=2)

    assert store.write(lambda c: scheduling.mark_late_runs(c, later, 0)) == 1441
    count = sa.select(sa.func.count()).select_from(state_rows).where(state_rows.c.name == "Late")
    assert store.read(lambda c: c.execute(count).scalar()) == 1441


def test_the_horizon_may_be_given_in_seconds(store, deploy):
    deploy("hourly", schedules=[Interval(3600)])
    assert schedule(store, horizon=3 * 3600.0, min_runs=0) == 4
