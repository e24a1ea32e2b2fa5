"""Keeping this process's leases alive: one renewer thread for all of them.

Every slot of a global limit is held under a lease that expires unless its
holder renews it. ``LeaseRenewer`` renews each lease this process holds about
every third of its duration, from one daemon thread (started on the first
lease, idle while none is held). A holder that dies stops renewing, and the
store frees its slots when the lease expires: nothing leaks.

- ``hold(lease_id, client, duration)`` starts renewing; ``drop(lease_id)``
  stops (before the slots are released, so a released lease is never
  renewed).
- A lease that cannot be renewed is logged once. If the store says it is
  gone (``LeaseExpired``: it expired while this process could not reach the
  store), renewing stops and ``is_lost(lease_id)`` turns True. Other
  failures (a server restarting) are retried at the next turn.
- At exit, leases still held are released (best effort), so their slots do
  not wait for the expiry; a forked child forgets its parent's leases.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from legato.exceptions import ObjectNotFound

__all__ = ["LeaseRenewer", "renewer"]

logger = logging.getLogger(__name__)

RENEW_FRACTION = 1 / 3  # renew after this part of the lease has passed
MIN_RETRY_SECONDS = 0.05
IDLE_WAKE_SECONDS = 5.0


@dataclass
class _Lease:
    client: Any
    duration_seconds: float
    due: float  # monotonic time of the next renewal
    is_failing: bool = False  # a failure was logged and no renewal succeeded since


class LeaseRenewer:
    """Renews the leases this process holds, from one daemon thread."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._condition = threading.Condition(threading.Lock())
        self._leases: dict[Any, _Lease] = {}
        self._lost: set[Any] = set()
        self._thread: threading.Thread | None = None
        self._wakes_at: float | None = None  # when the waiting thread wakes (None: when told)
        self.renewals = 0  # successful renewals, for tests and diagnostics

    def hold(self, lease_id: Any, client: Any, duration_seconds: float) -> None:
        """Renew ``lease_id`` through ``client`` until ``drop``."""
        due = self._clock() + duration_seconds * RENEW_FRACTION
        with self._condition:
            self._leases[lease_id] = _Lease(client, duration_seconds, due)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="legato-lease-renewer", daemon=True
                )
                self._thread.start()
            elif self._wakes_at is None or due < self._wakes_at:
                # Wake the thread only when this lease is due before its next turn:
                # a thread switch per acquire would cost more than the bookkeeping.
                self._condition.notify()

    def drop(self, lease_id: Any) -> bool:
        """Stop renewing ``lease_id``; False if it was lost (or never held)."""
        with self._condition:
            held = self._leases.pop(lease_id, None) is not None
            lost = lease_id in self._lost
            self._lost.discard(lease_id)
        return held and not lost

    def is_lost(self, lease_id: Any) -> bool:
        """True once the store said ``lease_id`` expired while it was held."""
        with self._condition:
            return lease_id in self._lost

    def held(self) -> list[Any]:
        """The ids of the leases being renewed."""
        with self._condition:
            return list(self._leases)

    def release_all(self) -> None:
        """Release every lease still held (at exit): best effort, one attempt each."""
        with self._condition:
            leases = list(self._leases.items())
            self._leases.clear()
        for lease_id, lease in leases:
            try:
                lease.client.release_concurrency_slots_with_lease(lease_id)
            except Exception as exc:
                logger.debug("Could not release lease %s at exit: %s", lease_id, exc)

    # -- the thread -----------------------------------------------------------
    def _run(self) -> None:
        while True:
            for lease_id, lease in self._wait_for_due():
                self._renew(lease_id, lease)

    def _wait_for_due(self) -> list[tuple[Any, _Lease]]:
        with self._condition:
            while True:
                now = self._clock()
                due = [(i, lease) for i, lease in self._leases.items() if lease.due <= now]
                if due:
                    return due
                # Idle, it still looks every IDLE_WAKE_SECONDS: a lease due later than
                # that (a default one is due in 10 s) then needs no wake-up call at all.
                wake = min((lease.due for lease in self._leases.values()), default=None)
                self._wakes_at = now + IDLE_WAKE_SECONDS if wake is None else wake
                self._condition.wait(max(0.0, self._wakes_at - now))
                self._wakes_at = None

    def _renew(self, lease_id: Any, lease: _Lease) -> None:
        started = self._clock()
        try:
            lease.client.renew_concurrency_lease(lease_id, lease.duration_seconds)
        except ObjectNotFound as exc:
            self._forget_lost(lease_id, exc)
            return
        except Exception as exc:
            if not lease.is_failing:
                lease.is_failing = True
                logger.warning(
                    "Could not renew concurrency lease %s (%s); retrying. Its slots are "
                    "freed for others if it cannot be renewed within %g s.",
                    lease_id,
                    exc,
                    lease.duration_seconds,
                )
            retry = max(MIN_RETRY_SECONDS, lease.duration_seconds * RENEW_FRACTION / 2)
            self._reschedule(lease_id, lease, started + retry)
            return
        if lease.is_failing:
            lease.is_failing = False
            logger.info("Concurrency lease %s renewed again.", lease_id)
        self.renewals += 1
        self._reschedule(lease_id, lease, started + lease.duration_seconds * RENEW_FRACTION)

    def _reschedule(self, lease_id: Any, lease: _Lease, due: float) -> None:
        with self._condition:
            if self._leases.get(lease_id) is lease:
                lease.due = due

    def _forget_lost(self, lease_id: Any, exc: Exception) -> None:
        with self._condition:
            if self._leases.pop(lease_id, None) is None:
                return  # dropped meanwhile: released by its holder, not lost
            self._lost.add(lease_id)
        logger.warning(
            "Concurrency lease %s expired before it could be renewed (%s): its slots may "
            "now be held by others. Give limits a longer lease "
            "(LEGATO_CONCURRENCY_LEASE_DURATION_SECONDS) if the store is slow to reach.",
            lease_id,
            exc,
        )

    def _after_fork(self) -> None:
        self._condition = threading.Condition(threading.Lock())
        self._leases = {}
        self._lost = set()
        self._thread = None
        self._wakes_at = None


renewer = LeaseRenewer()
atexit.register(renewer.release_all)
os.register_at_fork(after_in_child=renewer._after_fork)
