"""legato.orchestration.concurrency_limits on SQLite and PostgreSQL: validation, CRUD, tags, reset."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from legato._types import UNSET
from legato.exceptions import ObjectAlreadyExists, ParameterError
from legato.orchestration import concurrency_leases as leases
from legato.orchestration import concurrency_limits as service

T0 = 1_800_000_000.0  # an injected "now" (POSIX seconds)


# -- validation (no database) ----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "between 1 and"),
        (-3, "between 1 and"),
        (2**31, "between 1 and"),
        (2.5, "whole number"),
        (3.0, "whole number"),
        ("5", "whole number"),
        (True, "whole number"),
        (None, "whole number"),
    ],
    ids=["zero", "negative", "too-large", "fraction", "float", "text", "bool", "none"],
)
def test_bad_limits_are_refused_naming_the_fix(value, message):
    with pytest.raises(ParameterError, match=message):
        service.validate_limit(value)


@given(st.integers(min_value=1, max_value=service.MAX_LIMIT))
def test_every_whole_number_from_one_is_a_limit(value):
    assert service.validate_limit(value) == value


@pytest.mark.parametrize(
    "name",
    ["", " padded", "padded ", "a/b", "50%", "x&y", "<x>", "tab\there", "leases", "x" * 256, 7],
    ids=[
        "empty",
        "leading-space",
        "trailing-space",
        "slash",
        "percent",
        "ampersand",
        "angle",
        "control",
        "reserved",
        "too-long",
        "not-text",
    ],
)
def test_bad_names_are_refused(name):
    with pytest.raises(ParameterError, match="name"):
        service.validate_limit_name(name)


@given(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 _.:@-]{0,40}[A-Za-z0-9]", fullmatch=True))
def test_names_of_letters_digits_and_punctuation_are_valid(name):
    assert service.validate_limit_name(name) == name


@pytest.mark.parametrize(
    ("value", "message"),
    [(-1.0, ">= 0"), (float("nan"), "finite"), (float("inf"), "finite"), ("1", "finite")],
    ids=["negative", "nan", "inf", "text"],
)
def test_bad_slot_decays_are_refused(value, message):
    with pytest.raises(ParameterError, match=message):
        service.validate_slot_decay(value)


def test_tag_limits_are_named_with_the_tag_prefix():
    assert service.tag_limit_name("api") == "tag:api"
    with pytest.raises(ParameterError, match="non-empty"):
        service.tag_limit_name("")


# -- create, read, update, delete ------------------------------------------------


def test_create_and_read(write, store):
    created = write(
        lambda c: service.create_limit(c, name="db", limit=3, slot_decay_per_second=0.5, now=T0)
    )

    read = store.read(lambda c: service.read_limit_by_name(c, "db", now=T0))
    assert read == created
    assert (read["name"], read["limit"], read["active"]) == ("db", 3, True)
    assert (read["slot_decay_per_second"], read["active_slots"], read["denied_slots"]) == (
        0.5,
        0,
        0,
    )
    assert read["created"].timestamp() == pytest.approx(T0)
    assert store.read(lambda c: service.read_limit_by_name(c, "missing")) is None


def test_create_refuses_a_taken_name_and_bad_input(write):
    write(lambda c: service.create_limit(c, name="db", limit=1))

    with pytest.raises(ObjectAlreadyExists, match="'db' exists already.*update"):
        write(lambda c: service.create_limit(c, name="db", limit=2))
    with pytest.raises(ParameterError, match="between 1 and"):
        write(lambda c: service.create_limit(c, name="other", limit=0))
    with pytest.raises(ParameterError, match="True or False"):
        write(lambda c: service.create_limit(c, name="other", limit=1, active="yes"))


def test_filter_limits_by_name_order_prefix_and_page(write, store):
    for name in ["b", "tag:x", "a", "tag:y", "B", "TAG:z", "tag_x"]:
        write(lambda c, name=name: service.create_limit(c, name=name, limit=1))

    def names(**filters):
        return [row["name"] for row in store.read(lambda c: service.filter_limits(c, **filters))]

    # code point order, and a case-sensitive prefix, on both databases
    assert names() == ["B", "TAG:z", "a", "b", "tag:x", "tag:y", "tag_x"]
    assert names(name_prefix="tag:") == ["tag:x", "tag:y"]
    assert names(names=["a", "tag:y", "nope"]) == ["a", "tag:y"]
    assert names(limit=2, offset=2) == ["a", "b"]


def test_update_changes_only_what_is_given(write, store):
    write(lambda c: service.create_limit(c, name="db", limit=3, now=T0))

    row = write(lambda c: service.update_limit(c, "db", limit=5, active=False, now=T0 + 1))
    assert (row["limit"], row["active"], row["slot_decay_per_second"]) == (5, False, 0.0)
    assert row["updated"].timestamp() == pytest.approx(T0 + 1)
    renamed = write(lambda c: service.update_limit(c, "db", new_name="database"))
    assert renamed["name"] == "database"
    assert store.read(lambda c: service.read_limit_by_name(c, "db")) is None
    assert write(lambda c: service.update_limit(c, "missing", limit=1)) is None


def test_update_refuses_bad_values_and_a_taken_name(write):
    write(lambda c: service.create_limit(c, name="a", limit=1))
    write(lambda c: service.create_limit(c, name="b", limit=1))

    with pytest.raises(ObjectAlreadyExists, match="'b'"):
        write(lambda c: service.update_limit(c, "a", new_name="b"))
    with pytest.raises(ParameterError, match="between 1 and"):
        write(lambda c: service.update_limit(c, "a", limit=-1))
    with pytest.raises(ParameterError, match=">= 0"):
        write(lambda c: service.update_limit(c, "a", slot_decay_per_second=-2))


def test_changing_the_decay_drains_at_the_old_rate_up_to_now(write, store):
    write(lambda c: service.create_limit(c, name="r", limit=10, slot_decay_per_second=1, now=T0))
    write(lambda c: leases.acquire(c, ["r"], 8, mode="rate_limit", now=T0))

    # 3 s at 1/s drain 3 slots; from then on 0.5/s
    write(lambda c: service.update_limit(c, "r", slot_decay_per_second=0.5, now=T0 + 3))
    row = store.read(lambda c: service.read_limit_by_name(c, "r", now=T0 + 5))
    assert row["decayed_slots"] == pytest.approx(8 - 3 - 1)
    assert row["active_slots"] == 4


def test_upsert_creates_then_sets_the_limit(write):
    row, created = write(lambda c: service.upsert_limit(c, "tag:api", 2))
    assert (row["limit"], created) == (2, True)
    row, created = write(lambda c: service.upsert_limit(c, "tag:api", 7))
    assert (row["limit"], created) == (7, False)


def test_delete(write, store):
    write(lambda c: service.create_limit(c, name="db", limit=1))

    assert write(lambda c: service.delete_limit(c, "db")) is True
    assert write(lambda c: service.delete_limit(c, "db")) is False
    assert store.read(lambda c: service.read_limit_by_name(c, "db")) is None


# -- tag limits ----------------------------------------------------------------------


def test_tag_limits_list_the_task_runs_holding_them(write, store):
    write(lambda c: service.upsert_limit(c, "tag:api", 3))
    write(lambda c: service.create_limit(c, name="not-a-tag", limit=3))
    run_id = "0b6c3f4e-1d2a-4c5b-8e9f-0a1b2c3d4e5f"
    write(lambda c: leases.acquire(c, ["tag:api"], 1, holder={"task_run_id": run_id}))
    write(lambda c: leases.acquire(c, ["tag:api"], 1, holder={"pid": 1}))

    rows = store.read(lambda c: service.read_tag_limits(c))
    assert [(row["tag"], row["concurrency_limit"]) for row in rows] == [("api", 3)]
    assert rows[0]["active_slots"] == [run_id]
    assert rows[0]["slots_in_use"] == 2
    assert store.read(lambda c: service.read_tag_limits(c, tag="api")) == rows
    assert store.read(lambda c: service.read_tag_limits(c, tag="other")) == []


# -- reset -------------------------------------------------------------------------------


def test_reset_frees_the_limit_but_not_the_other_limits_of_a_lease(write, store):
    write(lambda c: service.create_limit(c, name="a", limit=1))
    write(lambda c: service.create_limit(c, name="b", limit=1))
    both = write(lambda c: leases.acquire(c, ["a", "b"], 1))
    assert not write(lambda c: leases.acquire(c, ["a"], 1)).granted

    reset = write(lambda c: service.reset_limit(c, "a"))

    assert (reset["active_slots"], reset["denied_slots"]) == (0, 0)
    assert write(lambda c: leases.acquire(c, ["a"], 1)).granted
    assert not write(lambda c: leases.acquire(c, ["b"], 1)).granted  # still held
    [lease] = store.read(lambda c: leases.read_leases(c, "b"))
    assert (lease["id"], lease["limit_names"]) == (both.lease_id, ["b"])
    assert write(lambda c: service.reset_limit(c, "missing")) is None


def test_deleting_the_only_limit_of_a_lease_deletes_the_lease(write, store):
    write(lambda c: service.create_limit(c, name="a", limit=1))
    held = write(lambda c: leases.acquire(c, ["a"], 1))

    write(lambda c: service.delete_limit(c, "a"))

    assert store.read(lambda c: leases.read_leases(c)) == []
    assert write(lambda c: leases.release_lease(c, held.lease_id)) is False


def test_reset_empties_a_rate_limit(write, store):
    write(lambda c: service.create_limit(c, name="r", limit=2, slot_decay_per_second=0.1))
    write(lambda c: leases.acquire(c, ["r"], 2, mode="rate_limit"))
    assert store.read(lambda c: service.read_limit_by_name(c, "r"))["active_slots"] == 2

    write(lambda c: service.reset_limit(c, "r"))

    assert store.read(lambda c: service.read_limit_by_name(c, "r"))["active_slots"] == 0
    assert write(lambda c: leases.acquire(c, ["r"], 2, mode="rate_limit")).granted


def test_update_without_changes_keeps_the_row(write):
    write(lambda c: service.create_limit(c, name="db", limit=2, now=T0))
    row = write(lambda c: service.update_limit(c, "db", limit=UNSET, now=time.time()))
    assert row["limit"] == 2
