"""``legato flow-run``: list, inspect, read the logs of, cancel, resume and delete flow runs."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer

from legato.cli._output import OutputFormat, command_group, exits_on_error

if TYPE_CHECKING:
    from legato.client.base import Client, Row

app = command_group("Flow runs recorded in the store.")

_PAGE = 1000


def _not_found(flow_run_id: str) -> str:
    return f"Flow run {flow_run_id!r} not found. List runs with `legato flow-run ls`."


def _read_flow_run(client: Client, flow_run_id: str) -> Row:
    from legato.cli._output import fail
    from legato.exceptions import ObjectNotFound

    try:
        return client.read_flow_run(flow_run_id)
    except ObjectNotFound:
        fail(_not_found(flow_run_id))


@app.command("ls")
@exits_on_error
def list_flow_runs(
    flow_name: Annotated[
        str | None, typer.Option("--flow-name", "-f", help="Only runs of flows named like this.")
    ] = None,
    state: Annotated[
        list[str] | None,
        typer.Option("--state", "-s", help="Only runs in this state type (repeatable)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-l", min=1, help="Most runs to show.")] = 15,
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="table or json.")
    ] = OutputFormat.table,
) -> None:
    """List flow runs, newest first."""
    from legato.cli import _output
    from legato.cli._client import open_client

    state_types = _output.check_state_types(state)
    with open_client() as client:
        rows = client.read_flow_runs(flow_name=flow_name, state_types=state_types, limit=limit)
    if output is OutputFormat.json:
        _output.print_json(rows)
        return
    columns = [
        ("ID", _output.key("id")),
        ("Flow", _output.key("flow_name")),
        ("Name", _output.key("name")),
        ("State", _output.state_text),
        ("Start (UTC)", _output.key("start_time")),
        ("Duration", lambda row: _output.format_duration(row.get("total_run_time"))),
    ]
    _output.print_table("Flow runs", columns, rows, empty="No flow runs match.")


@app.command("inspect")
@exits_on_error
def inspect_flow_run(
    flow_run_id: Annotated[str, typer.Argument(help="The flow run's id.")],
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="table or json.")
    ] = OutputFormat.table,
) -> None:
    """Show one flow run: its fields, its state history and how many task runs it has."""
    from legato.cli import _output
    from legato.cli._client import open_client

    with open_client() as client:
        run = _read_flow_run(client, flow_run_id)
        states = client.read_states(flow_run_id=flow_run_id)
        task_run_count = _count_task_runs(client, flow_run_id)
    if output is OutputFormat.json:
        _output.print_json({**run, "state_history": states, "task_run_count": task_run_count})
        return
    fields: list[tuple[str, Any]] = [
        (name, _output.state_text(run) if name == "state_name" else value)
        for name, value in run.items()
    ]
    fields.append(("task runs", task_run_count))
    _output.print_fields(f"Flow run {run.get('name')!r}", fields)
    columns = [
        ("Time (UTC)", _output.key("timestamp")),
        ("State", _output.state_text),
        ("Message", _output.key("message")),
    ]
    _output.print_table("State history", columns, states, empty="No states recorded.")


def _count_task_runs(client: Client, flow_run_id: str) -> int:
    count, offset = 0, 0
    while True:
        page = client.read_task_runs(flow_run_id=flow_run_id, limit=_PAGE, offset=offset)
        count += len(page)
        if len(page) < _PAGE:
            return count
        offset += _PAGE


@app.command("logs")
@exits_on_error
def flow_run_logs(
    flow_run_id: Annotated[str, typer.Argument(help="The flow run's id.")],
    head: Annotated[
        int | None, typer.Option("--head", "-h", min=1, help="Only the first N lines.")
    ] = None,
    tail: Annotated[
        int | None, typer.Option("--tail", "-t", min=1, help="Only the last N lines.")
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines until the run ends.")
    ] = False,
    poll_interval: Annotated[float, typer.Option(hidden=True, min=0.0)] = 1.0,
) -> None:
    """Print a flow run's logs, oldest first."""
    from legato.cli import _output
    from legato.cli._client import open_client

    if head is not None and (tail is not None or follow):
        _output.fail("--head cannot be combined with --tail or --follow; pick one.")
    with open_client() as client:
        run = _read_flow_run(client, flow_run_id)
        cursor = _LogCursor(client, flow_run_id)
        lines: Iterable[Row] = (
            client.read_logs(flow_run_id=flow_run_id, limit=head)
            if head is not None
            else deque(cursor.read_new(), maxlen=tail)
        )
        for row in lines:
            _print_log(row)
        while follow and run.get("state_type") not in _output.FINAL_STATE_TYPES:
            time.sleep(poll_interval)
            run = _read_flow_run(client, flow_run_id)
            for row in cursor.read_new():
                _print_log(row)


