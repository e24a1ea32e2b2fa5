"""Property tests: get_dates against simple oracles, near DST changes in many zones.

The oracle of a wall-clock schedule is the rule as documented, written the
plainest way: take every local time the schedule names (croniter, dateutil or
anchor arithmetic on naive times), read each with ``fold=0``, drop repeats,
sort. get_dates must give exactly those within [start, end].
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from itertools import islice
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from dateutil.rrule import rrulestr
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from legato.schedules import Cron, Interval, RRule
from legato.schedules._cron import local_times

UTC = dt.UTC
ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",  # 30-minute DST change
    "America/Sao_Paulo",  # southern DST, changes at midnight until 2019
    "Asia/Kolkata",
    "Pacific/Apia",  # skipped 2011-12-30 entirely
    "America/St_Johns",
]
PROPERTY_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@cache
def _change_days(zone_name: str) -> list[dt.datetime]:
    """Noon UTC of each day (2009-2030) on which the zone's UTC offset changed."""
    zone = ZoneInfo(zone_name)
    days, previous = [], None
    moment = dt.datetime(2009, 1, 1, 12, tzinfo=UTC)
    while moment.year < 2031:
        offset = moment.astimezone(zone).utcoffset()
        if previous is not None and offset != previous:
            days.append(moment)
        previous, moment = offset, moment + dt.timedelta(days=1)
    return days or [dt.datetime(2024, 3, 10, 12, tzinfo=UTC)]


@st.composite
def zones_and_starts(draw):
    """A zone and a start, most often within a day and a half of a DST change."""
    zone_name = draw(st.sampled_from(ZONES))
    if draw(st.booleans()):
        base = draw(st.sampled_from(_change_days(zone_name)))
        start = base + dt.timedelta(minutes=draw(st.integers(-36 * 60, 36 * 60)))
    else:
        start = draw(
            st.datetimes(
                min_value=dt.datetime(2010, 1, 1), max_value=dt.datetime(2030, 12, 31)
            ).map(lambda naive: naive.replace(tzinfo=UTC))
        )
    return zone_name, start + dt.timedelta(seconds=draw(st.sampled_from([0, 0, 1, 30])))


def _field(low: int, high: int):
    value = st.integers(low, high)
    return st.one_of(
        st.just("*"),
        value.map(str),
        st.tuples(value, value).map(lambda pair: f"{min(pair)}-{max(pair)}"),
        st.lists(value, min_size=2, max_size=4, unique=True).map(lambda v: ",".join(map(str, v))),
        st.integers(2, max(2, (high - low) // 2)).map(lambda step: f"*/{step}"),
    )


cron_expressions = st.tuples(
    _field(0, 59), _field(0, 23), _field(1, 31), _field(1, 12), _field(0, 6)
).map(" ".join)
# At most a dozen minutes an hour, so that the croniter oracle stays quick.
sparse_cron_expressions = st.tuples(
    _field(0, 59).filter(lambda minutes: minutes != "*" and not minutes.startswith("*/2")),
    _field(0, 23),
    _field(1, 31),
    _field(1, 12),
    _field(0, 6),
).map(" ".join)


def _oracle(naive_times, zone, start, end):
    """The documented rule, plainly: fold=0 readings, no repeats, within [start, end]."""
    instants = {naive.replace(tzinfo=zone).astimezone(UTC) for naive in naive_times}
    return sorted(instant for instant in instants if start <= instant <= end)


def _check_dates(dates, zone, start, end):
    assert all(date.tzinfo is zone for date in dates)
    utc = [date.astimezone(UTC) for date in dates]
    assert utc == sorted(set(utc)), "strictly increasing"
    assert all(start <= date <= end for date in utc)
    return utc


@PROPERTY_SETTINGS
@given(
    zone_and_start=zones_and_starts(),
    expression=sparse_cron_expressions,
    day_or=st.booleans(),
    hours=st.integers(1, 36),
)
def test_cron_dates_match_the_rule(zone_and_start, expression, day_or, hours):
    zone_name, start = zone_and_start
    try:
        schedule = Cron(expression, timezone=zone_name, day_or=day_or)
    except ValidationError:
        assume(False)
    zone = ZoneInfo(zone_name)
    end = start + dt.timedelta(hours=hours)

    dates = schedule.get_dates(start=start, end=end)

    utc = _check_dates(dates, zone, start, end)
    margin = dt.timedelta(hours=26)  # more than any clock change (Apia skipped a day)
    first = start.astimezone(zone).replace(tzinfo=None) - margin
    last = end.astimezone(zone).replace(tzinfo=None) + margin
    iterator = croniter(expression, first, day_or=day_or)
    naive = []
    while (candidate := iterator.get_next(dt.datetime)) <= last:
        naive.append(candidate)
    assert utc == _oracle(naive, zone, start, end)


@PROPERTY_SETTINGS
@given(
    expression=cron_expressions,
    day_or=st.booleans(),
    after=st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2090, 1, 1)),
)
def test_plain_cron_walk_equals_croniter(expression, day_or, after):
    try:
        Cron(expression, day_or=day_or)
    except ValidationError:
        assume(False)
    iterator = croniter(expression, after, day_or=day_or)
    expected = [iterator.get_next(dt.datetime) for _ in range(40)]

    walked = local_times(expression, day_or, after.replace(tzinfo=UTC))

    assert [moment.replace(tzinfo=None) for moment in islice(walked, 40)] == expected


