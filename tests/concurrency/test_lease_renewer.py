"""The renewer thread, driven by a recording client (the store is exercised in the
multi-process tests): when it renews, what it stops renewing, how it logs failures."""

from __future__ import annotations

import threading
import time

from legato.concurrency._leases import LeaseRenewer
from legato.exceptions import LeaseExpired, StorageError


class RecordingClient:
    def __init__(self) -> None:
        self.renewals: list[tuple[str, float, float]] = []
        self.released: list[str] = []
        self.failure: Exception | None = None
        self.renewed = threading.Condition()

    def renew_concurrency_lease(self, lease_id: str, lease_duration_seconds: float) -> None:
        with self.renewed:
            self.renewals.append((lease_id, lease_duration_seconds, time.monotonic()))
            self.renewed.notify_all()
            if self.failure is not None:
                raise self.failure

    def release_concurrency_slots_with_lease(self, lease_id: str) -> None:
        self.released.append(lease_id)

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        with self.renewed:
            return self.renewed.wait_for(lambda: len(self.renewals) >= count, timeout)


def test_renews_about_every_third_of_the_lease():
    renewer = LeaseRenewer()
    client = RecordingClient()
    started = time.monotonic()
    renewer.hold("lease-1", client, 0.3)
    assert client.wait_for(3)
    times = [when - started for _, _, when in client.renewals[:3]]
    assert times[0] >= 0.09  # not before a third of the lease
    assert all(
        0.05 < later - earlier < 0.5 for earlier, later in zip(times, times[1:], strict=False)
    )
    assert {(lease, duration) for lease, duration, _ in client.renewals} == {("lease-1", 0.3)}
    assert renewer.drop("lease-1") is True


def test_a_dropped_lease_is_not_renewed_again():
    renewer = LeaseRenewer()
    client = RecordingClient()
    renewer.hold("gone", client, 0.15)
    renewer.hold("kept", client, 0.15)
    assert client.wait_for(2)
    renewer.drop("gone")
    count = len(client.renewals)
    assert client.wait_for(count + 4)
    later = [lease for lease, _, _ in client.renewals[count + 1 :]]
    assert later and set(later) == {"kept"}
    assert renewer.held() == ["kept"]


def test_one_thread_renews_every_lease():
    renewer = LeaseRenewer()
    client = RecordingClient()
    before = {thread.name for thread in threading.enumerate()}
    for index in range(20):
        renewer.hold(f"lease-{index}", client, 0.3)
    assert client.wait_for(20)
    renewer_threads = [
        t
        for t in threading.enumerate()
        if t.name == "legato-lease-renewer" and t.name not in before
    ]
    assert len(renewer_threads) <= 1
    assert {lease for lease, _, _ in client.renewals} == {f"lease-{i}" for i in range(20)}


def test_a_failing_renewal_is_logged_once_and_retried(concurrency_logs):
    renewer = LeaseRenewer()
    client = RecordingClient()
    client.failure = StorageError("database is locked")
    renewer.hold("flaky", client, 0.2)
    assert client.wait_for(4)
    warnings = [r for r in concurrency_logs if "Could not renew" in r.getMessage()]
    assert len(warnings) == 1 and "flaky" in warnings[0].getMessage()
    client.failure = None
    count = len(client.renewals)
    assert client.wait_for(count + 2)
    assert any("renewed again" in r.getMessage() for r in concurrency_logs)
    assert not renewer.is_lost("flaky")


def test_an_expired_lease_is_lost_and_no_longer_renewed(concurrency_logs):
    renewer = LeaseRenewer()
    client = RecordingClient()
    client.failure = LeaseExpired("late")
    renewer.hold("late", client, 0.15)
    assert client.wait_for(1)
    deadline = time.monotonic() + 5
    while not renewer.is_lost("late") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert renewer.is_lost("late")
    assert renewer.held() == []
    count = len(client.renewals)
    time.sleep(0.2)  # > one renewal period: nothing more may happen
    assert len(client.renewals) == count
    assert renewer.drop("late") is False
    assert (
        sum("expired before it could be renewed" in r.getMessage() for r in concurrency_logs) == 1
    )


def test_release_all_at_exit_releases_what_is_held():
    renewer = LeaseRenewer()
    client = RecordingClient()
    renewer.hold("a", client, 30)
    renewer.hold("b", client, 30)
    renewer.drop("b")
    renewer.release_all()
    assert client.released == ["a"]
    assert renewer.held() == []
