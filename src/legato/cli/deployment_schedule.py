"""``legato deployment schedule``: list, create, pause, resume, delete and clear a deployment's schedules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from legato.cli._output import command_group, exits_on_error

if TYPE_CHECKING:
    from legato.client.base import Client

app = command_group("The schedules of a deployment (cron, interval, rrule).")

_NAME_HELP = "The deployment: 'flow-name/deployment-name' or its id."
_SCHEDULE_HELP = "The schedule's id (or slug), as `legato deployment schedule ls` shows it."


def print_schedules(schedules: list[Any]) -> None:
    """A table of deployment schedules."""
    from legato.cli import _output
    from legato.cli.deployment import describe_schedule

    rows = [
        {
            "id": str(item.id),
            "schedule": describe_schedule(item.schedule),
            "active": "yes" if item.active else "no (paused)",
            "slug": getattr(item, "slug", None) or "",
            "parameters": _parameters_text(getattr(item, "parameters", None)),
        }
        for item in schedules
    ]
    columns = [
        ("ID", _output.key("id")),
        ("Schedule", _output.key("schedule")),
        ("Active", _output.key("active")),
        ("Slug", _output.key("slug")),
        ("Parameters", _output.key("parameters")),
    ]
    _output.print_table("Schedules", columns, rows, empty="No schedules.")


def _parameters_text(parameters: Any) -> str:
    import json

    return json.dumps(parameters) if parameters else ""


def _find_schedule(client: Client, deployment: Any, schedule_id: str) -> Any:
    from legato.cli import _output

    schedules = client.read_deployment_schedules(deployment.id)  # type: ignore[attr-defined]
    for item in schedules:
        if schedule_id in (str(item.id), getattr(item, "slug", None)):
            return item
    listed = ", ".join(str(item.id) for item in schedules) or "none"
    _output.fail(
        f"Deployment {deployment.name!r} has no schedule {schedule_id!r} (its schedules: {listed}). "
        "List them with `legato deployment schedule ls NAME`."
    )


@app.command("ls")
@exits_on_error
def list_schedules(
    name: Annotated[str, typer.Argument(help=_NAME_HELP)],
    output: Annotated[str, typer.Option("--output", "-o", help="table or json.")] = "table",
) -> None:
    """List a deployment's schedules."""
    from legato.cli import _output
    from legato.cli._client import open_client
    from legato.cli.deployment import read_deployment

    with open_client() as client:
        deployment = read_deployment(client, name)
        schedules = list(client.read_deployment_schedules(deployment.id))  # type: ignore[attr-defined]
    if output == "json":
        _output.print_json([item.model_dump(mode="json") for item in schedules])
        return
    print_schedules(schedules)


@app.command("create")
@exits_on_error
def create_schedule(
    name: Annotated[str, typer.Argument(help=_NAME_HELP)],
    cron: Annotated[str | None, typer.Option("--cron", help="A cron expression.")] = None,
    interval: Annotated[
        float | None, typer.Option("--interval", min=0.001, help="An interval in seconds.")
    ] = None,
    rrule: Annotated[str | None, typer.Option("--rrule", help="An RFC 5545 rrule.")] = None,
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="An IANA time zone, e.g. Europe/Paris.")
    ] = None,
    anchor_date: Annotated[
        str | None,
        typer.Option("--anchor-date", help="Interval schedules: the first slot (ISO-8601)."),
    ] = None,
    day_or: Annotated[
        bool,
        typer.Option("--day-or/--day-and", help="Cron: day-of-month OR (default) AND day-of-week."),
    ] = True,
    active: Annotated[
        bool, typer.Option("--active/--inactive", help="Whether the schedule creates runs.")
    ] = True,
    replace: Annotated[
        bool, typer.Option("--replace", help="Delete the deployment's other schedules first.")
    ] = False,
) -> None:
    """Add a schedule (exactly one of --cron, --interval, --rrule) to a deployment."""
    from legato.cli import _output
    from legato.cli._client import open_client
    from legato.cli.deployment import describe_schedule, read_deployment

    schedule = build_schedule(cron, interval, rrule, timezone, anchor_date, day_or, active)
    with open_client() as client:
        deployment = read_deployment(client, name)
        if replace:
            for item in client.read_deployment_schedules(deployment.id):  # type: ignore[attr-defined]
                client.delete_deployment_schedule(deployment.id, item.id)  # type: ignore[attr-defined]
        created = client.create_deployment_schedules(deployment.id, [schedule])  # type: ignore[attr-defined]
    ids = ", ".join(str(item.id) for item in created or [])
    _output.info(f"Created schedule {ids} ({describe_schedule(schedule)}) on {name!r}.")