@PROPERTY_SETTINGS
@given(
    zone_and_start=zones_and_starts(),
    seconds=st.one_of(
        st.sampled_from([1, 60, 90, 600, 3600, 5400, 86399, 86400, 90000, 172800, 604800]),
        st.floats(0.5, 3 * 86400).map(lambda value: round(value, 3)),
    ),
    anchor_shift_minutes=st.integers(-40 * 24 * 60, 2 * 24 * 60),
    n=st.integers(1, 40),
)
def test_interval_dates_match_the_rule(zone_and_start, seconds, anchor_shift_minutes, n):
    zone_name, start = zone_and_start
    zone = ZoneInfo(zone_name)
    interval = dt.timedelta(seconds=seconds)
    anchor = (start + dt.timedelta(minutes=anchor_shift_minutes)).astimezone(zone)
    schedule = Interval(interval, anchor_date=anchor)
    end = start + interval * (n + 2) + dt.timedelta(days=2)

    dates = schedule.get_dates(n, start=start, end=end)

    utc = _check_dates(dates, zone, start, end)
    assert len(dates) == n
    if interval < dt.timedelta(days=1):
        assert all(b - a == interval for a, b in zip(utc, utc[1:], strict=False))
        first = anchor.astimezone(UTC)
        assert all((date - first) % interval == dt.timedelta(0) and date >= first for date in utc)
    else:
        local_anchor = anchor.replace(tzinfo=None, fold=0)
        steps = max(0, (start.astimezone(zone).replace(tzinfo=None) - local_anchor) // interval - 2)
        naive = [local_anchor + (steps + k) * interval for k in range(n + 6)]
        assert utc == _oracle(naive, zone, start, end)[:n]


_RRULE_TEMPLATES = [
    "RRULE:FREQ=MINUTELY;INTERVAL={step15}",
    "RRULE:FREQ=HOURLY;INTERVAL={step}",
    "RRULE:FREQ=HOURLY;BYMINUTE={minute},{minute2}",
    "RRULE:FREQ=DAILY;BYHOUR={hour};BYMINUTE={minute}",
    "RRULE:FREQ=DAILY;INTERVAL={step};BYHOUR={hour},{hour2}",
    "RRULE:FREQ=WEEKLY;BYDAY=MO,WE,SA;BYHOUR={hour};BYMINUTE={minute}",
    "RRULE:FREQ=DAILY;BYHOUR={hour};COUNT={count}",
    "RRULE:FREQ=HOURLY;BYHOUR={hour},{hour2};BYMINUTE={minute}\nEXRULE:FREQ=WEEKLY;BYDAY=SU",
]


@PROPERTY_SETTINGS
@given(
    zone_and_start=zones_and_starts(),
    template=st.sampled_from(_RRULE_TEMPLATES),
    values=st.fixed_dictionaries(
        {
            "step": st.integers(1, 5),
            "step15": st.integers(15, 90),
            "hour": st.integers(0, 23),
            "hour2": st.integers(0, 23),
            "minute": st.integers(0, 59),
            "minute2": st.integers(0, 59),
            "count": st.integers(1, 30),
        }
    ),
    days_before=st.integers(0, 20),
    hours=st.integers(1, 72),
)
def test_rrule_dates_match_the_rule(zone_and_start, template, values, days_before, hours):
    zone_name, start = zone_and_start
    zone = ZoneInfo(zone_name)
    dtstart = (start - dt.timedelta(days=days_before)).astimezone(zone).replace(tzinfo=None)
    body = template.format(**values)
    text = f"DTSTART:{dtstart:%Y%m%dT%H%M%S}\n{body}"
    end = start + dt.timedelta(hours=hours)

    dates = RRule(text, timezone=zone_name).get_dates(start=start, end=end)

    utc = _check_dates(dates, zone, start, end)
    last = end.astimezone(zone).replace(tzinfo=None) + dt.timedelta(days=2)
    naive = rrulestr(text.replace("\n", " "), forceset=True).between(dtstart, last, inc=True)
    assert utc == _oracle(naive, zone, start, end)


@PROPERTY_SETTINGS
@given(
    zone_and_start=zones_and_starts(),
    kind=st.sampled_from(["cron", "interval", "rrule"]),
    cut=st.integers(0, 14),
)
def test_restarting_at_a_date_gives_the_rest(zone_and_start, kind, cut):
    zone_name, start = zone_and_start
    schedule = {
        "cron": Cron("*/20 0-3 * * *", timezone=zone_name),
        "interval": Interval(1800, timezone=zone_name),
        "rrule": RRule("FREQ=HOURLY;BYMINUTE=0,30", timezone=zone_name),
    }[kind]

    dates = schedule.get_dates(15, start=start)

    assert len(dates) == 15
    assert schedule.get_dates(15 - cut, start=dates[cut]) == dates[cut:]
    if cut < 14:
        just_after = dates[cut] + dt.timedelta(microseconds=1)
        assert schedule.get_dates(14 - cut, start=just_after) == dates[cut + 1 :]


@pytest.mark.parametrize("zone_name", ["America/New_York", "Pacific/Apia"])
def test_change_days_were_found(zone_name):
    assert len(_change_days(zone_name)) >= 4
