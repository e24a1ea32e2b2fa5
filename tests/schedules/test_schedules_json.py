"""Schedules as values: JSON round trips, Prefect's shapes, construct_schedule, get_dates bounds."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from pydantic import BaseModel, ValidationError

import legato.schedules as schedules
from legato.exceptions import InvalidSchedule
from legato.schedules import (
    DEFAULT_COUNT,
    MAX_COUNT,
    SCHEDULE_TYPES,
    AnySchedule,
    Cron,
    Interval,
    RRule,
    Schedule,
    construct_schedule,
    is_schedule_type,
    schedule_from_json,
)

UTC = dt.UTC

EXAMPLES = [
    pytest.param(Cron("0 9 * * 1-5"), id="cron"),
    pytest.param(
        Cron(
            "0 0 13 * 5",
            timezone="Europe/London",
            day_or=False,
            active=False,
            parameters={"n": 1, "names": ["a"]},
            slug="friday-13",
        ),
        id="cron-full",
    ),
    pytest.param(Interval(3600), id="interval"),
    pytest.param(Interval(0.5, anchor_date=dt.datetime(2024, 1, 1, 9, 30)), id="interval-fraction"),
    pytest.param(
        Interval(
            dt.timedelta(days=1),
            anchor_date=dt.datetime(2024, 3, 1, 9),
            timezone="America/New_York",
            parameters={"x": None},
        ),
        id="interval-daily-zone",
    ),
    pytest.param(RRule("FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=10"), id="rrule"),
    pytest.param(
        RRule(
            "DTSTART;TZID=Europe/London:20240101T090000\nRRULE:FREQ=DAILY\nEXDATE:20240102T090000Z",
            slug="daily",
        ),
        id="rrule-lines",
    ),
]


@pytest.mark.parametrize("schedule", EXAMPLES)
def test_json_round_trip(schedule):
    data = schedule.model_dump(mode="json")
    through_text = json.loads(json.dumps(data))

    again = schedule_from_json(through_text)

    assert again == schedule
    assert type(again) is type(schedule)
    assert data["kind"] == schedule.kind
    assert again.model_dump(mode="json") == data
    start = dt.datetime(2024, 6, 1, tzinfo=UTC)
    assert again.get_dates(5, start=start) == schedule.get_dates(5, start=start)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            {"cron": "0 6 * * *", "timezone": "UTC", "day_or": True},
            Cron("0 6 * * *", timezone="UTC"),
            id="prefect-cron",
        ),
        pytest.param(
            {"interval": 3600.0, "anchor_date": "2024-01-01T00:00:00+00:00", "timezone": "UTC"},
            Interval(3600, anchor_date=dt.datetime(2024, 1, 1, tzinfo=UTC), timezone="UTC"),
            id="prefect-interval",
        ),
        pytest.param(
            {"interval": 600},
            Interval(600),
            id="prefect-interval-seconds-only",
        ),
        pytest.param(
            {"rrule": "FREQ=DAILY;COUNT=3", "timezone": "America/New_York"},
            RRule("FREQ=DAILY;COUNT=3", timezone="America/New_York"),
            id="prefect-rrule",
        ),
        pytest.param(
            {"cron": "0 6 * * *", "active": False, "parameters": {"a": 1}, "slug": "s"},
            Cron("0 6 * * *", active=False, parameters={"a": 1}, slug="s"),
            id="prefect-yaml-entry",
        ),
    ],
)
def test_prefect_shapes_without_kind(data, expected):
    assert schedule_from_json(data) == expected


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        pytest.param({}, "keys: none", id="empty"),
        pytest.param({"cron": "0 6 * * *", "interval": 60}, "keys: cron, interval", id="two-kinds"),
        pytest.param({"schedule": "daily"}, "exactly one of the keys", id="unknown-key"),
        pytest.param({"kind": "weekly", "cron": "0 6 * * *"}, "'weekly'", id="unknown-kind"),
        pytest.param(
            {"cron": "0 6 * * *", "max_active_runs": 3}, "max_active_runs", id="extra-key"
        ),
        pytest.param({"kind": "cron", "interval": 60}, "cron", id="kind-without-its-field"),
        pytest.param({"cron": "0 6 * * * *"}, "5 fields", id="bad-cron"),
    ],
)
def test_bad_json(data, fragment):
    with pytest.raises(ValidationError) as caught:
        schedule_from_json(data)

    assert fragment in str(caught.value)


def test_schedule_from_json_passes_schedules_through():
    schedule = Cron("0 6 * * *")

    assert schedule_from_json(schedule) is schedule


def test_any_schedule_as_a_pydantic_field():
    class Holder(BaseModel):
        schedule: AnySchedule
        more: list[AnySchedule] = []

    holder = Holder.model_validate(
        {
            "schedule": {"cron": "0 6 * * *"},
            "more": [Interval(60), {"kind": "rrule", "rrule": "FREQ=HOURLY"}],
        }
    )

    assert holder.schedule == Cron("0 6 * * *")
    assert [type(item) for item in holder.more] == [Interval, RRule]
    assert Holder.model_validate_json(holder.model_dump_json()) == holder
    schema = Holder.model_json_schema()
    assert schema["properties"]["schedule"]["discriminator"]["propertyName"] == "kind"
    assert schema["$defs"]["Interval"]["properties"]["interval"]["type"] == "number"


def test_schedules_are_immutable_hashable_values():
    schedule = Cron("0 6 * * *", parameters={"a": 1})

    with pytest.raises(ValidationError):
        schedule.cron = "0 7 * * *"
    assert hash(schedule) == hash(Cron("0 6 * * *", parameters={"a": 1}))
    assert len({schedule, Cron("0 6 * * *", parameters={"a": 1}), Cron("0 7 * * *")}) == 2
    assert schedule != Cron("0 6 * * *", parameters={"a": 2})
    assert Interval(60) != Interval(60, timezone="Europe/London")


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param({"cron": "0 6 * * *"}, Cron("0 6 * * *"), id="cron"),
        pytest.param(
            {"cron": "0 6 * * *", "timezone": "Europe/London"},
            Cron("0 6 * * *", timezone="Europe/London"),
            id="cron-zone",
        ),
        pytest.param({"interval": 90}, Interval(90), id="interval-seconds"),
        pytest.param(
            {"interval": dt.timedelta(hours=1), "anchor_date": "2024-01-01T00:00:00"},
            Interval(3600, anchor_date=dt.datetime(2024, 1, 1, tzinfo=UTC)),
            id="interval-anchor-string",
        ),
        pytest.param({"rrule": "FREQ=DAILY"}, RRule("FREQ=DAILY"), id="rrule"),
    ],
)
def test_construct_schedule(kwargs, expected):
    assert construct_schedule(**kwargs) == expected


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        pytest.param({}, "(got: none)", id="nothing"),
        pytest.param({"cron": "0 6 * * *", "interval": 60}, "(got: cron, interval)", id="two"),
        pytest.param(
            {"cron": "0 6 * * *", "interval": 60, "rrule": "FREQ=DAILY"},
            "(got: cron, interval, rrule)",
            id="three",
        ),
        pytest.param(
            {"cron": "0 6 * * *", "anchor_date": dt.datetime(2024, 1, 1)},
            "anchor_date applies only to interval",
            id="anchor-with-cron",
        ),
        pytest.param({"timezone": "UTC"}, "exactly one of cron=", id="zone-only"),
    ],
)
def test_construct_schedule_needs_exactly_one_kind(kwargs, fragment):
    with pytest.raises(InvalidSchedule) as caught:
        construct_schedule(**kwargs)

    assert fragment in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_type_helpers_and_prefect_module_path():
    from legato.client.schemas import schedules as prefect_path

    for schedule in (Cron("0 6 * * *"), Interval(60), RRule("FREQ=DAILY")):
        assert is_schedule_type(schedule)
        assert isinstance(schedule, SCHEDULE_TYPES)
        assert isinstance(schedule, Schedule)
    assert not is_schedule_type({"cron": "0 6 * * *"})
    assert prefect_path.CronSchedule is Cron
    assert prefect_path.IntervalSchedule is Interval
    assert prefect_path.RRuleSchedule is RRule
    assert prefect_path.construct_schedule is construct_schedule
    assert all(hasattr(prefect_path, name) for name in prefect_path.__all__)
    assert all(hasattr(schedules, name) for name in schedules.__all__)


# -- get_dates bounds --------------------------------------------------------------------

START = dt.datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("n", "end", "expected_count"),
    [
        pytest.param(None, None, DEFAULT_COUNT, id="default-count"),
        pytest.param(0, None, 0, id="zero"),
        pytest.param(7, None, 7, id="n"),
        pytest.param(None, START + dt.timedelta(minutes=9), 10, id="end-inclusive"),
        pytest.param(3, START + dt.timedelta(minutes=9), 3, id="n-before-end"),
        pytest.param(50, START + dt.timedelta(minutes=9), 10, id="end-before-n"),
        pytest.param(None, START + dt.timedelta(days=30), MAX_COUNT, id="end-far-capped"),
        pytest.param(5, START - dt.timedelta(minutes=1), 0, id="end-before-start"),
        pytest.param(5, START, 1, id="end-equals-start"),
    ],
)
def test_get_dates_bounds(n, end, expected_count):
    schedule = Cron("* * * * *")

    dates = schedule.get_dates(n, start=START, end=end)

    assert len(dates) == expected_count
    assert all(date >= START for date in dates)
    assert end is None or all(date <= end for date in dates)
    assert dates == sorted(set(dates))


@pytest.mark.parametrize("n", [-1, 1.5, True, "3"])
def test_get_dates_rejects_bad_n(n):
    with pytest.raises(ValueError, match="n must be a whole number"):
        Cron("* * * * *").get_dates(n, start=START)


def test_get_dates_starts_now_by_default():
    schedule = Interval(60)

    before = dt.datetime.now(UTC)
    dates = schedule.get_dates(3)
    after = dt.datetime.now(UTC)

    assert len(dates) == 3
    assert before <= dates[0] <= after + dt.timedelta(minutes=1)
    assert all(date.tzinfo is not None for date in dates)


def test_many_cron_schedules_expand_quickly():
    # The scheduler expands every deployment's schedules each loop: keep it cheap.
    crons = [Cron(f"{minute} */2 * * *", timezone="America/New_York") for minute in range(60)]

    began = time.perf_counter()
    for schedule in crons * 10:
        assert len(schedule.get_dates(100, start=START)) == 100
    elapsed = time.perf_counter() - began

    assert elapsed < 10.0  # 60,000 dates; a few hundred ms on a laptop
