"""legato.orchestration.concurrency_leases on SQLite and PostgreSQL: slots, leases, rates, races.

Every test also runs on SQLite with ``concurrency_leases_sqlite`` (the same
acquire, renew, release and collection as plain ``sqlite3`` statements, on
the transaction's own connection), which the embedded client and a server
on SQLite use: both implementations must pass the same tests.
"""

from __future__ import annotations

import itertools
import os
import threading

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from legato.exceptions import LeaseExpired, ParameterError
from legato.orchestration import concurrency_leases as leases
from legato.orchestration import concurrency_leases_sqlite as sqlite_leases
from legato.orchestration import concurrency_limits as limits
from legato.storage import database, sqlite

T0 = 1_800_000_000.0  # an injected "now" (POSIX seconds)


_SQLALCHEMY_LEASES = leases


class _OnDriverConnection:
    """``concurrency_leases`` whose writes run through ``concurrency_leases_sqlite``
    on the SQLAlchemy transaction's ``sqlite3`` connection (as the server does)."""

    def __getattr__(self, name):
        return getattr(_SQLALCHEMY_LEASES, name)

    @staticmethod
    def _raw(connection):
        return connection.connection.driver_connection

    def acquire(self, connection, *args, **kwargs):
        return sqlite_leases.acquire(self._raw(connection), *args, **kwargs)

    def renew_lease(self, connection, *args, **kwargs):
        return sqlite_leases.renew_lease(self._raw(connection), *args, **kwargs)

    def release_lease(self, connection, *args, **kwargs):
        return sqlite_leases.release_lease(self._raw(connection), *args, **kwargs)

    def collect_expired_leases(self, connection, *args, **kwargs):
        return sqlite_leases.collect_expired_leases(self._raw(connection), *args, **kwargs)


