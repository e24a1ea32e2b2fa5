"""``legato task-run``: the task runs recorded in the store."""

from __future__ import annotations

from typing import Annotated

import typer

from legato.cli._output import OutputFormat, command_group, exits_on_error

app = command_group("Task runs recorded in the store.")


@app.command("ls")
@exits_on_error
def list_task_runs(
    flow_run_id: Annotated[
        str | None, typer.Option("--flow-run-id", help="Only the task runs of this flow run.")
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
    """List task runs, newest first."""
    from legato.cli import _output
    from legato.cli._client import open_client

    state_types = _output.check_state_types(state)
    with open_client() as client:
        rows = client.read_task_runs(flow_run_id=flow_run_id, state_types=state_types, limit=limit)
    if output is OutputFormat.json:
        _output.print_json(rows)
        return
    columns = [
        ("ID", _output.key("id")),
        ("Name", _output.key("name")),
        # Filtering by one flow run makes its id the same on every row.
        *([] if flow_run_id else [("Flow run ID", _output.key("flow_run_id"))]),
        ("State", _output.state_text),
        ("Start (UTC)", _output.key("start_time")),
        ("Duration", lambda row: _output.format_duration(row.get("total_run_time"))),
    ]
    _output.print_table("Task runs", columns, rows, empty="No task runs match.")
