"""The concurrency-limit contract: every test on the embedded client and on the HTTP client.

The HTTP servers are shared by the session: each test names its limits uniquely.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid

import pytest
from pydantic import ValidationError

from legato.client.schemas.actions import (
    GlobalConcurrencyLimitCreate,
    GlobalConcurrencyLimitUpdate,
)
from legato.client.schemas.objects import (
    ConcurrencyAcquisition,
    ConcurrencyLease,
    ConcurrencyLimit,
)
from legato.client.schemas.responses import GlobalConcurrencyLimitResponse
from legato.exceptions import LeaseExpired, ObjectAlreadyExists, ObjectNotFound, ParameterError
from legato.settings import temporary_settings


@pytest.fixture
def name() -> str:
    """A limit name no other test uses."""
    return f"limit-{uuid.uuid4().hex[:12]}"


def create(client, name, limit=2, **options):
    return client.create_global_concurrency_limit(
        GlobalConcurrencyLimitCreate(name=name, limit=limit, **options)
    )


# -- global limits -----------------------------------------------------------------------


def test_create_read_update_delete_a_global_limit(client, name):
    limit_id = create(client, name, 3, slot_decay_per_second=0.5)

    read = client.read_global_concurrency_limit_by_name(name)
    assert isinstance(read, GlobalConcurrencyLimitResponse)
    assert (read.id, read.name, read.limit, read.active) == (limit_id, name, 3, True)
    assert (read.active_slots, read.slot_decay_per_second) == (0, 0.5)
    assert name in [row.name for row in client.read_global_concurrency_limits(limit=200)]

    client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(limit=5))
    client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(active=False))
    read = client.read_global_concurrency_limit_by_name(name)
    assert (read.limit, read.active, read.slot_decay_per_second) == (5, False, 0.5)

    client.delete_global_concurrency_limit_by_name(name)
    with pytest.raises(ObjectNotFound, match=f"No concurrency limit named '{name}'"):
        client.read_global_concurrency_limit_by_name(name)


def test_unknown_names_and_taken_names(client, name):
    for call in (
        lambda: client.read_global_concurrency_limit_by_name(name),
        lambda: client.delete_global_concurrency_limit_by_name(name),
        lambda: client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(limit=1)),
    ):
        with pytest.raises(ObjectNotFound, match="global-concurrency-limit create"):
            call()
    with pytest.raises(ObjectNotFound):
        client.read_global_concurrency_limit_by_name("leases")  # reserved: a route's path
    create(client, name)
    with pytest.raises(ObjectAlreadyExists, match="exists already"):
        create(client, name)


def test_renaming_a_limit(client, name):
    create(client, name)
    new_name = f"{name}-renamed"

    client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(name=new_name))

    assert client.read_global_concurrency_limit_by_name(new_name).limit == 2
    with pytest.raises(ObjectNotFound):
        client.read_global_concurrency_limit_by_name(name)


def test_bad_limits_are_refused(client, name):
    for bad in (0, -1, 2.5):
        with pytest.raises(ValidationError, match="limit"):
            GlobalConcurrencyLimitCreate(name=name, limit=bad)
    with pytest.raises(ParameterError, match="may not hold"):
        create(client, f"{name}/x")
    with pytest.raises(ParameterError):
        client.create_concurrency_limit(f"tag-{name}", 0)


def test_upsert_by_name(client, name):
    client.upsert_global_concurrency_limit_by_name(name, 4)
    assert client.read_global_concurrency_limit_by_name(name).limit == 4
    client.upsert_global_concurrency_limit_by_name(name, 6)
    assert client.read_global_concurrency_limit_by_name(name).limit == 6


# -- slots and leases ----------------------------------------------------------------------


def test_acquire_release_and_the_holder(client, name):
    create(client, name, 2)

    first = client.acquire_concurrency_slots_with_lease([name], 1)
    second = client.acquire_concurrency_slots_with_lease(name, 1, holder={"task_run_id": "x"})
    third = client.acquire_concurrency_slots_with_lease([name], 1)

    assert isinstance(first, ConcurrencyAcquisition)
    assert first.granted and second.granted and isinstance(first.lease_id, uuid.UUID)
    assert [(limit.name, limit.active_slots) for limit in second.limits] == [(name, 2)]
    assert (third.granted, third.lease_id, third.refused_by) == (False, None, name)
    assert third.retry_after_seconds > 0
    leases = client.read_concurrency_leases(name)
    assert all(isinstance(lease, ConcurrencyLease) for lease in leases)
    assert [lease.id for lease in leases] == [first.lease_id, second.lease_id]
    assert leases[0].holder == {"pid": os.getpid(), "hostname": socket.gethostname()}
    assert leases[1].holder == {"task_run_id": "x"}
    assert client.read_global_concurrency_limit_by_name(name).active_slots == 2

    run_id = uuid.uuid4()
    as_text = client.acquire_concurrency_slots_with_lease([name], 1, holder={"run": run_id})
    assert not as_text.granted  # full, but the holder was accepted (a UUID is sent as text)
    with pytest.raises(ParameterError, match="must be JSON"):
        client.acquire_concurrency_slots_with_lease([name], 1, holder={"x": object()})

    client.release_concurrency_slots_with_lease(first.lease_id)
    client.release_concurrency_slots_with_lease(first.lease_id)  # again: no error
    client.release_concurrency_slots_with_lease("not-a-lease")
    assert client.read_global_concurrency_limit_by_name(name).active_slots == 1
    assert client.acquire_concurrency_slots_with_lease([name], 1).granted


def test_leases_expire_and_cannot_be_renewed_after(client, name):
    create(client, name, 1)
    held = client.acquire_concurrency_slots_with_lease([name], 1, lease_duration_seconds=30)

    # Renewing extends a lease from now: here, shortens it to 0.3 s.
    client.renew_concurrency_lease(held.lease_id, lease_duration_seconds=0.3)
    deadline = time.monotonic() + 10
    while client.read_global_concurrency_limit_by_name(name).active_slots:
        assert time.monotonic() < deadline, "the lease never expired"
        time.sleep(0.05)
    assert client.acquire_concurrency_slots_with_lease([name], 1).granted
    with pytest.raises(LeaseExpired, match="Acquire the slots again"):
        client.renew_concurrency_lease(held.lease_id, lease_duration_seconds=5)
    with pytest.raises(LeaseExpired):
        client.renew_concurrency_lease("not-a-lease", lease_duration_seconds=5)


def test_the_default_lease_duration_is_the_setting(client, name):
    create(client, name, 1)

    with temporary_settings({"LEGATO_CONCURRENCY_LEASE_DURATION_SECONDS": "120"}):
        held = client.acquire_concurrency_slots_with_lease([name], 1)
    [lease] = client.read_concurrency_leases(name)
    remaining = (lease.expiration - lease.created).total_seconds()
    assert lease.id == held.lease_id and remaining == pytest.approx(120, abs=1)


def test_all_or_nothing_missing_and_bad_requests(client, name):
    create(client, f"{name}-a", 1)
    create(client, f"{name}-b", 1)
    client.acquire_concurrency_slots_with_lease([f"{name}-b"], 1)

    refused = client.acquire_concurrency_slots_with_lease([f"{name}-a", f"{name}-b"], 1)
    assert (refused.granted, refused.refused_by) == (False, f"{name}-b")
    assert client.read_global_concurrency_limit_by_name(f"{name}-a").active_slots == 0
    lenient = client.acquire_concurrency_slots_with_lease([f"{name}-ghost"], 1)
    assert (lenient.granted, lenient.lease_id, lenient.missing) == (True, None, [f"{name}-ghost"])
    with pytest.raises(ParameterError, match="wait forever"):
        client.acquire_concurrency_slots_with_lease([f"{name}-a"], 2)
    with pytest.raises(ParameterError, match="no slot decay"):
        client.acquire_concurrency_slots_with_lease([f"{name}-a"], 1, mode="rate_limit")


def test_rate_limits_through_the_client(client, name):
    create(client, name, 2, slot_decay_per_second=0.5)

    taken = [
        client.acquire_concurrency_slots_with_lease([name], 1, mode="rate_limit") for _ in range(3)
    ]

    assert [outcome.granted for outcome in taken] == [True, True, False]
    assert taken[0].lease_id is None
    assert 1.0 < taken[2].retry_after_seconds <= 2.0  # one slot drains in 2 s


# -- tag limits --------------------------------------------------------------------------


def test_tag_limits(client, name):
    tag = f"tag-{name}"
    limit_id = client.create_concurrency_limit(tag, 2)
    assert client.create_concurrency_limit(tag, 3) == limit_id  # set, not duplicated

    run_id = uuid.uuid4()
    held = client.acquire_concurrency_slots_with_lease(
        [f"tag:{tag}"], 1, holder={"task_run_id": str(run_id)}
    )
    read = client.read_concurrency_limit_by_tag(tag)
    assert isinstance(read, ConcurrencyLimit)
    assert (read.id, read.tag, read.concurrency_limit) == (limit_id, tag, 3)
    assert (read.active_slots, read.slots_in_use) == ([run_id], 1)
    assert tag in [limit.tag for limit in client.read_concurrency_limits(limit=200)]
    assert client.read_global_concurrency_limit_by_name(f"tag:{tag}").limit == 3

    client.reset_concurrency_limit_by_tag(tag)
    assert client.read_concurrency_limit_by_tag(tag).slots_in_use == 0
    with pytest.raises(LeaseExpired):
        client.renew_concurrency_lease(held.lease_id, lease_duration_seconds=5)

    client.delete_concurrency_limit_by_tag(tag)
    for call in (
        client.read_concurrency_limit_by_tag,
        client.reset_concurrency_limit_by_tag,
        client.delete_concurrency_limit_by_tag,
    ):
        with pytest.raises(ObjectNotFound, match="concurrency-limit create"):
            call(tag)


# -- the async twins -------------------------------------------------------------------------


def test_async_clients_have_the_same_methods(make_async_client, name):
    async def main():
        async with make_async_client() as client:
            await client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(name=name, limit=1)
            )
            held = await client.acquire_concurrency_slots_with_lease([name], 1)
            refused = await client.acquire_concurrency_slots_with_lease([name], 1)
            await client.renew_concurrency_lease(held.lease_id, 10)
            leases = await client.read_concurrency_leases(name)
            await client.release_concurrency_slots_with_lease(held.lease_id)
            read = await client.read_global_concurrency_limit_by_name(name)
            return held.granted, refused.granted, [lease.id for lease in leases], read

    granted, refused, lease_ids, read = asyncio.run(main())
    assert (granted, refused, read.active_slots) == (True, False, 0)
    assert len(lease_ids) == 1
