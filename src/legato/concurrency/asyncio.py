"""Global concurrency and rate limits for coroutines (Prefect 3's ``prefect.concurrency.asyncio``).

```python
from legato.concurrency.asyncio import concurrency, rate_limit

async with concurrency("database", occupy=1):
    ...

await rate_limit("github-api")
```

The same limits, rules and errors as ``legato.concurrency.sync``; waiting
sleeps with ``asyncio`` and each store call runs in a worker thread, so the
event loop never blocks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from legato.concurrency._global_slots import atake_slots, make_request
from legato.exceptions import AcquireConcurrencySlotTimeoutError, ConcurrencySlotAcquisitionError

__all__ = [
    "AcquireConcurrencySlotTimeoutError",
    "ConcurrencySlotAcquisitionError",
    "concurrency",
    "rate_limit",
]


@asynccontextmanager
async def concurrency(
    names: str | Iterable[str],
    occupy: int = 1,
    timeout_seconds: float | None = None,
    max_retries: int | None = None,
    lease_duration: float | None = None,
    strict: bool = False,
    holder: dict[str, Any] | None = None,
) -> AsyncIterator[None]:
    """Hold ``occupy`` slots of each limit in ``names`` for the ``async with`` block.

    See ``legato.concurrency.sync.concurrency`` for the arguments.
    """
    request = make_request(names, occupy, "concurrency", timeout_seconds, max_retries, strict)
    held = await atake_slots(request, lease_duration, holder)
    try:
        yield
    finally:
        await held.arelease()


async def rate_limit(
    names: str | Iterable[str],
    occupy: int = 1,
    timeout_seconds: float | None = None,
    strict: bool = False,
) -> None:
    """Wait until each limit in ``names`` lets ``occupy`` more operations through.

    See ``legato.concurrency.sync.rate_limit``.
    """
    request = make_request(names, occupy, "rate_limit", timeout_seconds, None, strict)
    await atake_slots(request)