def build_schedule(
    cron: str | None,
    interval: float | None,
    rrule: str | None,
    timezone: str | None,
    anchor_date: str | None,
    day_or: bool,
    active: bool,
) -> Any:
    """The schedule the options describe, or exit naming what is wrong."""
    from legato.cli import _output

    given = [
        flag
        for flag, value in (("--cron", cron), ("--interval", interval), ("--rrule", rrule))
        if value is not None
    ]
    if len(given) != 1:
        _output.fail(
            "Give exactly one of --cron, --interval or --rrule"
            + (f" (got {' and '.join(given)})." if given else ".")
        )
    if anchor_date is not None and interval is None:
        _output.fail("--anchor-date goes with --interval only.")
    from legato import schedules

    try:
        if cron is not None:
            return schedules.Cron(cron, timezone=timezone, day_or=day_or, active=active)
        if interval is not None:
            anchor = _anchor(anchor_date)
            return schedules.Interval(
                interval, anchor_date=anchor, timezone=timezone, active=active
            )
        return schedules.RRule(str(rrule), timezone=timezone, active=active)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        _output.fail(_first_error(exc))


def _anchor(text: str | None) -> Any:
    if text is None:
        return None
    from legato.cli._parsing import parse_start_at

    return parse_start_at(text)


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        messages = [str(error.get("msg", "")) for error in errors()]
        return "; ".join(message.removeprefix("Value error, ") for message in messages)
    return str(exc)


def _set_active(name: str, schedule_id: str, active: bool) -> None:
    from legato.cli import _output
    from legato.cli._client import open_client
    from legato.cli.deployment import read_deployment

    with open_client() as client:
        deployment = read_deployment(client, name)
        item = _find_schedule(client, deployment, schedule_id)
        client.update_deployment_schedule(deployment.id, item.id, active=active)  # type: ignore[attr-defined]
    _output.info(f"{'Resumed' if active else 'Paused'} schedule {item.id} of {name!r}.")


@app.command("pause")
@exits_on_error
def pause_schedule(
    name: Annotated[str, typer.Argument(help=_NAME_HELP)],
    schedule_id: Annotated[str, typer.Argument(help=_SCHEDULE_HELP)],
) -> None:
    """Pause one schedule (its future scheduled runs are removed)."""
    _set_active(name, schedule_id, False)


@app.command("resume")
@exits_on_error
def resume_schedule(
    name: Annotated[str, typer.Argument(help=_NAME_HELP)],
    schedule_id: Annotated[str, typer.Argument(help=_SCHEDULE_HELP)],
) -> None:
    """Resume a paused schedule."""
    _set_active(name, schedule_id, True)


@app.command("delete")
@exits_on_error
def delete_schedule(
    name: Annotated[str, typer.Argument(help=_NAME_HELP)],
    schedule_id: Annotated[str, typer.Argument(help=_SCHEDULE_HELP)],
) -> None:
    """Delete one schedule of a deployment."""
    from legato.cli import _output
    from legato.cli._client import open_client
    from legato.cli.deployment import read_deployment

    with open_client() as client:
        deployment = read_deployment(client, name)
        item = _find_schedule(client, deployment, schedule_id)
        client.delete_deployment_schedule(deployment.id, item.id)  # type: ignore[attr-defined]
    _output.info(f"Deleted schedule {item.id} of {name!r}.")


@app.command("clear")
@exits_on_error
def clear_schedules(name: Annotated[str, typer.Argument(help=_NAME_HELP)]) -> None:
    """Delete every schedule of a deployment."""
    from legato.cli import _output
    from legato.cli._client import open_client
    from legato.cli.deployment import read_deployment

    with open_client() as client:
        deployment = read_deployment(client, name)
        schedules = list(client.read_deployment_schedules(deployment.id))  # type: ignore[attr-defined]
        for item in schedules:
            client.delete_deployment_schedule(deployment.id, item.id)  # type: ignore[attr-defined]
    _output.info(f"Deleted {len(schedules)} schedule(s) of {name!r}.")
