"""The work behind ``Flow.to_deployment``, ``Flow.serve``, ``Flow.deploy`` and ``Flow.from_source``.

``flows.py`` keeps the signatures (Prefect 3's) and imports this module
only when one of them is called, so ``import legato`` stays cheap.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from legato.deployments._schedule_options import ScheduleOptions
from legato.deployments.runner import _IMAGE_MESSAGE, EntrypointType, RunnerDeployment
from legato.exceptions import ParameterError

if TYPE_CHECKING:
    from legato.flows import Flow

__all__ = ["deploy_flow", "flow_from_source", "serve_flow", "to_deployment"]

_TRIGGERS_MESSAGE = (
    "triggers= (event triggers on a deployment) are not supported yet; create the "
    "deployment without them."
)


def to_deployment(
    flow: Flow[..., Any],
    name: str,
    *,
    interval: Any = None,
    cron: Any = None,
    rrule: Any = None,
    schedule: Any = None,
    schedules: Any = None,
    triggers: Any = None,
    entrypoint_type: Any = EntrypointType.FILE_PATH,
    **options: Any,
) -> RunnerDeployment:
    """``flow.to_deployment(...)``: see ``RunnerDeployment.from_flow``."""
    if triggers:
        raise ParameterError(_TRIGGERS_MESSAGE)
    return RunnerDeployment.from_flow(
        flow,
        name,
        schedule_options=ScheduleOptions(interval, cron, rrule, schedule, schedules),
        entrypoint_type=EntrypointType(entrypoint_type),
        **options,
    )


def serve_flow(
    flow: Flow[..., Any],
    name: str | None = None,
    *,
    limit: int | None = None,
    pause_on_shutdown: bool = True,
    print_starting_message: bool = True,
    **options: Any,
) -> None:
    """``flow.serve(...)``: one deployment, served by this process until stopped."""
    from legato.deployments.serve import serve

    deployment = to_deployment(flow, name or flow.name, **options)
    serve(
        deployment,
        limit=limit,
        pause_on_shutdown=pause_on_shutdown,
        print_starting_message=print_starting_message,
    )


def deploy_flow(
    flow: Flow[..., Any],
    name: str,
    *,
    work_pool_name: str | None = None,
    image: Any = None,
    build: bool | None = None,
    push: bool | None = None,
    print_next_steps: bool = True,
    **options: Any,
) -> uuid.UUID:
    """``flow.deploy(...)``: a deployment for the workers of ``work_pool_name``; its id."""
    if image is not None or build or push:
        raise ParameterError(_IMAGE_MESSAGE)
    if not work_pool_name:
        raise ParameterError(
            f"flow.deploy() needs work_pool_name= (the pool whose workers run deployment "
            f"{name!r}). Create one with `legato work-pool create NAME --type process`, "
            "or use flow.serve() to run the flow in this process."
        )
    deployment = to_deployment(flow, name, work_pool_name=work_pool_name, **options)
    # The worker's process starts in this folder (the code is local: no image, no clone).
    deployment.pull_steps = [
        {"legato.deployments.steps.set_working_directory": {"directory": deployment.path}}
    ]
    deployment_id = deployment.apply()
    if print_next_steps:
        _print_next_steps(deployment, work_pool_name)
    return deployment_id


def _print_next_steps(deployment: RunnerDeployment, work_pool_name: str) -> None:
    import shlex

    print(
        f"Created deployment {deployment.full_name!r} in work pool {work_pool_name!r}.\n"
        "To run its flow runs, start a worker:\n"
        f"    legato worker start --pool {shlex.quote(work_pool_name)}\n"
        "To start a run now:\n"
        f"    legato deployment run {shlex.quote(deployment.full_name)}"
    )


def flow_from_source(source: Any, entrypoint: str) -> Flow[..., Any]:
    """The flow ``entrypoint`` names in the local folder ``source``; deploying it uses that folder."""
    from legato.flows import load_flow_from_entrypoint

    text = str(source)
    if "://" in text or text.startswith("git@"):
        raise ParameterError(
            f"from_source({text!r}): legato loads flows from local folders only. For a git "
            "repository, deploy with a legato.yaml whose pull steps include "
            "legato.deployments.steps.git_clone (see `legato init`)."
        )
    folder = Path(text).expanduser().resolve()
    if not folder.is_dir():
        raise ParameterError(
            f"from_source({text!r}): {str(folder)!r} is not a folder. Give the folder that "
            "holds the flow's code, and the entrypoint relative to it."
        )
    loaded = load_flow_from_entrypoint(entrypoint, folder)
    loaded._source_dir = folder  # type: ignore[attr-defined]
    loaded._source_entrypoint = entrypoint  # type: ignore[attr-defined]
    return loaded
