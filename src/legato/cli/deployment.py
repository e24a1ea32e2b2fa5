"""``legato deployment``: list, inspect, run, pause, resume and delete deployments; their schedules.

A deployment is named ``flow-name/deployment-name`` (or given by its id).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from legato.cli._output import OutputFormat, command_group, exits_on_error
from legato.cli.deployment_schedule import app as schedule_app

if TYPE_CHECKING:
    from legato.client.base import Client

app = command_group("Deployments: flows registered to run on demand, on schedules, by workers.")
app.add_typer(schedule_app, name="schedule")

_NAME_HELP = "The deployment: 'flow-name/deployment-name' or its id."


def read_deployment(client: Client, name: str) -> Any:
    """The deployment ``name`` names, or exit with one line saying how to list them."""
    from legato.deployments.flow_runs import read_deployment_sync

    return read_deployment_sync(client, name)


def flow_names(client: Client, deployments: list[Any]) -> dict[str, str]:
    """Flow id (text) -> flow name, for the flows of ``deployments``."""
    names: dict[str, str] = {}
    for deployment in deployments:
        key = str(deployment.flow_id)
        if key not in names:
            known = getattr(deployment, "flow_name", None)
            names[key] = known or client.read_flow(deployment.flow_id).name  # type: ignore[attr-defined]
    return names


def describe_schedule(schedule: Any) -> str:
    """One line for a schedule: 'cron 0 6 * * * (Europe/Paris)', 'every 1h 0m 0s', 'rrule ...'."""
    data = schedule.model_dump(mode="json") if hasattr(schedule, "model_dump") else dict(schedule)
    zone = f" ({data['timezone']})" if data.get("timezone") else ""
    if data.get("cron") is not None:
        return f"cron {data['cron']}{zone}"
    if data.get("interval") is not None:
        return f"every {_seconds_text(data['interval'])}{zone}"
    if data.get("rrule") is not None:
        return f"rrule {data['rrule']}{zone}"
    return str(schedule)


def _seconds_text(value: Any) -> str:
    seconds = float(value)
    if seconds < 60:
        return f"{seconds:g}s"
    minutes, rest = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m {rest}s" if hours else f"{minutes}m {rest}s"


def _as_json(value: Any) -> Any:
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


@app.command("ls")
@exits_on_error
def list_deployments(
    flow_name: Annotated[
        list[str] | None, typer.Option("--flow-name", "-f", help="Only deployments of this flow.")
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="table or json.")
    ] = OutputFormat.table,
) -> None:
    """List deployments, by flow and name."""
    from legato.cli import _output
    from legato.cli._client import open_client

    with open_client() as client:
        deployments = list(client.read_deployments())  # type: ignore[attr-defined]
        names = flow_names(client, deployments)
    if flow_name:
        deployments = [d for d in deployments if names[str(d.flow_id)] in flow_name]
    deployments.sort(key=lambda d: (names[str(d.flow_id)], d.name))
    if output is OutputFormat.json:
        _output.print_json(
            [{**_as_json(d), "flow_name": names[str(d.flow_id)]} for d in deployments]
        )
        return
    rows = [
        {
            "name": f"{names[str(d.flow_id)]}/{d.name}",
            "id": str(d.id),
            "work_pool": d.work_pool_name or "",
            "schedules": ", ".join(describe_schedule(s.schedule) for s in d.schedules or []),
            "paused": "yes" if d.paused else "",
        }
        for d in deployments
    ]
    columns = [
        ("Name", _output.key("name")),
        ("ID", _output.key("id")),
        ("Work pool", _output.key("work_pool")),
        ("Schedules", _output.key("schedules")),
        ("Paused", _output.key("paused")),
    ]
    _output.print_table(
        "Deployments",
        columns,
        rows,
        empty="No deployments. Create one with flow.serve(), flow.deploy() or `legato deploy`.",
    )


@app.command("inspect")
@exits_on_error
def inspect_deployment(
    name: Annotated[str, typer.Argument(help=_NAME_HELP)],
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="table or json.")
    ] = OutputFormat.table,
) -> None:
    """Show a deployment: its fields and schedules."""
    import json

    from legato.cli import _output
    from legato.cli._client import open_client

    with open_client() as client:
        deployment = read_deployment(client, name)
        flow_name = flow_names(client, [deployment])[str(deployment.flow_id)]
    data = {**_as_json(deployment), "flow_name": flow_name}
    if output is OutputFormat.json:
        _output.print_json(data)
        return
    fields = [
        (key, json.dumps(value, indent=2) if isinstance(value, dict | list) else value)
        for key, value in data.items()
        if key != "schedules"
    ]
    _output.print_fields(f"Deployment '{flow_name}/{deployment.name}'", fields)
    from legato.cli.deployment_schedule import print_schedules

    print_schedules(deployment.schedules or [])


@app.command("run")
@exits_on_error
def run_deployment_command(
    name: Annotated[str, typer.Argument(help=_NAME_HELP)],
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="A parameter as KEY=VALUE (JSON values decoded)."),
    ] = None,
    params: Annotated[
        str | None, typer.Option("--params", help="Parameters as one JSON object.")
    ] = None,
    job_variable: Annotated[
        list[str] | None,
        typer.Option("--job-variable", "-jv", help="A job variable as KEY=VALUE for this run."),
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="A tag for the run (repeatable).")
    ] = None,
    start_in: Annotated[
        str | None, typer.Option("--start-in", help="Start after this long: '10 minutes', '2h'.")
    ] = None,
    start_at: Annotated[
        str | None,
        typer.Option("--start-at", help="Start at this time: '2030-01-31 18:00' (local time)."),
    ] = None,
    flow_run_name: Annotated[
        str | None, typer.Option("--flow-run-name", help="The run's name.")
    ] = None,
    idempotency_key: Annotated[
        str | None,
        typer.Option("--idempotency-key", help="The same key twice gives the same run."),
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", "-w", help="Print state changes until the run ends.")
    ] = False,
    watch_interval: Annotated[
        float, typer.Option("--watch-interval", min=0.05, help="Seconds between two reads.")
    ] = 1.0,
    watch_timeout: Annotated[
        float | None,
        typer.Option("--watch-timeout", min=0.0, help="Stop watching after this many seconds."),
    ] = None,
) -> None:
    """Create a flow run of a deployment (a worker or `serve` process runs it)."""
    from legato.cli import _output, _parsing
    from legato.cli._client import open_client

    parameters = {
        **_parsing.parse_json_object(params, "--params"),
        **_parsing.parse_key_values(param, "--param"),
    }
    job_variables = _parsing.parse_key_values(job_variable, "--job-variable")
    scheduled_time = _start_time(start_in, start_at)
    with open_client() as client:
        deployment = read_deployment(client, name)
        run = client.create_flow_run_from_deployment(  # type: ignore[attr-defined]
            deployment.id,
            parameters=parameters or None,
            state=_scheduled_state(scheduled_time),
            name=flow_run_name,
            tags=tag or None,
            idempotency_key=idempotency_key,
            job_variables=job_variables or None,
        )
        when = run.expected_start_time or scheduled_time
        _output.info(
            f"Created flow run {run.name!r} ({run.id}) of deployment {name!r}, scheduled for "
            f"{_output.format_time(when)} UTC."
        )
        if not watch:
            _output.info(f"Follow it with `legato flow-run logs {run.id} --follow`.")
            return
        final = _watch(client, run, watch_interval, watch_timeout)
    if final is None or final != "COMPLETED":
        raise typer.Exit(1)


def _start_time(start_in: str | None, start_at: str | None) -> Any:
    import datetime as dt

    from legato.cli import _output, _parsing

    if start_in is not None and start_at is not None:
        _output.fail("Give --start-in or --start-at, not both.")
    if start_in is not None:
        return dt.datetime.now(dt.UTC) + _parsing.parse_start_in(start_in)
    if start_at is not None:
        return _parsing.parse_start_at(start_at)
    return None


def _scheduled_state(scheduled_time: Any) -> Any:
    if scheduled_time is None:
        return None
    from legato.states import Scheduled

    return Scheduled(scheduled_time=scheduled_time)


def _watch(client: Any, run: Any, interval: float, timeout: float | None) -> str | None:
    """Print each state the run goes through until it is final; its final state type."""
    from legato.cli import _output

    deadline = None if timeout is None else time.monotonic() + timeout
    seen = None
    while True:
        state = run.state
        label = (state.name, state.type.value) if state is not None else None
        if label != seen and state is not None:
            seen = label
            message = f": {state.message}" if state.message else ""
            _output.info(
                f"{_output.format_time(state.timestamp)} | {run.name} | {state.name}{message}",
                style=_output.STATE_STYLES.get(state.type.value),
            )
        if state is not None and state.is_final():
            return str(state.type.value)
        if deadline is not None and time.monotonic() >= deadline:
            _output.warn(
                f"Stopped watching after {timeout:g}s; the run is {label[0] if label else 'unknown'}."
            )
            return None
        time.sleep(
            interval if deadline is None else max(0.0, min(interval, deadline - time.monotonic()))
        )
        run = client.read_flow_run(run.id)


@app.command("delete")
@exits_on_error
def delete_deployment(name: Annotated[str, typer.Argument(help=_NAME_HELP)]) -> None:
    """Delete a deployment and its schedules (its past runs stay)."""
    from legato.cli import _output
    from legato.cli._client import open_client

    with open_client() as client:
        deployment = read_deployment(client, name)
        client.delete_deployment(deployment.id)  # type: ignore[attr-defined]
    _output.info(f"Deleted deployment {name!r}.")


@app.command("pause")
@exits_on_error
def pause_deployment(name: Annotated[str, typer.Argument(help=_NAME_HELP)]) -> None:
    """Pause a deployment: its schedules create no runs until it is resumed."""
    from legato.cli import _output
    from legato.cli._client import open_client

    with open_client() as client:
        deployment = read_deployment(client, name)
        client.pause_deployment(deployment.id)  # type: ignore[attr-defined]
    _output.info(f"Paused deployment {name!r}. Resume it with `legato deployment resume`.")


@app.command("resume")
@exits_on_error
def resume_deployment(name: Annotated[str, typer.Argument(help=_NAME_HELP)]) -> None:
    """Resume a paused deployment: its schedules create runs again."""
    from legato.cli import _output
    from legato.cli._client import open_client

    with open_client() as client:
        deployment = read_deployment(client, name)
        client.resume_deployment(deployment.id)  # type: ignore[attr-defined]
    _output.info(f"Resumed deployment {name!r}.")
