"""Facts about the current run, as module attributes (Prefect 3's ``prefect.runtime``).

>>> from legato import runtime
>>> runtime.flow_run.id, runtime.task_run.name

Outside a run every attribute is None (or empty), never an error.
"""

from legato.runtime import deployment, flow_run, task_run

__all__ = ["deployment", "flow_run", "task_run"]
