"""Concurrency and rate limits, as in Prefect 3's ``prefect.concurrency``.

- ``legato.concurrency.sync``: ``concurrency(names, occupy=1, ...)`` (a context
  manager that holds slots of global limits kept in the store) and
  ``rate_limit(names, occupy=1, ...)`` (blocks until the limits' slot decay
  allows ``occupy`` more operations).
- ``legato.concurrency.asyncio``: the same, for ``async with`` / ``await``.
- ``legato.concurrency.local``: limits defined in this process only, with no
  store round trip (``define_limit(name, limit)``; ``concurrency(name)``).

Global limits live in the store (the embedded SQLite file, or a server), so
they hold across every process and machine that records there. Every slot
is held under a lease that this process renews in the background
(``_leases``); a process that dies stops renewing, and its slots come back
when the lease expires. See docs/concurrency.md.
"""

from __future__ import annotations
