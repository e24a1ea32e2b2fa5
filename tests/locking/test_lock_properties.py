"""Any sequence of calls gives what a dict of key -> holder predicts, for every manager."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from legato.locking import LockNotHeld

HOLDERS = ["alice", "bob", "carol"]
KEY_COUNT = 2

calls = st.lists(
    st.tuples(
        st.sampled_from(["acquire", "release", "is_locked", "is_lock_holder"]),
        st.integers(0, KEY_COUNT - 1),
        st.sampled_from(HOLDERS),
    ),
    max_size=30,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # keys are fresh per example
)
@given(calls=calls)
def test_locks_behave_like_a_dict_of_holders(lock_manager, calls):
    keys = [f"property-{uuid.uuid4().hex}" for _ in range(KEY_COUNT)]
    holders: dict[str, str] = {}
    try:
        for call, index, holder in calls:
            key = keys[index]
            if call == "acquire":
                assert lock_manager.acquire_lock(key, holder, acquire_timeout=0) == (
                    holders.setdefault(key, holder) == holder
                )
            elif call == "release" and holders.get(key) == holder:
                lock_manager.release_lock(key, holder)
                del holders[key]
            elif call == "release":
                with pytest.raises(LockNotHeld):
                    lock_manager.release_lock(key, holder)
            elif call == "is_locked":
                assert lock_manager.is_locked(key) == (key in holders)
            else:
                assert lock_manager.is_lock_holder(key, holder) == (holders.get(key) == holder)
    finally:
        for key, holder in holders.items():
            lock_manager.release_lock(key, holder)
