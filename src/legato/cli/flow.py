"""``legato flow``: the flows recorded in the store."""

from __future__ import annotations

from typing import Annotated

import typer

from legato.cli._output import OutputFormat, command_group, exits_on_error

app = command_group("Flows recorded in the store.")


@app.command("ls")
@exits_on_error
def list_flows(
    limit: Annotated[int, typer.Option("--limit", "-l", min=1, help="Most flows to show.")] = 15,
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="table or json.")
    ] = OutputFormat.table,
) -> None:
    """List flows, newest first."""
    from legato.cli import _output
    from legato.cli._client import open_client

    with open_client() as client:
        rows = client.read_flows(limit=limit)
    if output is OutputFormat.json:
        _output.print_json(rows)
        return
    columns = [
        ("ID", _output.key("id")),
        ("Name", _output.key("name")),
        ("Created (UTC)", _output.key("created")),
    ]
    _output.print_table("Flows", columns, rows, empty="No flows recorded yet.")
