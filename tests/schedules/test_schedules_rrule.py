"""RRule schedules: RFC 5545 text, DTSTART/UNTIL/COUNT, time zones, DST, bad rules."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from legato.schedules import RRule, RRuleSchedule

UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def iso(dates):
    return [date.isoformat() for date in dates]


@pytest.mark.parametrize(
    ("rrule", "timezone", "start", "expected"),
    [
        pytest.param(
            "DTSTART:20240101T090000\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=5",
            "Europe/London",
            dt.datetime(2023, 12, 1, tzinfo=UTC),
            [
                "2024-01-01T09:00:00+00:00",
                "2024-01-03T09:00:00+00:00",
                "2024-01-05T09:00:00+00:00",
                "2024-01-08T09:00:00+00:00",
                "2024-01-10T09:00:00+00:00",
            ],
            id="byday-count",
        ),
        pytest.param(
            "DTSTART:20240101T090000\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=5",
            "Europe/London",
            dt.datetime(2024, 1, 4, tzinfo=UTC),
            ["2024-01-05T09:00:00+00:00", "2024-01-08T09:00:00+00:00", "2024-01-10T09:00:00+00:00"],
            id="count-is-counted-from-dtstart",
        ),
        pytest.param(
            "DTSTART:20240101T090000\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=5",
            "Europe/London",
            dt.datetime(2024, 1, 11, tzinfo=UTC),
            [],
            id="count-exhausted",
        ),
        pytest.param(
            "DTSTART;TZID=America/New_York:20240101T090000\nRRULE:FREQ=DAILY;UNTIL=20240103T140000Z",
            None,
            dt.datetime(2023, 1, 1, tzinfo=UTC),
            ["2024-01-01T09:00:00-05:00", "2024-01-02T09:00:00-05:00", "2024-01-03T09:00:00-05:00"],
            id="until-utc-is-inclusive",
        ),
        pytest.param(
            "DTSTART;TZID=America/New_York:20240101T090000\nRRULE:FREQ=DAILY;UNTIL=20240103T135959Z",
            None,
            dt.datetime(2023, 1, 1, tzinfo=UTC),
            ["2024-01-01T09:00:00-05:00", "2024-01-02T09:00:00-05:00"],
            id="until-utc-a-second-early",
        ),
        pytest.param(
            "DTSTART:20240101T090000\nRRULE:FREQ=DAILY;UNTIL=20240103T090000",
            "America/New_York",
            dt.datetime(2023, 1, 1, tzinfo=UTC),
            ["2024-01-01T09:00:00-05:00", "2024-01-02T09:00:00-05:00", "2024-01-03T09:00:00-05:00"],
            id="floating-until",
        ),
        pytest.param(
            "DTSTART:20240101T090000 RRULE:FREQ=DAILY;UNTIL=20240102T140000Z",
            "America/New_York",
            dt.datetime(2023, 1, 1, tzinfo=UTC),
            ["2024-01-01T09:00:00-05:00", "2024-01-02T09:00:00-05:00"],
            id="floating-dtstart-utc-until-space-separated",
        ),
        pytest.param(
            "DTSTART;TZID=Europe/London:20240329T090000\nRRULE:FREQ=DAILY;COUNT=4",
            None,
            dt.datetime(2024, 1, 1, tzinfo=UTC),
            [
                "2024-03-29T09:00:00+00:00",
                "2024-03-30T09:00:00+00:00",
                "2024-03-31T09:00:00+01:00",
                "2024-04-01T09:00:00+01:00",
            ],
            id="tzid-zone-when-no-timezone",
        ),
        pytest.param(
            "DTSTART:20240101T140000Z\nRRULE:FREQ=DAILY;COUNT=3",
            "America/New_York",
            dt.datetime(2023, 1, 1, tzinfo=UTC),
            ["2024-01-01T09:00:00-05:00", "2024-01-02T09:00:00-05:00", "2024-01-03T09:00:00-05:00"],
            id="utc-dtstart-is-an-instant",
        ),
        pytest.param(
            "DTSTART;TZID=Europe/Paris:20240101T150000\nRRULE:FREQ=DAILY;COUNT=2",
            "America/New_York",
            dt.datetime(2023, 1, 1, tzinfo=UTC),
            ["2024-01-01T09:00:00-05:00", "2024-01-02T09:00:00-05:00"],
            id="timezone-sets-the-clock-dtstart-the-instant",
        ),
        pytest.param(
            "FREQ=DAILY;BYHOUR=9",
            "America/New_York",
            dt.datetime(2024, 3, 9, tzinfo=NEW_YORK),
            ["2024-03-09T09:00:00-05:00", "2024-03-10T09:00:00-04:00", "2024-03-11T09:00:00-04:00"],
            id="no-dtstart-local-across-dst",
        ),
        pytest.param(
            "DTSTART:20240101T090000\nRRULE:FREQ=DAILY;COUNT=5\nEXDATE:20240103T090000\n"
            "RDATE:20240110T120000",
            None,
            dt.datetime(2023, 1, 1, tzinfo=UTC),
            [
                "2024-01-01T09:00:00+00:00",
                "2024-01-02T09:00:00+00:00",
                "2024-01-04T09:00:00+00:00",
                "2024-01-05T09:00:00+00:00",
                "2024-01-10T12:00:00+00:00",
            ],
            id="exdate-and-rdate",
        ),
        pytest.param(
            "DTSTART;TZID=America/New_York:20240101T090000\nRRULE:FREQ=DAILY;COUNT=3\n"
            "EXDATE;TZID=America/New_York:20240102T090000",
            None,
            dt.datetime(2023, 1, 1, tzinfo=UTC),
            ["2024-01-01T09:00:00-05:00", "2024-01-03T09:00:00-05:00"],
            id="exdate-with-tzid",
        ),
        pytest.param(
            "DTSTART:20240101T000000\nRRULE:FREQ=DAILY;COUNT=7\nEXRULE:FREQ=WEEKLY;BYDAY=SA,SU",
            None,
            dt.datetime(2023, 1, 1, tzinfo=UTC),
            [f"2024-01-0{day}T00:00:00+00:00" for day in range(1, 6)],
            id="exrule-weekends",
        ),
        pytest.param(
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;BYHOUR=17",
            None,
            dt.datetime(2024, 1, 1, tzinfo=UTC),
            ["2024-01-31T17:00:00+00:00", "2024-02-29T17:00:00+00:00", "2024-03-29T17:00:00+00:00"],
            id="last-weekday-of-month",
        ),
        pytest.param(
            "freq=monthly;bymonthday=-1",
            None,
            dt.datetime(2024, 1, 1, tzinfo=UTC),
            ["2024-01-31T00:00:00+00:00", "2024-02-29T00:00:00+00:00", "2024-03-31T00:00:00+00:00"],
            id="lower-case-last-day",
        ),
        pytest.param(
            "DTSTART:20240101T000000\nRRULE:FREQ=SECONDLY;INTERVAL=90;COUNT=3",
            None,
            dt.datetime(2023, 1, 1, tzinfo=UTC),
            ["2024-01-01T00:00:00+00:00", "2024-01-01T00:01:30+00:00", "2024-01-01T00:03:00+00:00"],
            id="secondly-count",
        ),
    ],
)
def test_rrule_dates(rrule, timezone, start, expected):
    schedule = RRule(rrule, timezone=timezone)
    is_finite = "COUNT=" in rrule or "UNTIL=" in rrule

    dates = iso(schedule.get_dates(10, start=start))

    assert (dates if is_finite else dates[: len(expected)]) == expected


@pytest.mark.parametrize(
    ("rrule", "start", "expected"),
    [
        # 2024-03-10: New York clocks go from 02:00 EST to 03:00 EDT.
        pytest.param(
            "FREQ=DAILY;BYHOUR=2;BYMINUTE=30",
            dt.datetime(2024, 3, 9, tzinfo=NEW_YORK),
            ["2024-03-09T02:30:00-05:00", "2024-03-10T03:30:00-04:00", "2024-03-11T02:30:00-04:00"],
            id="spring-skipped-time-one-gap-later",
        ),
        pytest.param(
            "FREQ=MINUTELY;INTERVAL=30",
            dt.datetime(2024, 3, 10, 1, tzinfo=NEW_YORK),
            ["2024-03-10T01:00:00-05:00", "2024-03-10T01:30:00-05:00", "2024-03-10T03:00:00-04:00"],
            id="spring-half-hourly-no-duplicates",
        ),
        # 2024-11-03: New York clocks go from 02:00 EDT back to 01:00 EST.
        pytest.param(
            "FREQ=DAILY;BYHOUR=1;BYMINUTE=30",
            dt.datetime(2024, 11, 2, tzinfo=NEW_YORK),
            ["2024-11-02T01:30:00-04:00", "2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"],
            id="fall-repeated-time-once",
        ),
        pytest.param(
            "FREQ=HOURLY",
            dt.datetime(2024, 11, 3, tzinfo=NEW_YORK),
            ["2024-11-03T00:00:00-04:00", "2024-11-03T01:00:00-04:00", "2024-11-03T02:00:00-05:00"],
            id="fall-hourly-follows-the-clock",
        ),
    ],
)
def test_rrule_dst(rrule, start, expected):
    schedule = RRule(rrule, timezone="America/New_York")

    assert iso(schedule.get_dates(len(expected), start=start)) == expected


def test_zone_comes_from_timezone_then_tzid_then_utc():
    with_tzid = "DTSTART;TZID=Europe/London:20240101T090000\nRRULE:FREQ=DAILY"

    assert RRule(with_tzid).zone == LONDON
    assert RRule(with_tzid, timezone="America/New_York").zone == NEW_YORK
    assert RRule("FREQ=DAILY").zone == ZoneInfo("UTC")
    assert RRule("DTSTART:20240101T090000Z\nRRULE:FREQ=DAILY").zone == ZoneInfo("UTC")


def test_a_fine_rule_started_long_ago_is_quick_and_aligned():
    schedule = RRule("FREQ=MINUTELY;INTERVAL=7")  # from 2020-01-01 00:00 UTC
    start = dt.datetime(2035, 3, 10, 1, 2, 3, tzinfo=UTC)

    began = time.perf_counter()
    dates = schedule.get_dates(50, start=start)
    elapsed = time.perf_counter() - began

    assert elapsed < 2.0  # iterating every 7 minutes since 2020 would take far longer
    assert len(dates) == 50 and dates[0] >= start
    assert dates[0] - start < dt.timedelta(minutes=7)
    epoch = dt.datetime(2020, 1, 1, tzinfo=UTC)
    assert all((date - epoch) % dt.timedelta(minutes=7) == dt.timedelta(0) for date in dates)


@pytest.mark.parametrize(
    ("rrule", "start", "expected"),
    [
        pytest.param(
            "DTSTART:20200101T090000\nRRULE:FREQ=DAILY;BYHOUR=9,17",
            dt.datetime(2030, 5, 5, 12, tzinfo=UTC),
            ["2030-05-05T17:00:00+00:00", "2030-05-06T09:00:00+00:00"],
            id="rest-of-the-current-period",
        ),
        pytest.param(
            "DTSTART:20200101T000000\nRRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR",
            dt.datetime(2030, 5, 5, tzinfo=UTC),
            ["2030-05-06T00:00:00+00:00", "2030-05-10T00:00:00+00:00", "2030-05-20T00:00:00+00:00"],
            id="every-other-week-keeps-its-parity",
        ),
        pytest.param(
            "FREQ=HOURLY;INTERVAL=5",
            dt.datetime(2024, 6, 1, 3, tzinfo=UTC),
            ["2024-06-01T03:00:00+00:00", "2024-06-01T08:00:00+00:00"],
            id="hours-counted-from-2020",
        ),
    ],
)
def test_rules_started_long_ago(rrule, start, expected):
    assert iso(RRule(rrule).get_dates(len(expected), start=start)) == expected


def test_prefect_name_and_stripped_text():
    assert RRuleSchedule is RRule
    schedule = RRuleSchedule(rrule="  FREQ=DAILY  ", timezone="UTC")

    assert schedule.rrule == "FREQ=DAILY"
    assert schedule.kind == "rrule"


@pytest.mark.parametrize(
    ("rrule", "fragments"),
    [
        pytest.param(
            "FREQ=DAILY;FOO=1", ["unknown parameter 'FOO'", "FREQ=WEEKLY;BYDAY"], id="unknown-part"
        ),
        pytest.param("BYDAY=MO", ["FREQ is missing"], id="no-freq"),
        pytest.param("FREQ=FORTNIGHTLY", ["'FREQ=FORTNIGHTLY'", "RFC 5545"], id="bad-freq"),
        pytest.param("FREQ=DAILY;BYHOUR=25", ["hour must be in 0..23"], id="bad-hour"),
        pytest.param("FREQ=DAILY;BYDAY=XX", ["'BYDAY'"], id="bad-day"),
        pytest.param(
            "FREQ=DAILY;INTERVAL=0", ["INTERVAL must be a whole number >= 1"], id="zero-interval"
        ),
        pytest.param(
            "FREQ=DAILY;COUNT=3;UNTIL=20240101T000000Z",
            ["COUNT and UNTIL cannot be used together"],
            id="count-and-until",
        ),
        pytest.param(
            "DTSTART:yesterday\nRRULE:FREQ=DAILY",
            ["DTSTART value 'yesterday'", "20240101T090000"],
            id="bad-dtstart",
        ),
        pytest.param(
            "DTSTART;TZID=Nowhere/City:20240101T000000\nRRULE:FREQ=DAILY",
            ["Unknown time zone 'Nowhere/City'"],
            id="bad-tzid",
        ),
        pytest.param(
            "DTSTART;TZID=Europe/London:20240101T000000Z\nRRULE:FREQ=DAILY",
            ["both TZID=Europe/London and a UTC offset"],
            id="tzid-and-z",
        ),
        pytest.param(
            "DTSTART:20240101T000000\nDTSTART:20240102T000000\nRRULE:FREQ=DAILY",
            ["more than one DTSTART"],
            id="two-dtstarts",
        ),
        pytest.param(
            "X-NAME:thing\nRRULE:FREQ=DAILY", ["unsupported property 'X-NAME'"], id="x-prop"
        ),
        pytest.param("DTSTART:20240101T000000", ["has no RRULE"], id="dtstart-only"),
        pytest.param("", ["has no RRULE"], id="empty"),
        pytest.param("every day", ["cannot read 'every'"], id="prose"),
        pytest.param("FREQ=DAILY;" + "BYHOUR=1;" * 800, ["at most 6500 characters"], id="too-long"),
    ],
)
def test_bad_rrules_name_the_value_and_the_fix(rrule, fragments):
    with pytest.raises(ValidationError) as caught:
        RRule(rrule)

    for fragment in fragments:
        assert fragment in str(caught.value)


def test_bad_timezone_on_rrule():
    with pytest.raises(ValidationError, match="Unknown time zone 'Europe/Londn'"):
        RRule("FREQ=DAILY", timezone="Europe/Londn")
