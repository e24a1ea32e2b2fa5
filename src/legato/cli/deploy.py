"""``legato deploy``: create the deployments a project file (legato.yaml, prefect.yaml) describes.

Each deployment's entrypoint is loaded from the project folder to learn the
flow's name and parameter schema; its pull steps are stored on the
deployment (default: work in the project folder) for the worker to run.
``build`` and ``push`` steps are not run (a warning says so): legato
deploys code that is on disk or that a pull step fetches.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from legato.cli._output import exits_on_error

if TYPE_CHECKING:
    from legato.deployments.project import DeploymentSpec, ProjectFile


@exits_on_error
def deploy(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="Deployment names to create (shell patterns); or use -n.", show_default=False
        ),
    ] = None,
    name: Annotated[
        list[str] | None,
        typer.Option(
            "--name", "-n", help="A deployment to create (repeatable; 'flow/name' or a pattern)."
        ),
    ] = None,
    deploy_all: Annotated[
        bool, typer.Option("--all", help="Create every deployment of the file.")
    ] = False,
    project_file: Annotated[
        Path | None,
        typer.Option(
            "--prefect-file",
            "--file",
            help="The project file (default: legato.yaml, else prefect.yaml, in this folder).",
        ),
    ] = None,
    pool: Annotated[
        str | None, typer.Option("--pool", "-p", help="ENTRYPOINT mode: the work pool.")
    ] = None,
    work_queue: Annotated[
        str | None, typer.Option("--work-queue", "-q", help="ENTRYPOINT mode: the pool's queue.")
    ] = None,
    cron: Annotated[
        str | None, typer.Option("--cron", help="ENTRYPOINT mode: a cron schedule.")
    ] = None,
    interval: Annotated[
        float | None, typer.Option("--interval", help="ENTRYPOINT mode: an interval in seconds.")
    ] = None,
    rrule: Annotated[str | None, typer.Option("--rrule", help="ENTRYPOINT mode: an rrule.")] = None,
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="ENTRYPOINT mode: the schedule's time zone.")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", help="ENTRYPOINT mode: a parameter, KEY=VALUE.")
    ] = None,
    params: Annotated[
        str | None, typer.Option("--params", help="ENTRYPOINT mode: parameters as JSON.")
    ] = None,
    job_variable: Annotated[
        list[str] | None,
        typer.Option("--job-variable", "-jv", help="ENTRYPOINT mode: a job variable, KEY=VALUE."),
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="ENTRYPOINT mode: a tag.")
    ] = None,
    version: Annotated[str | None, typer.Option("--version", "-v", help="ENTRYPOINT mode.")] = None,
    description: Annotated[
        str | None, typer.Option("--description", "-d", help="ENTRYPOINT mode.")
    ] = None,
) -> None:
    """Create or update the deployments of legato.yaml / prefect.yaml, or of one ENTRYPOINT.

    `legato deploy --all` (or `-n NAME`) creates the project file's deployments;
    `legato deploy flows.py:my_flow -n NAME --pool POOL [--cron ...]` creates one
    deployment of that flow without a project file.
    """
    from legato.cli import _output

    arguments = [*(names or [])]
    entrypoints = [argument for argument in arguments if ":" in argument]
    options = {
        "pool": pool, "work_queue": work_queue, "cron": cron, "interval": interval,
        "rrule": rrule, "timezone": timezone, "param": param, "params": params,
        "job_variable": job_variable, "tag": tag, "version": version, "description": description,
    }  # fmt: skip
    if entrypoints:
        from legato.cli._deploy_entrypoint import deploy_entrypoint

        if len(arguments) > 1 or deploy_all:
            _output.fail("Give one ENTRYPOINT (path/to/file.py:flow_function) and -n NAME.")
        created = [deploy_entrypoint(entrypoints[0], name, options)]
    else:
        given = sorted(f"--{key.replace('_', '-')}" for key, value in options.items() if value)
        if given:
            _output.fail(
                f"{', '.join(given)} go with an ENTRYPOINT (`legato deploy flows.py:my_flow "
                "-n NAME --pool POOL`); a project file's deployments take them from the file."
            )
        created = _deploy_project(project_file, [*arguments, *(name or [])], deploy_all)
    pools = sorted({pool for _, pool in created if pool})
    _output.info("")
    for pool in pools:
        _output.info(
            f"Start a worker for {pool!r}:  legato worker start --pool {shlex.quote(pool)}"
        )
    if created:
        _output.info(f"Start a run:  legato deployment run {shlex.quote(created[0][0])}")


def _deploy_project(
    project_file: Path | None, patterns: list[str], deploy_all: bool
) -> list[tuple[str, str | None]]:
    from legato.cli._client import open_client
    from legato.deployments.project import load_project

    project = load_project(project_file)
    specs = _selected(project, patterns, deploy_all)
    with open_client() as client:
        return [_create(client, project, spec) for spec in specs]


def _selected(project: ProjectFile, patterns: list[str], deploy_all: bool) -> list[DeploymentSpec]:
    """The deployments to create, or exit saying which names the file has."""
    from legato.cli import _output

    shown = str(project.path)
    available = ", ".join(repr(spec.name) for spec in project.deployments) or "none"
    if not project.deployments:
        _output.fail(
            f"{shown} has no deployments. Add some under `deployments:` (see `legato init`)."
        )
    if deploy_all and patterns:
        _output.fail("Give --all or deployment names, not both.")
    if deploy_all:
        return list(project.deployments)
    if not patterns:
        if len(project.deployments) == 1:
            return list(project.deployments)
        _output.fail(
            f"{shown} has several deployments ({available}). Name the ones to create with "
            "-n NAME (repeatable), or pass --all."
        )
    chosen = project.select(patterns)
    if not chosen:
        _output.fail(
            f"No deployment of {shown} matches {', '.join(patterns)}. It has: {available}."
        )
    return chosen


def _create(client: Any, project: ProjectFile, spec: DeploymentSpec) -> tuple[str, str | None]:
    """Create one deployment; its full name and work pool."""
    from legato.cli import _output
    from legato.deployments.runner import check_work_pool
    from legato.engine.parameter_schema import parameter_schema
    from legato.flows import load_flow_from_entrypoint

    index = project.deployments.index(spec)
    where = f"{project.path}:{project.line_of('deployments', index)}"
    if not spec.name:
        _output.fail(f"{where}: deployments[{index}] has no name. Give it `name: ...`.")
    if not spec.entrypoint:
        _output.fail(
            f"{where}: deployment {spec.name!r} has no entrypoint. Add "
            "`entrypoint: path/to/file.py:flow_function` (relative to the project folder)."
        )
    flow = load_flow_from_entrypoint(spec.entrypoint, project.folder)
    if spec.flow_name and spec.flow_name != flow.name:
        _output.fail(
            f"{where}: deployment {spec.name!r} says flow_name {spec.flow_name!r}, but "
            f"{spec.entrypoint!r} is the flow {flow.name!r}. Fix one of them."
        )
    arguments = project.deployment_arguments(spec)
    pool = arguments.get("work_pool_name")
    if not pool:
        _output.fail(
            f"{where}: deployment {spec.name!r} has no work pool. Add `work_pool: {{name: POOL}}` "
            "(create one with `legato work-pool create POOL --type process`)."
        )
    check_work_pool(client, pool)
    if arguments.get("pull_steps") is None:
        arguments["pull_steps"] = [
            {"legato.deployments.steps.set_working_directory": {"directory": str(project.folder)}}
        ]
    arguments["parameter_openapi_schema"] = parameter_schema(flow.fn)
    flow_id = client.create_flow_from_name(flow.name)
    deployment_id = client.create_deployment(flow_id=flow_id, **arguments)
    full_name = f"{flow.name}/{spec.name}"
    _output.info(f"Deployed {full_name!r} ({deployment_id}) to work pool {pool!r}.")
    return full_name, pool
