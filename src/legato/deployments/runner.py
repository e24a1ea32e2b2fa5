"""``RunnerDeployment``: a deployment described in Python, applied through the client.

``flow.to_deployment(name, ...)`` builds one; ``apply()`` creates (or
updates: deployments are unique by flow and name) the deployment in the
store; ``legato.serve(*deployments)`` applies several and runs them in this
process; ``flow.deploy(...)`` applies one for a work pool's workers.

What a deployment records about the flow:

- ``entrypoint``: where a fresh process finds the flow, ``path/to/file.py:fn``
  relative to the current folder (``EntrypointType.FILE_PATH``, the default),
  or ``package.module:fn`` (``EntrypointType.MODULE_PATH``);
- ``path``: the current folder, where a process started for a run works;
- ``parameter_openapi_schema``: the JSON schema of the flow's parameters,
  against which the deployment's and each run's parameters are checked
  (``enforce_parameter_schema=True``, the default).
"""

from __future__ import annotations

import inspect
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from legato.deployments._schedule_options import ScheduleOptions, build_schedules
from legato.exceptions import ParameterError

if TYPE_CHECKING:
    from legato.flows import Flow

__all__ = ["DeploymentImage", "EntrypointType", "RunnerDeployment"]


class EntrypointType(Enum):
    """How a deployment's entrypoint names its flow (Prefect 3's values)."""

    FILE_PATH = "file_path"
    MODULE_PATH = "module_path"


