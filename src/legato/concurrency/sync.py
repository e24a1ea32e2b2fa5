"""Global concurrency and rate limits for synchronous code (Prefect 3's ``prefect.concurrency.sync``).

```python
from legato.concurrency.sync import concurrency, rate_limit

with concurrency("database", occupy=1, timeout_seconds=60):
    ...                                   # at most N of these at once, across processes

rate_limit("github-api")                  # blocks until the limit's decay allows one more call
```

The limits live in the store (create them with ``legato global-concurrency-limit
create``, or ``legato concurrency-limit create TAG N`` for tag limits), so they
hold across every process and machine that records there. See
docs/concurrency.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from legato.concurrency._global_slots import make_request, take_slots
from legato.exceptions import AcquireConcurrencySlotTimeoutError, ConcurrencySlotAcquisitionError

__all__ = [
    "AcquireConcurrencySlotTimeoutError",
    "ConcurrencySlotAcquisitionError",
    "concurrency",
    "rate_limit",
]


@contextmanager
def concurrency(
    names: str | Iterable[str],
    occupy: int = 1,
    timeout_seconds: float | None = None,
    max_retries: int | None = None,
    lease_duration: float | None = None,
    strict: bool = False,
    holder: dict[str, Any] | None = None,
) -> Iterator[None]:
    """Hold ``occupy`` slots of each limit in ``names`` for the ``with`` block.

    Waits until every limit has the slots free (all are taken at once, or
    none), at most ``timeout_seconds`` (None: as long as it takes; then
    ``AcquireConcurrencySlotTimeoutError``, a ``TimeoutError``). The slots are
    held under a lease of ``lease_duration`` seconds (default
    ``LEGATO_CONCURRENCY_LEASE_DURATION_SECONDS``) that this process renews
    while the block runs, and are given back when it ends, however it ends.
    A limit that does not exist is an error with ``strict=True``
    (``ConcurrencySlotAcquisitionError``); otherwise a warning, and no wait.
    ``holder`` (default: the current task or flow run) is recorded with the
    lease.
    """
    request = make_request(names, occupy, "concurrency", timeout_seconds, max_retries, strict)
    held = take_slots(request, lease_duration, holder)
    try:
        yield
    finally:
        held.release()


def rate_limit(
    names: str | Iterable[str],
    occupy: int = 1,
    timeout_seconds: float | None = None,
    strict: bool = False,
) -> None:
    """Block until each limit in ``names`` lets ``occupy`` more operations through.

    The limits need a slot decay (``--slot-decay-per-second``): slots taken
    here are not given back, they decay at that rate, so N limits of size L
    and decay D allow D operations per second on average, across processes.
    """
    request = make_request(names, occupy, "rate_limit", timeout_seconds, None, strict)
    take_slots(request)
