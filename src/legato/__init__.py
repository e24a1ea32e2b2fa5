"""legato: Prefect 3's API for workflows, at microseconds per task.

>>> from legato import flow, task
>>> @task
... def double(x: int) -> int:
...     return 2 * x
>>> @flow
... def pipeline(n: int = 3) -> list[int]:
...     return double.map(range(n)).result()

Importing legato is cheap: the store, the settings and pydantic load on the
first run; the server, the CLI and SQLAlchemy never load here.
"""

from typing import Any as _Any

from legato.annotations import allow_failure, quote, unmapped
from legato.engine.context import get_run_context, tags
from legato.flows import Flow, flow
from legato.futures import PrefectFuture, as_completed, wait
from legato.logging import get_run_logger
from legato.states import State
from legato.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner
from legato.tasks import Task, task

__version__ = "0.1.0"


def __getattr__(name: str) -> _Any:
    # get_client loads the client package (pydantic models, httpx) only when asked for.
    if name == "get_client":
        from legato.client import get_client

        return get_client
    # serve loads the deployments package (and, when called, the client and a worker loop).
    if name == "serve":
        from legato.deployments.serve import serve

        return serve
    # pause/resume/suspend load the flow-run helpers (and, when called, the client).
    if name in ("pause_flow_run", "resume_flow_run", "suspend_flow_run"):
        from legato import flow_runs

        return getattr(flow_runs, name)
    raise AttributeError(f"module 'legato' has no attribute {name!r}")


__all__ = [
    "Flow",
    "PrefectFuture",
    "ProcessPoolTaskRunner",
    "State",
    "Task",
    "ThreadPoolTaskRunner",
    "__version__",
    "allow_failure",
    "as_completed",
    "flow",
    "get_client",
    "get_run_context",
    "get_run_logger",
    "pause_flow_run",
    "quote",
    "serve",
    "resume_flow_run",
    "suspend_flow_run",
    "tags",
    "task",
    "unmapped",
    "wait",
]
