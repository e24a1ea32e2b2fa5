"""The orchestration service: runs, states, logs and records over one store.

Plain functions over a SQLAlchemy ``Connection``, one module per resource,
shared by the embedded client and the REST server's handlers: one set of
rules, one code path. ``Store`` opens the database and runs those functions
in read or write transactions; ``rules`` is the state transition table.
"""

from __future__ import annotations

from legato.orchestration.store import Store

__all__ = ["Store"]
