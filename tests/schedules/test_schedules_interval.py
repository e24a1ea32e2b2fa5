"""Interval schedules: anchors, elapsed versus wall-clock steps across DST, bad intervals."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from legato.schedules import Interval, IntervalSchedule

UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def iso(dates):
    return [date.isoformat() for date in dates]


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # 2024-03-10: New York clocks go from 02:00 EST to 03:00 EDT.
        pytest.param(
            dt.datetime(2024, 3, 10, 0, tzinfo=NEW_YORK),
            [
                "2024-03-10T00:00:00-05:00",
                "2024-03-10T01:00:00-05:00",
                "2024-03-10T03:00:00-04:00",
                "2024-03-10T04:00:00-04:00",
            ],
            id="spring-forward",
        ),
        # 2024-11-03: New York clocks go from 02:00 EDT back to 01:00 EST.
        pytest.param(
            dt.datetime(2024, 11, 3, 0, tzinfo=NEW_YORK),
            [
                "2024-11-03T00:00:00-04:00",
                "2024-11-03T01:00:00-04:00",
                "2024-11-03T01:00:00-05:00",
                "2024-11-03T02:00:00-05:00",
            ],
            id="fall-back-fires-in-both-one-oclocks",
        ),
    ],
)
def test_hourly_interval_keeps_elapsed_spacing_across_dst(start, expected):
    schedule = Interval(3600, timezone="America/New_York")

    dates = schedule.get_dates(4, start=start)

    assert iso(dates) == expected
    assert [
        later.astimezone(UTC) - earlier.astimezone(UTC)
        for earlier, later in zip(dates, dates[1:], strict=False)
    ] == [HOUR] * 3


@pytest.mark.parametrize(
    ("anchor", "start", "expected"),
    [
        pytest.param(
            dt.datetime(2024, 1, 1, 9, tzinfo=NEW_YORK),
            dt.datetime(2024, 3, 9, tzinfo=NEW_YORK),
            ["2024-03-09T09:00:00-05:00", "2024-03-10T09:00:00-04:00", "2024-03-11T09:00:00-04:00"],
            id="spring-keeps-nine-oclock",
        ),
        pytest.param(
            dt.datetime(2024, 1, 1, 9, tzinfo=NEW_YORK),
            dt.datetime(2024, 11, 2, tzinfo=NEW_YORK),
            ["2024-11-02T09:00:00-04:00", "2024-11-03T09:00:00-05:00", "2024-11-04T09:00:00-05:00"],
            id="fall-keeps-nine-oclock",
        ),
        pytest.param(
            dt.datetime(2024, 1, 1, 2, 30, tzinfo=NEW_YORK),
            dt.datetime(2024, 3, 9, tzinfo=NEW_YORK),
            ["2024-03-09T02:30:00-05:00", "2024-03-10T03:30:00-04:00", "2024-03-11T02:30:00-04:00"],
            id="spring-skipped-time-one-gap-later",
        ),
        pytest.param(
            dt.datetime(2024, 1, 1, 1, 30, tzinfo=NEW_YORK),
            dt.datetime(2024, 11, 2, tzinfo=NEW_YORK),
            ["2024-11-02T01:30:00-04:00", "2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"],
            id="fall-repeated-time-once",
        ),
    ],
)
def test_daily_interval_keeps_the_local_time_across_dst(anchor, start, expected):
    schedule = Interval(86400, anchor_date=anchor)

    assert schedule.timezone == "America/New_York"  # taken from the anchor's zone
    assert iso(schedule.get_dates(3, start=start)) == expected


def test_multi_day_interval_steps_on_the_local_clock():
    schedule = Interval(
        dt.timedelta(days=2), anchor_date=dt.datetime(2024, 3, 6, 8), timezone="America/New_York"
    )

    dates = schedule.get_dates(4, start=dt.datetime(2024, 3, 6, tzinfo=NEW_YORK))

    assert iso(dates) == [
        "2024-03-06T08:00:00-05:00",
        "2024-03-08T08:00:00-05:00",
        "2024-03-10T08:00:00-04:00",
        "2024-03-12T08:00:00-04:00",
    ]


def test_just_under_a_day_is_elapsed_time():
    interval = dt.timedelta(hours=23, minutes=59)
    schedule = Interval(
        interval, anchor_date=dt.datetime(2024, 3, 9, 12), timezone="America/New_York"
    )

    dates = schedule.get_dates(3, start=dt.datetime(2024, 3, 9, 12, tzinfo=NEW_YORK))

    assert [
        b.astimezone(UTC) - a.astimezone(UTC) for a, b in zip(dates, dates[1:], strict=False)
    ] == [
        interval,
        interval,
    ]
    assert iso(dates)[1] == "2024-03-10T12:59:00-04:00"  # 11:59 EST + 23h59m, read in EDT


@pytest.mark.parametrize(
    ("interval", "anchor", "start", "expected"),
    [
        pytest.param(
            600,
            None,
            dt.datetime(2024, 5, 5, 10, 3, tzinfo=UTC),
            ["2024-05-05T10:10:00+00:00", "2024-05-05T10:20:00+00:00"],
            id="default-anchor-gives-round-times",
        ),
        pytest.param(
            3600,
            dt.datetime(2024, 5, 5, 10, 17, tzinfo=UTC),
            dt.datetime(2024, 1, 1, tzinfo=UTC),
            ["2024-05-05T10:17:00+00:00", "2024-05-05T11:17:00+00:00"],
            id="no-dates-before-the-anchor",
        ),
        pytest.param(
            3600,
            dt.datetime(2024, 5, 5, 10, 17, tzinfo=UTC),
            dt.datetime(2024, 5, 5, 11, 17, tzinfo=UTC),
            ["2024-05-05T11:17:00+00:00", "2024-05-05T12:17:00+00:00"],
            id="start-on-a-date-includes-it",
        ),
        pytest.param(
            3600,
            dt.datetime(2024, 5, 5, 10, 17, tzinfo=UTC),
            dt.datetime(2024, 5, 5, 11, 17, 0, 1, tzinfo=UTC),
            ["2024-05-05T12:17:00+00:00", "2024-05-05T13:17:00+00:00"],
            id="start-just-after-a-date",
        ),
        pytest.param(
            0.25,
            dt.datetime(2024, 5, 5, tzinfo=UTC),
            dt.datetime(2024, 5, 5, 0, 0, 0, 100000, tzinfo=UTC),
            ["2024-05-05T00:00:00.250000+00:00", "2024-05-05T00:00:00.500000+00:00"],
            id="fractional-seconds",
        ),
        pytest.param(
            dt.timedelta(minutes=90),
            "2024-05-05T00:00:00",
            dt.datetime(2024, 5, 5, 2, tzinfo=UTC),
            ["2024-05-05T03:00:00+00:00", "2024-05-05T04:30:00+00:00"],
            id="timedelta-and-string-anchor",
        ),
    ],
)
def test_interval_steps_from_its_anchor(interval, anchor, start, expected):
    schedule = Interval(interval, anchor_date=anchor)

    assert iso(schedule.get_dates(2, start=start)) == expected


def test_anchor_in_other_zone_is_read_on_the_schedule_clock():
    # 14:00 UTC is 09:00 in New York (EST): the daily schedule keeps 09:00 local.
    schedule = Interval(
        DAY, anchor_date=dt.datetime(2024, 1, 1, 14, tzinfo=UTC), timezone="America/New_York"
    )

    dates = schedule.get_dates(2, start=dt.datetime(2024, 7, 1, tzinfo=NEW_YORK))

    assert iso(dates) == ["2024-07-01T09:00:00-04:00", "2024-07-02T09:00:00-04:00"]


def test_naive_anchor_is_read_in_the_time_zone_and_default_anchor_is_local_midnight():
    naive = Interval(3600, anchor_date=dt.datetime(2024, 1, 1, 9), timezone="Europe/London")
    default = Interval(DAY, timezone="America/New_York")

    assert naive.anchor_date == dt.datetime(2024, 1, 1, 9, tzinfo=ZoneInfo("Europe/London"))
    assert default.anchor_date == dt.datetime(2020, 1, 1, tzinfo=NEW_YORK)
    assert iso(default.get_dates(1, start=dt.datetime(2024, 7, 1, 0, 1, tzinfo=NEW_YORK))) == [
        "2024-07-02T00:00:00-04:00"
    ]


def test_fixed_offset_anchor_without_timezone_is_utc():
    offset = dt.timezone(dt.timedelta(hours=2))
    schedule = Interval(3600, anchor_date=dt.datetime(2024, 1, 1, 9, tzinfo=offset))

    assert schedule.timezone is None
    assert schedule.get_dates(1, start=dt.datetime(2024, 1, 1, tzinfo=UTC)) == [
        dt.datetime(2024, 1, 1, 7, tzinfo=UTC)
    ]


def test_interval_json_is_seconds_and_prefect_names_work():
    assert IntervalSchedule is Interval
    schedule = IntervalSchedule(interval=dt.timedelta(minutes=5), timezone="UTC")

    data = schedule.model_dump(mode="json")

    assert data["interval"] == 300.0
    assert data["anchor_date"] == "2020-01-01T00:00:00Z"
    assert Interval(300, timezone="UTC") == schedule


@pytest.mark.parametrize(
    ("interval", "fragment"),
    [
        pytest.param(0, "greater than 0", id="zero"),
        pytest.param(-60, "greater than 0", id="negative"),
        pytest.param(dt.timedelta(0), "greater than 0", id="zero-timedelta"),
        pytest.param(dt.timedelta(seconds=-1), "greater than 0", id="negative-timedelta"),
        pytest.param(True, "not a duration", id="bool"),
        pytest.param(float("nan"), "not usable", id="nan"),
        pytest.param(float("inf"), "not usable", id="infinity"),
        pytest.param("soon", "interval", id="word"),
    ],
)
def test_bad_intervals(interval, fragment):
    with pytest.raises(ValidationError) as caught:
        Interval(interval)

    assert fragment in str(caught.value)
    if fragment != "interval":
        assert "e.g. 3600" in str(caught.value)