class DeploymentImage:
    """Prefect's Docker image argument: not available until the Docker worker exists."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise ParameterError(_IMAGE_MESSAGE)


_IMAGE_MESSAGE = (
    "Docker images are not built by legato yet: they come with the Docker worker in a "
    "later release. Deploy to a process work pool (`legato work-pool create NAME --type "
    "process`) without image=, build= or push=."
)


@dataclass
class RunnerDeployment:
    """A deployment of one flow, ready to ``apply()`` (Prefect 3's ``RunnerDeployment``)."""

    name: str
    flow_name: str
    entrypoint: str | None = None
    path: str | None = None
    schedules: list[Any] = field(default_factory=list)
    paused: bool | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    version: str | None = None
    enforce_parameter_schema: bool = True
    parameter_openapi_schema: dict[str, Any] = field(default_factory=dict)
    work_pool_name: str | None = None
    work_queue_name: str | None = None
    job_variables: dict[str, Any] = field(default_factory=dict)
    concurrency_limit: int | None = None
    pull_steps: list[dict[str, Any]] | None = None
    # The flow itself when built in this process (``serve`` runs it from its entrypoint).
    flow: Flow[..., Any] | None = field(default=None, repr=False, compare=False)

    @property
    def full_name(self) -> str:
        """``flow-name/deployment-name``, as the CLI and ``run_deployment`` take it."""
        return f"{self.flow_name}/{self.name}"

    @classmethod
    def from_flow(
        cls,
        flow: Flow[..., Any],
        name: str,
        *,
        schedule_options: ScheduleOptions | None = None,
        paused: bool | None = None,
        parameters: dict[str, Any] | None = None,
        description: str | None = None,
        tags: Iterable[str] | None = None,
        version: str | None = None,
        enforce_parameter_schema: bool = True,
        work_pool_name: str | None = None,
        work_queue_name: str | None = None,
        job_variables: dict[str, Any] | None = None,
        concurrency_limit: int | None = None,
        entrypoint_type: EntrypointType = EntrypointType.FILE_PATH,
    ) -> RunnerDeployment:
        """The deployment of ``flow`` named ``name`` (see ``Flow.to_deployment``)."""
        from legato.engine.parameter_schema import parameter_schema

        _check_name(name)
        source_dir: Path | None = getattr(flow, "_source_dir", None)
        deployment = cls(
            name=name,
            flow_name=flow.name,
            entrypoint=getattr(flow, "_source_entrypoint", None)
            or flow_entrypoint(flow, entrypoint_type),
            path=str(source_dir or Path.cwd()),
            schedules=build_schedules(schedule_options or ScheduleOptions()),
            paused=paused,
            parameters=_json_parameters(parameters, flow, name),
            description=description if description is not None else flow.description,
            tags=_checked_tags(tags),
            version=version if version is not None else flow.version,
            enforce_parameter_schema=enforce_parameter_schema,
            parameter_openapi_schema=parameter_schema(flow.fn),
            work_pool_name=work_pool_name,
            work_queue_name=work_queue_name,
            job_variables=dict(job_variables or {}),
            concurrency_limit=_checked_limit(concurrency_limit),
            flow=flow,
        )
        if enforce_parameter_schema:
            deployment.check_parameters()
        return deployment

    def check_parameters(self) -> None:
        """Refuse parameters the flow does not take or whose values do not fit (naming each)."""
        from legato.orchestration.parameter_validation import validate_parameters

        validate_parameters(
            self.parameters,
            self.parameter_openapi_schema,
            require_all=False,
            owner=f"deployment {self.full_name!r}",
        )

    # -- applying -------------------------------------------------------------------
    def create_arguments(self, flow_id: uuid.UUID) -> dict[str, Any]:
        """The keyword arguments of the client's ``create_deployment``."""
        return {
            "flow_id": flow_id,
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "tags": self.tags,
            "parameters": self.parameters,
            "parameter_openapi_schema": self.parameter_openapi_schema,
            "enforce_parameter_schema": self.enforce_parameter_schema,
            "entrypoint": self.entrypoint,
            "path": self.path,
            "pull_steps": self.pull_steps,
            "work_pool_name": self.work_pool_name,
            "work_queue_name": self.work_queue_name,
            "job_variables": self.job_variables,
            "schedules": self.schedules,
            "paused": bool(self.paused),
            "concurrency_limit": self.concurrency_limit,
        }

    def apply(self, work_pool_name: str | None = None, image: Any = None) -> uuid.UUID:
        """Create or update this deployment in the store; its id.

        ``work_pool_name`` overrides the one given at creation. A pool that
        does not exist raises ObjectNotFound naming the command that creates it.
        """
        if image is not None:
            raise ParameterError(_IMAGE_MESSAGE)
        from legato.client import get_client

        if work_pool_name is not None:
            self.work_pool_name = work_pool_name
        with get_client(sync_client=True) as client:
            return self.apply_with(client)

    def apply_with(self, client: Any) -> uuid.UUID:
        """``apply()`` through an open sync client."""
        if self.work_pool_name:
            check_work_pool(client, self.work_pool_name)
        flow_id = client.create_flow_from_name(self.flow_name)
        return uuid.UUID(str(client.create_deployment(**self.create_arguments(flow_id))))

    async def aapply(self, work_pool_name: str | None = None, image: Any = None) -> uuid.UUID:
        """The async twin of ``apply()``."""
        import asyncio

        return await asyncio.to_thread(self.apply, work_pool_name, image)


def check_work_pool(client: Any, work_pool_name: str) -> None:
    """ObjectNotFound naming the fix when the pool does not exist."""
    from legato.exceptions import ObjectNotFound

    try:
        client.read_work_pool(work_pool_name)
    except ObjectNotFound:
        raise ObjectNotFound(
            f"Work pool {work_pool_name!r} does not exist. Create it with "
            f"`legato work-pool create {_quoted(work_pool_name)} --type process`, "
            "or list pools with `legato work-pool ls`."
        ) from None


def _quoted(text: str) -> str:
    import shlex

    return shlex.quote(text)


# -- the flow's entrypoint -----------------------------------------------------------


def flow_entrypoint(flow: Flow[..., Any], entrypoint_type: EntrypointType) -> str:
    """Where a fresh process finds ``flow``: ``file.py:attr`` (relative to cwd) or ``module:attr``."""
    entrypoint_type = EntrypointType(entrypoint_type)
    fn = flow.fn
    module_name = getattr(fn, "__module__", None) or "__main__"
    attribute = _module_attribute(flow, module_name)
    if entrypoint_type is EntrypointType.MODULE_PATH:
        if module_name == "__main__" or module_name.startswith("__legato_entrypoint__"):
            raise ParameterError(
                f"Flow {flow.name!r} is defined in a script, not an importable module, so it has "
                "no module path. Use entrypoint_type=EntrypointType.FILE_PATH (the default)."
            )
        return f"{module_name}:{attribute}"
    try:
        source = inspect.getsourcefile(fn)
    except TypeError:
        source = None
    if not source or not Path(source).is_file():
        raise ParameterError(
            f"Flow {flow.name!r} is not defined in a Python file (an interactive session or a "
            "notebook?), so no other process can load it. Move it to a .py file and run that."
        )
    path = Path(source).resolve()
    try:
        relative = path.relative_to(Path.cwd().resolve())
    except ValueError:
        return f"{path.as_posix()}:{attribute}"
    return f"{relative.as_posix()}:{attribute}"


def _module_attribute(flow: Flow[..., Any], module_name: str) -> str:
    """The module-level name of ``flow`` (usually its function's name)."""
    fn = flow.fn
    qualname = str(getattr(fn, "__qualname__", getattr(fn, "__name__", "")))
    if "<locals>" in qualname:
        raise ParameterError(
            f"Flow {flow.name!r} is defined inside a function ({qualname}), so no other process "
            "can import it. Define it at the top level of its module."
        )
    module = sys.modules.get(module_name)
    if module is not None:
        for attribute, value in vars(module).items():
            if value is flow or getattr(value, "fn", None) is fn:
                return attribute
    return qualname


# -- argument checks -----------------------------------------------------------------


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not name.strip():
        raise ParameterError(f"A deployment needs a name (a non-empty string), got {name!r}.")
    if "/" in name:
        raise ParameterError(
            f"Deployment name {name!r} contains '/', which separates the flow name from the "
            "deployment name in 'flow/deployment'. Choose a name without '/'."
        )


def _checked_tags(tags: Iterable[str] | None) -> list[str]:
    if tags is None:
        return []
    if isinstance(tags, str):
        raise ParameterError(f"tags={tags!r} must be a list of strings, not one string.")
    return [str(tag) for tag in tags]


def _checked_limit(limit: Any) -> int | None:
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ParameterError(
            f"concurrency_limit={limit!r} must be a whole number >= 1 (or None for no limit)."
        )
    return limit


def _json_parameters(
    parameters: dict[str, Any] | None, flow: Flow[..., Any], name: str
) -> dict[str, Any]:
    """``parameters`` as JSON values (a deployment stores them), or a ParameterError naming one."""
    if parameters is None:
        return {}
    if not isinstance(parameters, dict):
        raise ParameterError(f"parameters={parameters!r} must be a dict of names to values.")
    from pydantic_core import to_jsonable_python

    converted: dict[str, Any] = {}
    for key, value in parameters.items():
        try:
            converted[key] = to_jsonable_python(value)
        except Exception as exc:
            raise ParameterError(
                f"Parameter {key!r} of deployment '{flow.name}/{name}' has no JSON form "
                f"({type(value).__name__}: {exc}). Deployments store parameters as JSON: "
                "pass JSON-compatible values."
            ) from None
    return converted