@pytest.fixture(params=["sqlite", "postgresql", "sqlite-sqlite3"])
def db_url(request, tmp_path):
    """A migrated, empty store; with ``sqlite-sqlite3``, the tests' ``leases`` calls run
    through ``concurrency_leases_sqlite`` (on the transaction's ``sqlite3`` connection)."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_database_url"))
    if request.param == "sqlite-sqlite3":
        request.getfixturevalue("monkeypatch").setitem(globals(), "leases", _OnDriverConnection())
    path = tmp_path / "store" / "legato.db"
    sqlite.open_database(path).close()
    return database.sqlite_url(path)


def make(write, name, limit, **options):
    return write(lambda c: limits.create_limit(c, name=name, limit=limit, now=T0, **options))


def acquire(write, names, slots=1, **options):
    return write(lambda c: leases.acquire(c, names, slots, **options))


def in_use(store, name, now=None):
    return store.read(lambda c: limits.read_limit_by_name(c, name, now=now))["active_slots"]


# -- concurrency ---------------------------------------------------------------------


def test_slots_are_granted_until_the_limit_is_full(write, store):
    make(write, "db", 2)

    first = acquire(write, ["db"], holder={"pid": 11})
    second = acquire(write, "db")
    third = acquire(write, ["db"])

    assert first.granted and second.granted and first.lease_id != second.lease_id
    assert [row["active_slots"] for row in second.limits] == [2]
    assert (third.granted, third.lease_id, third.refused_by) == (False, None, "db")
    assert 0 < third.retry_after_seconds <= leases.MAX_RETRY_SECONDS
    assert store.read(lambda c: limits.read_limit_by_name(c, "db"))["denied_slots"] == 1
    holders = [lease["holder"] for lease in store.read(lambda c: leases.read_leases(c, "db"))]
    assert holders == [{"pid": 11}, None]


def test_release_frees_the_slots_and_is_idempotent(write, store):
    make(write, "db", 1)
    held = acquire(write, ["db"])

    assert write(lambda c: leases.release_lease(c, held.lease_id)) is True
    assert write(lambda c: leases.release_lease(c, held.lease_id)) is False
    assert write(lambda c: leases.release_lease(c, "not-a-uuid")) is False
    assert in_use(store, "db") == 0
    assert acquire(write, ["db"]).granted


def test_occupy_takes_several_slots_at_once(write, store):
    make(write, "pool", 5)

    assert acquire(write, ["pool"], 3).granted
    assert not acquire(write, ["pool"], 3).granted
    assert acquire(write, ["pool"], 2).granted
    assert in_use(store, "pool") == 5


def test_expired_leases_free_their_slots_without_any_cleanup(write, store):
    make(write, "db", 1)
    held = acquire(write, ["db"], lease_seconds=10, now=T0)

    assert not acquire(write, ["db"], now=T0 + 9.9).granted
    assert in_use(store, "db", now=T0 + 9.9) == 1
    assert in_use(store, "db", now=T0 + 10) == 0  # no write happened in between
    assert acquire(write, ["db"], now=T0 + 10).granted
    # The holder that stopped renewing lost its lease, and releasing it is no error.
    with pytest.raises(LeaseExpired, match="expired, was released"):
        write(lambda c: leases.renew_lease(c, held.lease_id, 10, now=T0 + 11))
    assert write(lambda c: leases.release_lease(c, held.lease_id, now=T0 + 11)) is False


def test_renewing_extends_a_lease_from_now(write, store):
    make(write, "db", 1)
    held = acquire(write, ["db"], lease_seconds=10, now=T0)

    expiration = write(lambda c: leases.renew_lease(c, held.lease_id, 10, now=T0 + 8))

    assert expiration == T0 + 18
    assert not acquire(write, ["db"], now=T0 + 17).granted
    assert acquire(write, ["db"], now=T0 + 18).granted
    with pytest.raises(LeaseExpired):
        write(lambda c: leases.renew_lease(c, "00000000-0000-4000-8000-000000000000", 10))
    with pytest.raises(LeaseExpired):
        write(lambda c: leases.renew_lease(c, "not-a-uuid", 10))


def test_expired_leases_are_collected(write, store):
    make(write, "db", 10)
    for _ in range(3):
        acquire(write, ["db"], lease_seconds=5, now=T0)

    assert write(lambda c: leases.collect_expired_leases(c, T0 + 4)) == 0
    assert write(lambda c: leases.collect_expired_leases(c, T0 + 5)) == 3
    assert store.read(lambda c: leases.read_leases(c, now=T0)) == []
    count = "SELECT count(*) FROM concurrency_lease_limits"
    assert store.read(lambda c: c.exec_driver_sql(count).scalar()) == 0


# -- several names ---------------------------------------------------------------------


def test_all_or_nothing_over_several_names(write, store):
    make(write, "a", 2)
    make(write, "b", 1)
    acquire(write, ["b"])

    refused = acquire(write, ["b", "a"])

    assert (refused.granted, refused.refused_by) == (False, "b")
    assert in_use(store, "a") == 0  # nothing was taken on "a" either
    assert [(row["name"], row["active_slots"]) for row in refused.limits] == [("a", 0), ("b", 1)]
    make(write, "c", 1)
    both = acquire(write, ["a", "c"])
    assert both.granted and (in_use(store, "a"), in_use(store, "c")) == (1, 1)
    [lease] = store.read(lambda c: leases.read_leases(c, "c"))
    assert lease["limit_names"] == ["a", "c"]
    write(lambda c: leases.release_lease(c, both.lease_id))
    assert (in_use(store, "a"), in_use(store, "c")) == (0, 0)


def test_missing_and_inactive_limits_make_nobody_wait(write, store):
    make(write, "off", 1, active=False)
    make(write, "on", 1)

    nothing = acquire(write, ["ghost", "off"])
    assert (nothing.granted, nothing.lease_id, nothing.missing) == (True, None, ["ghost"])
    assert acquire(write, ["off"], 5).granted  # an inactive limit is not checked at all
    some = acquire(write, ["ghost", "on", "off"])
    assert some.granted and some.lease_id is not None and some.missing == ["ghost"]
    [lease] = store.read(lambda c: leases.read_leases(c))
    assert lease["limit_names"] == ["on"]  # the inactive limit holds nothing
    assert in_use(store, "off") == 0


@pytest.mark.parametrize(
    ("names", "slots", "options", "message"),
    [
        ([], 1, {}, "No concurrency limit names"),
        (["a/b"], 1, {}, "may not hold"),
        (["db"], 0, {}, "between 1 and"),
        (["db"], 1.5, {}, "whole number"),
        (["db"], 3, {}, "only 2, so the call would wait forever"),
        (["db"], 1, {"mode": "rate_limit"}, "no slot decay"),
        (["db"], 1, {"mode": "burst"}, "Unknown acquire mode"),
        (["db"], 1, {"lease_seconds": 0}, "lease duration"),
        (["db"], 1, {"holder": ["pid"]}, "holder is a dict"),
        (["db"], 1, {"holder": {"x": object()}}, "must be JSON"),
    ],
    ids=[
        "no-names",
        "bad-name",
        "zero",
        "fraction",
        "more-than-limit",
        "rate-without-decay",
        "bad-mode",
        "bad-lease",
        "bad-holder",
        "holder-not-json",
    ],
)
def test_what_could_never_be_granted_is_refused_at_once(
    write, store, names, slots, options, message
):
    make(write, "db", 2)

    with pytest.raises(ParameterError, match=message):
        acquire(write, names, slots, **options)
    assert in_use(store, "db") == 0


# -- rate limits -------------------------------------------------------------------------


def test_rate_limits_drain_at_their_decay(write, store):
    make(write, "api", 5, slot_decay_per_second=2)

    for _ in range(5):
        taken = acquire(write, ["api"], mode="rate_limit", now=T0)
        assert taken.granted and taken.lease_id is None
    refused = acquire(write, ["api"], mode="rate_limit", now=T0)
    assert refused.refused_by == "api"
    assert refused.retry_after_seconds == pytest.approx(0.5)  # one slot drains in 1/2 s
    assert not acquire(write, ["api"], mode="rate_limit", now=T0 + 0.49).granted
    assert acquire(write, ["api"], mode="rate_limit", now=T0 + 0.5).granted
    assert in_use(store, "api", now=T0 + 0.5) == 5
    assert in_use(store, "api", now=T0 + 3) == 0


def test_a_rate_limit_allows_no_burst_above_its_size_after_idling(write):
    make(write, "api", 3, slot_decay_per_second=1)

    # After an hour idle, 3 at once, then one a second: never more than 3 + rate * time.
    later = T0 + 3600
    granted = [acquire(write, ["api"], mode="rate_limit", now=later).granted for _ in range(10)]
    assert granted.count(True) == 3
    times = [later + step * 0.25 for step in range(1, 21)]  # the next 5 s
    count = sum(acquire(write, ["api"], mode="rate_limit", now=when).granted for when in times)
    assert count == 5


def test_a_rate_refusal_hints_at_the_time_slots_take_to_drain(write):
    make(write, "api", 4, slot_decay_per_second=0.5)
    acquire(write, ["api"], 4, mode="rate_limit", now=T0)

    refused = acquire(write, ["api"], 3, mode="rate_limit", now=T0 + 1)

    # 3.5 slots still in use; 3 more need 2.5 drained: 5 s at 0.5/s
    assert refused.retry_after_seconds == pytest.approx(5.0)


def test_concurrency_mode_counts_a_rate_limits_undrained_slots(write):
    make(write, "mixed", 2, slot_decay_per_second=1)
    acquire(write, ["mixed"], 2, mode="rate_limit", now=T0)

    assert not acquire(write, ["mixed"], now=T0 + 0.5).granted
    held = acquire(write, ["mixed"], now=T0 + 1)
    assert held.granted and held.lease_id is not None


# -- a model of the limit, against random operations (no slot leaks) ----------------


class LeaseModel(RuleBasedStateMachine):
    """Random acquires, releases, renewals and clock jumps on a limit of 3 (SQLite)."""

    store = None  # set by the test
    numbers = itertools.count()

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.name = f"model-{next(self.numbers)}"
        self.store.write(lambda c: limits.create_limit(c, name=self.name, limit=3, now=T0))
        self.held: dict[str, tuple[int, float]] = {}  # lease id -> (slots, expiration)

    def live(self) -> dict[str, tuple[int, float]]:
        return {key: value for key, value in self.held.items() if value[1] > self.now}

    @rule(slots=st.integers(1, 3), seconds=st.sampled_from([1.0, 5.0]))
    def take(self, slots, seconds):
        outcome = self.store.write(
            lambda c: leases.acquire(c, [self.name], slots, lease_seconds=seconds, now=self.now)
        )
        fits = sum(slots for slots, _ in self.live().values()) + slots <= 3
        assert outcome.granted == fits
        if outcome.granted:
            self.held[outcome.lease_id] = (slots, self.now + seconds)

    @precondition(lambda self: self.held)
    @rule(data=st.data())
    def give_back(self, data):
        lease_id = data.draw(st.sampled_from(list(self.held)))
        was_live = lease_id in self.live()
        released = self.store.write(lambda c: leases.release_lease(c, lease_id, now=self.now))
        assert released == was_live
        del self.held[lease_id]

    @precondition(lambda self: self.held)
    @rule(data=st.data())
    def renew(self, data):
        lease_id = data.draw(st.sampled_from(list(self.held)))
        slots, _ = self.held[lease_id]
        if lease_id in self.live():
            self.store.write(lambda c: leases.renew_lease(c, lease_id, 5.0, now=self.now))
            self.held[lease_id] = (slots, self.now + 5.0)
        else:
            with pytest.raises(LeaseExpired):
                self.store.write(lambda c: leases.renew_lease(c, lease_id, 5.0, now=self.now))

    @rule(seconds=st.sampled_from([0.5, 1.0, 3.0]))
    def wait(self, seconds):
        self.now += seconds

    @invariant()
    def slots_in_use_are_the_live_leases(self):
        row = self.store.read(lambda c: limits.read_limit_by_name(c, self.name, now=self.now))
        expected = sum(slots for slots, _ in self.live().values())
        assert row["active_slots"] == expected <= 3

    def teardown(self):
        # Once nothing holds a slot (every holder died), the count is back at zero.
        self.now += 10
        assert (
            self.store.read(lambda c: limits.read_limit_by_name(c, self.name, now=self.now))[
                "active_slots"
            ]
            == 0
        )


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_random_operations_never_leak_or_overfill_slots(store):
    LeaseModel.store = store
    run_state_machine_as_test(
        LeaseModel,
        settings=settings(
            max_examples=int(os.environ.get("LEASE_MODEL_EXAMPLES", "25")),
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )


# -- races between writers (threads, each with its own connection) ------------------------


def race(functions, timeout=60):
    """Run ``functions`` at once in threads; their results (or errors), in order."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)

    def run(index, function):
        barrier.wait(timeout=timeout)
        try:
            results[index] = function()
        except Exception as exc:  # reported to the test
            results[index] = exc

    threads = [threading.Thread(target=run, args=item) for item in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a writer hung (deadlock?)"
    return results


def test_two_writers_racing_on_a_limit_of_one_are_never_both_granted(write):
    make(write, "one", 1)

    def take():
        return write(lambda c: leases.acquire(c, ["one"], 1))

    for _ in range(25):
        outcomes = race([take, take])
        granted = [outcome for outcome in outcomes if outcome.granted]
        assert len(granted) == 1, outcomes
        write(lambda c, lease=granted[0].lease_id: leases.release_lease(c, lease))


def test_writers_on_overlapping_limits_in_any_order_do_not_deadlock(write, store):
    for name in ("a", "b", "c"):
        make(write, name, 2)

    def take_and_give_back(names):
        def run():
            for _ in range(10):
                outcome = write(lambda c: leases.acquire(c, names, 1))
                if outcome.granted:
                    write(lambda c, lease=outcome.lease_id: leases.release_lease(c, lease))
            return True

        return run

    def reset_a():
        for _ in range(10):
            write(lambda c: limits.reset_limit(c, "a"))
        return True

    results = race(
        [
            take_and_give_back(["a", "b"]),
            take_and_give_back(["b", "a"]),
            take_and_give_back(["c", "b", "a"]),
            reset_a,
        ]
    )
    assert results == [True] * 4, results
    for name in ("a", "b", "c"):
        assert in_use(store, name) == 0