class _LogCursor:
    """Reads a run's log rows after the last one it returned, page by page.

    ``after`` is exclusive on the timestamp, so the cursor asks from just
    before the last timestamp and drops the ids it has already returned; a
    page holding only such rows is asked again with a larger limit.
    """

    def __init__(self, client: Client, flow_run_id: str) -> None:
        self.client = client
        self.flow_run_id = flow_run_id
        self.after: float | None = None
        self.seen: dict[str, float] = {}  # id -> timestamp of rows at or after ``after``

    def read_new(self) -> Iterator[Row]:
        limit = _PAGE
        while True:
            rows = self.client.read_logs(
                flow_run_id=self.flow_run_id, after=self.after, limit=limit
            )
            fresh = [row for row in rows if str(row["id"]) not in self.seen]
            if fresh:
                self._advance(fresh)
            yield from fresh
            if len(rows) < limit:
                return
            # A full page of rows already seen means many share one timestamp: ask for more.
            limit = _PAGE if fresh else limit * 2

    def _advance(self, rows: list[Row]) -> None:
        self.after = rows[-1]["timestamp"].timestamp() - 1e-6
        self.seen.update((str(row["id"]), row["timestamp"].timestamp()) for row in rows)
        self.seen = {key: stamp for key, stamp in self.seen.items() if stamp >= self.after}


_LEVEL_STYLES = {
    "DEBUG": "bright_black",
    "WARNING": "yellow",
    "ERROR": "red",
    "CRITICAL": "bold red",
}


def _print_log(row: Row) -> None:
    import logging

    from rich.text import Text

    from legato.cli._output import console

    level = logging.getLevelName(row["level"])
    line = Text(f"{row['timestamp']:%H:%M:%S.%f}"[:-3] + " | ")
    line.append(f"{level:<8}", style=_LEVEL_STYLES.get(level, ""))
    line.append(f" | {row['name']} - {row['message']}")
    console().print(line)


@app.command("delete")
@exits_on_error
def delete_flow_run(flow_run_id: Annotated[str, typer.Argument(help="The flow run's id.")]) -> None:
    """Delete a flow run with its task runs, states and logs."""
    from legato.cli import _output
    from legato.cli._client import open_client
    from legato.exceptions import ObjectNotFound

    with open_client() as client:
        try:
            client.delete_flow_run(flow_run_id)
        except ObjectNotFound:
            _output.fail(_not_found(flow_run_id))
    _output.info(f"Deleted flow run {flow_run_id!r}.")


@app.command("cancel")
@exits_on_error
def cancel_flow_run(flow_run_id: Annotated[str, typer.Argument(help="The flow run's id.")]) -> None:
    """Cancel a flow run: Cancelled at once if nothing runs it yet, else Cancelling.

    A Cancelling run is stopped by the worker or serve process that runs it
    (SIGTERM to its process); the run then ends Cancelled.
    """
    from legato.cli import _output
    from legato.cli._client import open_client
    from legato.exceptions import ObjectNotFound

    with open_client() as client:
        try:
            result = _full(client).cancel_flow_run(flow_run_id)
        except ObjectNotFound:
            _output.fail(_not_found(flow_run_id))
    if result.status.value != "ACCEPT":
        _output.fail(f"Flow run {flow_run_id!r} was not cancelled: {result.details.reason}")
    state = result.state
    if state is not None and state.type.value == "CANCELLED":
        _output.info(f"Cancelled flow run {flow_run_id!r}.")
    else:
        _output.info(
            f"Flow run {flow_run_id!r} is Cancelling: the worker or serve process running it "
            "stops it, and it ends Cancelled."
        )


@app.command("resume")
@exits_on_error
def resume_flow_run(
    flow_run_id: Annotated[str, typer.Argument(help="The flow run's id.")],
    run_input: Annotated[
        str | None,
        typer.Option(
            "--input", "-i", help="The input the run waits for, as a JSON object: '{\"ok\": true}'."
        ),
    ] = None,
) -> None:
    """Resume a paused or suspended flow run, with the input it waits for."""
    from legato.cli import _output
    from legato.cli._client import open_client
    from legato.exceptions import ObjectNotFound

    value = _parse_input(run_input)
    with open_client() as client:
        try:
            result = _full(client).resume_flow_run(flow_run_id, value)
        except ObjectNotFound:
            _output.fail(_not_found(flow_run_id))
    if result.status.value != "ACCEPT":
        _output.fail(f"Flow run {flow_run_id!r} was not resumed: {result.details.reason}")
    state = result.state
    if state is not None and state.type.value == "SCHEDULED":
        _output.info(f"Resumed flow run {flow_run_id!r}: it is scheduled to start again.")
    else:
        _output.info(f"Resumed flow run {flow_run_id!r}.")


def _parse_input(text: str | None) -> dict[str, Any] | None:
    import json

    from legato.cli._output import fail

    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"--input is not valid JSON ({exc}); give an object like '{{\"approved\": true}}'.")
    if not isinstance(value, dict):
        fail(f"--input must be a JSON object of the input's fields, not {type(value).__name__}.")
    return value


def _full(client: Client) -> Any:
    """The client with all its methods (the Client protocol names the read ones)."""
    return client
