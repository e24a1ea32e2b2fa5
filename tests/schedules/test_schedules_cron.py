"""Cron schedules: expansion, day_or, time zones, DST, and bad expressions."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from legato.exceptions import InvalidSchedule
from legato.schedules import Cron, CronSchedule

UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")


def iso(dates):
    return [date.isoformat() for date in dates]


@pytest.mark.parametrize(
    ("cron", "start", "expected"),
    [
        pytest.param(
            "0 9 * * 1-5",
            "2024-03-08T08:00:00+00:00",
            ["2024-03-08T09:00:00+00:00", "2024-03-11T09:00:00+00:00", "2024-03-12T09:00:00+00:00"],
            id="weekdays-skip-weekend",
        ),
        pytest.param(
            "*/15 * * * *",
            "2024-01-01T10:07:00+00:00",
            ["2024-01-01T10:15:00+00:00", "2024-01-01T10:30:00+00:00", "2024-01-01T10:45:00+00:00"],
            id="every-quarter-hour",
        ),
        pytest.param(
            "0 9 * * *",
            "2024-01-01T09:00:00+00:00",
            ["2024-01-01T09:00:00+00:00", "2024-01-02T09:00:00+00:00", "2024-01-03T09:00:00+00:00"],
            id="start-is-inclusive",
        ),
        pytest.param(
            "0 9 * * *",
            "2024-01-01T09:00:00.000001+00:00",
            ["2024-01-02T09:00:00+00:00", "2024-01-03T09:00:00+00:00", "2024-01-04T09:00:00+00:00"],
            id="just-after-a-date",
        ),
        pytest.param(
            "@daily",
            "2024-02-28T12:00:00+00:00",
            ["2024-02-29T00:00:00+00:00", "2024-03-01T00:00:00+00:00", "2024-03-02T00:00:00+00:00"],
            id="macro-daily-leap-day",
        ),
        pytest.param(
            "@hourly",
            "2024-12-31T22:30:00+00:00",
            ["2024-12-31T23:00:00+00:00", "2025-01-01T00:00:00+00:00", "2025-01-01T01:00:00+00:00"],
            id="macro-hourly-new-year",
        ),
        pytest.param(
            "0 0 1 */4 *",
            "2024-02-10T00:00:00+00:00",
            ["2024-05-01T00:00:00+00:00", "2024-09-01T00:00:00+00:00", "2025-01-01T00:00:00+00:00"],
            id="month-step",
        ),
        pytest.param(
            "30 12 * jan,jul sun",
            "2024-06-20T00:00:00+00:00",
            ["2024-07-07T12:30:00+00:00", "2024-07-14T12:30:00+00:00", "2024-07-21T12:30:00+00:00"],
            id="names",
        ),
        pytest.param(
            "0 0 * * 7",
            "2024-03-01T00:00:00+00:00",
            ["2024-03-03T00:00:00+00:00", "2024-03-10T00:00:00+00:00", "2024-03-17T00:00:00+00:00"],
            id="seven-is-sunday",
        ),
        pytest.param(
            "0 0 31 * *",
            "2024-01-15T00:00:00+00:00",
            ["2024-01-31T00:00:00+00:00", "2024-03-31T00:00:00+00:00", "2024-05-31T00:00:00+00:00"],
            id="only-months-with-a-31st",
        ),
        pytest.param(
            "0 0 L * *",
            "2024-01-15T00:00:00+00:00",
            ["2024-01-31T00:00:00+00:00", "2024-02-29T00:00:00+00:00", "2024-03-31T00:00:00+00:00"],
            id="last-day-of-month",
        ),
        pytest.param(
            "0 6 * * 5#2",
            "2024-01-01T00:00:00+00:00",
            ["2024-01-12T06:00:00+00:00", "2024-02-09T06:00:00+00:00", "2024-03-08T06:00:00+00:00"],
            id="second-friday",
        ),
        pytest.param(
            "0 0 15W * *",
            "2024-06-01T00:00:00+00:00",
            ["2024-06-14T00:00:00+00:00", "2024-07-15T00:00:00+00:00", "2024-08-15T00:00:00+00:00"],
            id="nearest-weekday",
        ),
        pytest.param(
            "0 0 29 2 *",
            "2021-01-01T00:00:00+00:00",
            ["2024-02-29T00:00:00+00:00", "2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"],
            id="leap-days-only",
        ),
    ],
)
def test_cron_dates_in_utc(cron, start, expected):
    schedule = Cron(cron)

    assert iso(schedule.get_dates(3, start=dt.datetime.fromisoformat(start))) == expected


@pytest.mark.parametrize(
    ("day_or", "expected"),
    [
        pytest.param(
            True,
            ["2024-09-06", "2024-09-13", "2024-09-20", "2024-09-27", "2024-10-04"],
            id="or-13th-or-friday",
        ),
        pytest.param(
            False,
            ["2024-09-13", "2024-12-13", "2025-06-13", "2026-02-13", "2026-03-13"],
            id="and-friday-the-13th",
        ),
    ],
)
def test_day_or_joins_day_of_month_and_weekday(day_or, expected):
    schedule = Cron("0 0 13 * 5", day_or=day_or)

    dates = schedule.get_dates(5, start=dt.datetime(2024, 9, 1, tzinfo=UTC))

    assert [date.date().isoformat() for date in dates] == expected


def test_day_or_does_not_matter_when_one_day_field_is_a_star():
    start = dt.datetime(2024, 9, 1, tzinfo=UTC)

    assert Cron("0 0 * * 5", day_or=True).get_dates(4, start=start) == Cron(
        "0 0 * * 5", day_or=False
    ).get_dates(4, start=start)


@pytest.mark.parametrize(
    ("timezone", "start", "expected"),
    [
        pytest.param(
            "Europe/London",
            dt.datetime(2024, 3, 29, tzinfo=UTC),
            [
                "2024-03-29T09:00:00+00:00",
                "2024-03-30T09:00:00+00:00",
                "2024-03-31T09:00:00+01:00",
                "2024-04-01T09:00:00+01:00",
            ],
            id="london-into-summer-time",
        ),
        pytest.param(
            "Asia/Kolkata",
            dt.datetime(2024, 1, 1, tzinfo=UTC),
            [
                "2024-01-01T09:00:00+05:30",
                "2024-01-02T09:00:00+05:30",
                "2024-01-03T09:00:00+05:30",
                "2024-01-04T09:00:00+05:30",
            ],
            id="half-hour-offset",
        ),
        pytest.param(
            "Australia/Sydney",
            dt.datetime(2024, 4, 5, tzinfo=UTC),
            [
                "2024-04-06T09:00:00+11:00",
                "2024-04-07T09:00:00+10:00",
                "2024-04-08T09:00:00+10:00",
                "2024-04-09T09:00:00+10:00",
            ],
            id="southern-hemisphere-out-of-summer-time",
        ),
    ],
)
def test_a_local_time_stays_local_across_dst(timezone, start, expected):
    schedule = Cron("0 9 * * *", timezone=timezone)

    dates = schedule.get_dates(4, start=start)

    assert iso(dates) == expected
    assert all(date.tzinfo == ZoneInfo(timezone) for date in dates)


@pytest.mark.parametrize(
    ("cron", "start", "expected"),
    [
        # 2024-03-10: New York clocks go from 02:00 EST to 03:00 EDT.
        pytest.param(
            "30 2 * * *",
            dt.datetime(2024, 3, 9, tzinfo=NEW_YORK),
            [
                "2024-03-09T02:30:00-05:00",
                "2024-03-10T03:30:00-04:00",  # 02:30 does not exist: one gap later
                "2024-03-11T02:30:00-04:00",
            ],
            id="spring-skipped-time-fires-one-gap-later",
        ),
        pytest.param(
            "30 2 * * *",
            dt.datetime(2024, 3, 10, 3, 10, tzinfo=NEW_YORK),
            ["2024-03-10T03:30:00-04:00", "2024-03-11T02:30:00-04:00"],
            id="spring-start-after-the-jump-still-sees-the-shifted-time",
        ),
        pytest.param(
            "*/30 * * * *",
            dt.datetime(2024, 3, 10, 1, tzinfo=NEW_YORK),
            [
                "2024-03-10T01:00:00-05:00",
                "2024-03-10T01:30:00-05:00",
                "2024-03-10T03:00:00-04:00",
                "2024-03-10T03:30:00-04:00",
                "2024-03-10T04:00:00-04:00",
            ],
            id="spring-every-half-hour-no-duplicates",
        ),
        pytest.param(
            "0,45 2,3 * * *",
            dt.datetime(2024, 3, 10, tzinfo=NEW_YORK),
            [
                "2024-03-10T03:00:00-04:00",
                "2024-03-10T03:45:00-04:00",
                "2024-03-11T02:00:00-04:00",
                "2024-03-11T02:45:00-04:00",
            ],
            id="spring-shifted-times-in-order-and-merged",
        ),
        # 2024-11-03: New York clocks go from 02:00 EDT back to 01:00 EST.
        pytest.param(
            "30 1 * * *",
            dt.datetime(2024, 11, 2, tzinfo=NEW_YORK),
            [
                "2024-11-02T01:30:00-04:00",
                "2024-11-03T01:30:00-04:00",  # once, at its first occurrence
                "2024-11-04T01:30:00-05:00",
            ],
            id="fall-repeated-time-fires-once",
        ),
        pytest.param(
            "30 1 * * *",
            dt.datetime(2024, 11, 3, 1, 15, fold=1, tzinfo=NEW_YORK),
            ["2024-11-04T01:30:00-05:00", "2024-11-05T01:30:00-05:00"],
            id="fall-start-in-the-repeated-hour",
        ),
        pytest.param(
            "0 * * * *",
            dt.datetime(2024, 11, 3, tzinfo=NEW_YORK),
            [
                "2024-11-03T00:00:00-04:00",
                "2024-11-03T01:00:00-04:00",
                "2024-11-03T02:00:00-05:00",  # two real hours after 01:00 EDT
                "2024-11-03T03:00:00-05:00",
            ],
            id="fall-hourly-follows-schedule-hours",
        ),
    ],
)
def test_new_york_dst(cron, start, expected):
    schedule = Cron(cron, timezone="America/New_York")

    assert iso(schedule.get_dates(len(expected), start=start)) == expected


def test_lord_howe_half_hour_dst_gap():
    # 2024-10-06: Lord Howe Island goes from 02:00 (+10:30) to 02:30 (+11:00).
    zone = ZoneInfo("Australia/Lord_Howe")
    schedule = Cron("15 2 * * *", timezone="Australia/Lord_Howe")

    dates = schedule.get_dates(3, start=dt.datetime(2024, 10, 5, tzinfo=zone))

    assert iso(dates) == [
        "2024-10-05T02:15:00+10:30",
        "2024-10-06T02:45:00+11:00",
        "2024-10-07T02:15:00+11:00",
    ]


def test_a_time_shifted_past_a_real_time_comes_after_it():
    # 02:10 does not exist on Lord Howe on 2024-10-06 and is read as 02:40 (+11:00),
    # after the real 02:30 that the schedule also names.
    zone = ZoneInfo("Australia/Lord_Howe")
    schedule = Cron("10,30 2 * * *", timezone="Australia/Lord_Howe")

    dates = schedule.get_dates(4, start=dt.datetime(2024, 10, 6, tzinfo=zone))

    assert iso(dates) == [
        "2024-10-06T02:30:00+11:00",
        "2024-10-06T02:40:00+11:00",
        "2024-10-07T02:10:00+11:00",
        "2024-10-07T02:30:00+11:00",
    ]


def test_naive_start_and_end_are_read_in_the_schedule_time_zone():
    schedule = Cron("0 9 * * *", timezone="America/New_York")

    dates = schedule.get_dates(start=dt.datetime(2024, 1, 1, 9), end=dt.datetime(2024, 1, 3, 9))

    assert iso(dates) == [
        "2024-01-01T09:00:00-05:00",
        "2024-01-02T09:00:00-05:00",
        "2024-01-03T09:00:00-05:00",
    ]


def test_positional_and_prefect_names():
    assert CronSchedule is Cron
    by_keyword = CronSchedule(cron="0 9 * * *", timezone="UTC", day_or=False)
    by_position = Cron("0 9 * * *", "UTC", False)
    assert by_keyword == by_position
    assert by_keyword.kind == "cron"
    assert Cron("  0 9 * * *  ").cron == "0 9 * * *"


@pytest.mark.parametrize(
    ("cron", "fragments"),
    [
        pytest.param("0 9 * * * *", ["'0 9 * * * *'", "6 fields", "5 fields"], id="six-fields"),
        pytest.param("0 9 * *", ["4 fields", "(minute hour day month weekday)"], id="four-fields"),
        pytest.param("", ["0 fields", "e.g. '0 9 * * 1-5'"], id="empty"),
        pytest.param("61 * * * *", ["'61 * * * *'", "out of range"], id="minute-out-of-range"),
        pytest.param("*/0 * * * *", ["'*/0 * * * *'", "5 fields"], id="zero-step"),
        pytest.param("0 9 * * funday", ["'0 9 * * funday'"], id="bad-weekday-name"),
        pytest.param("R 9 * * *", ["random (R)", "explicit values"], id="random"),
        pytest.param("H 9 * * *", ["hashed (H)"], id="hashed"),
        pytest.param("@reboot", ["'@reboot'", "@daily"], id="unknown-macro"),
        pytest.param("0 0 30 2 *", ["never matches", "February 30"], id="february-30"),
    ],
)
def test_bad_cron_expressions_name_the_value_and_the_fix(cron, fragments):
    with pytest.raises(ValidationError) as caught:
        Cron(cron)

    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message
    assert isinstance(caught.value, ValueError)


def test_never_matching_depends_on_day_or():
    # February 30 OR a Monday in February: Mondays match. AND: nothing does.
    assert Cron("0 0 30 2 1", day_or=True).get_dates(
        1, start=dt.datetime(2024, 1, 1, tzinfo=UTC)
    ) == [dt.datetime(2024, 2, 5, tzinfo=UTC)]
    with pytest.raises(ValidationError, match="never matches"):
        Cron("0 0 30 2 1", day_or=False)


@pytest.mark.parametrize(
    ("timezone", "fragments"),
    [
        pytest.param("America/NewYork", ["'America/NewYork'", "America/New_York"], id="typo"),
        pytest.param("Mars/Olympus_Mons", ["'Mars/Olympus_Mons'", "IANA"], id="unknown"),
        pytest.param("../etc/passwd", ["'../etc/passwd'", "'UTC'"], id="path"),
        pytest.param("", ["''", "IANA"], id="empty"),
    ],
)
def test_unknown_time_zone(timezone, fragments):
    with pytest.raises(ValidationError) as caught:
        Cron("0 9 * * *", timezone=timezone)

    for fragment in fragments:
        assert fragment in str(caught.value)


def test_validation_errors_are_invalid_schedule_underneath():
    with pytest.raises(ValidationError) as caught:
        Cron("0 9 * * * *")

    [error] = caught.value.errors()
    assert error["loc"] == ("cron",)
    assert isinstance(error["ctx"]["error"], InvalidSchedule)
