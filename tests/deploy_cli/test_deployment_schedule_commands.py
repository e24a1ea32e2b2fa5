"""legato deployment schedule ls / create / pause / resume / delete / clear."""

from __future__ import annotations

import pytest
from _cli_helpers import as_json, failed, ok, unique

from legato.flows import load_flow_from_entrypoint


@pytest.fixture
def deployment(project, any_store) -> str:
    name = unique("scheduled")
    load_flow_from_entrypoint("flows.py:greet").to_deployment(name).apply()
    return f"greet/{name}"


def schedules(invoke, name):
    return as_json(invoke("deployment", "schedule", "ls", name, "-o", "json"))


def test_create_each_kind_and_list_them(invoke, deployment):
    ok(
        invoke(
            "deployment",
            "schedule",
            "create",
            deployment,
            "--cron",
            "0 6 * * 1-5",
            "--timezone",
            "Europe/Paris",
        )
    )
    ok(
        invoke(
            "deployment",
            "schedule",
            "create",
            deployment,
            "--interval",
            "90",
            "--anchor-date",
            "2030-01-01T00:00:00+00:00",
        )
    )
    ok(
        invoke(
            "deployment",
            "schedule",
            "create",
            deployment,
            "--rrule",
            "FREQ=WEEKLY;BYDAY=MO",
            "--inactive",
        )
    )

    rows = schedules(invoke, deployment)
    table = ok(invoke("deployment", "schedule", "ls", deployment))

    kinds = {row["schedule"]["kind"]: row for row in rows}
    assert kinds["cron"]["schedule"]["timezone"] == "Europe/Paris"
    assert kinds["interval"]["schedule"]["interval"] == 90
    assert kinds["rrule"]["active"] is False
    assert "cron 0 6 * * 1-5 (Europe/Paris)" in table
    assert "every 1m 30s" in table


def test_create_with_replace_keeps_only_the_new_one(invoke, deployment):
    ok(invoke("deployment", "schedule", "create", deployment, "--interval", "60"))

    ok(invoke("deployment", "schedule", "create", deployment, "--cron", "* * * * *", "--replace"))

    assert [row["schedule"]["kind"] for row in schedules(invoke, deployment)] == ["cron"]


def test_pause_resume_and_delete_one_schedule(invoke, deployment):
    ok(invoke("deployment", "schedule", "create", deployment, "--interval", "60"))
    schedule_id = schedules(invoke, deployment)[0]["id"]

    ok(invoke("deployment", "schedule", "pause", deployment, schedule_id))
    assert schedules(invoke, deployment)[0]["active"] is False
    ok(invoke("deployment", "schedule", "resume", deployment, schedule_id))
    assert schedules(invoke, deployment)[0]["active"] is True
    ok(invoke("deployment", "schedule", "delete", deployment, schedule_id))
    assert schedules(invoke, deployment) == []


def test_clear_deletes_them_all(invoke, deployment):
    ok(invoke("deployment", "schedule", "create", deployment, "--interval", "60"))
    ok(invoke("deployment", "schedule", "create", deployment, "--interval", "120"))

    assert "Deleted 2 schedule(s)" in ok(invoke("deployment", "schedule", "clear", deployment))
    assert schedules(invoke, deployment) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--cron", "every day at noon"), "cron"),
        (("--rrule", "FREQ=SOMETIMES"), "rrule"),
        (("--cron", "0 6 * * *", "--timezone", "Mars/Olympus"), "Mars/Olympus"),
        (("--cron", "* * * * *", "--interval", "60"), "exactly one"),
        ((), "exactly one"),
        (("--cron", "* * * * *", "--anchor-date", "2030-01-01"), "--anchor-date"),
    ],
    ids=["bad-cron", "bad-rrule", "bad-zone", "two-kinds", "no-kind", "anchor-without-interval"],
)
def test_bad_schedules_are_refused_with_the_reason(invoke, deployment, args, message):
    err = failed(invoke("deployment", "schedule", "create", deployment, *args))

    assert message in err


def test_an_unknown_schedule_id_lists_the_ones_there_are(invoke, deployment):
    ok(invoke("deployment", "schedule", "create", deployment, "--interval", "60"))
    schedule_id = schedules(invoke, deployment)[0]["id"]

    err = failed(invoke("deployment", "schedule", "pause", deployment, "nope"))

    assert schedule_id in err
