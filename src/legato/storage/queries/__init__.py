"""Reads, in SQLAlchemy Core, one module per resource.

Every function takes an open ``Connection`` and returns plain dicts keyed by
column name (``Row``): timestamps as aware UTC datetimes, JSON decoded, ids as
strings. Lists are paged with ``limit``/``offset`` in a stable order.
"""

from __future__ import annotations

from legato.storage.queries.flow_runs import count_flow_runs, read_flow_run, read_flow_runs
from legato.storage.queries.flows import read_flows
from legato.storage.queries.history import read_logs, read_states
from legato.storage.queries.task_runs import read_task_run, read_task_runs

__all__ = [
    "count_flow_runs",
    "read_flow_run",
    "read_flow_runs",
    "read_flows",
    "read_logs",
    "read_states",
    "read_task_run",
    "read_task_runs",
]
