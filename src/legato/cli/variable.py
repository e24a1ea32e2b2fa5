"""``legato variable``: list, read, set and delete variables."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from legato.cli._output import OutputFormat, command_group, exits_on_error

app = command_group("Variables: named JSON values that flows read at run time.")


def _not_found(name: str) -> str:
    return f"Variable {name!r} not found. List variables with `legato variable ls`."


def parse_value(text: str) -> Any:
    """``text`` as JSON when it is valid JSON (NaN and Infinity excepted), else the string."""
    import json

    def refuse_constant(name: str) -> Any:
        raise ValueError(name)

    try:
        return json.loads(text, parse_constant=refuse_constant)
    except ValueError:
        return text


def _show(value: Any) -> str:
    """A value as the user would type it: strings bare, everything else as JSON."""
    import json

    return value if isinstance(value, str) else json.dumps(value)


@app.command("ls")
@exits_on_error
def list_variables(
    name_like: Annotated[
        str | None, typer.Option("--name", "-n", help="Only names containing this text.")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="Only variables with this tag.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-l", min=1, help="Most rows to show.")] = 100,
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="table or json.")
    ] = OutputFormat.table,
) -> None:
    """List variables by name."""
    from legato.cli import _output
    from legato.client import get_client

    with get_client(sync_client=True) as client:
        rows = client.read_variables(name_like=name_like, tags=tag or None, limit=limit)
    if output is OutputFormat.json:
        _output.print_json(rows)
        return
    columns = [
        ("Name", _output.key("name")),
        ("Value", lambda row: _preview(_show(row.get("value")))),
        ("Tags", lambda row: ", ".join(row.get("tags") or [])),
        ("Updated (UTC)", _output.key("updated")),
    ]
    _output.print_table("Variables", columns, rows, empty="No variables match.")


def _preview(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@app.command("get")
@exits_on_error
def get_variable(name: Annotated[str, typer.Argument(help="The variable's name.")]) -> None:
    """Print a variable's value (strings as they are, other values as JSON)."""
    from legato.cli import _output
    from legato.client import get_client

    with get_client(sync_client=True) as client:
        row = client.read_variable_by_name(name)
    if row is None:
        _output.fail(_not_found(name))
    _output.info(_show(row["value"]))


@app.command("set")
@exits_on_error
def set_variable(
    name: Annotated[str, typer.Argument(help="The variable's name.")],
    value: Annotated[str, typer.Argument(help="The value: JSON if it parses as JSON, else text.")],
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace the variable if it exists.")
    ] = False,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="A tag (repeatable).")
    ] = None,
) -> None:
    """Create a variable, or replace one with --overwrite."""
    from legato.cli import _output
    from legato.client import get_client
    from legato.exceptions import ObjectAlreadyExists

    with get_client(sync_client=True) as client:
        try:
            client.set_variable(name, parse_value(value), tags=tag, overwrite=overwrite)
        except ObjectAlreadyExists:
            _output.fail(
                f"Variable {name!r} exists already. Pass --overwrite to replace it, "
                "or choose another name."
            )
    _output.info(f"Set variable {name!r}.")


@app.command("unset")
@exits_on_error
def unset_variable(name: Annotated[str, typer.Argument(help="The variable's name.")]) -> None:
    """Delete a variable."""
    from legato.cli import _output
    from legato.client import get_client
    from legato.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.delete_variable_by_name(name)
        except ObjectNotFound:
            _output.fail(_not_found(name))
    _output.info(f"Unset variable {name!r}.")


@app.command("inspect")
@exits_on_error
def inspect_variable(
    name: Annotated[str, typer.Argument(help="The variable's name.")],
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="table or json.")
    ] = OutputFormat.table,
) -> None:
    """Show a variable: its value, tags, id and times."""
    from legato.cli import _output
    from legato.client import get_client

    with get_client(sync_client=True) as client:
        row = client.read_variable_by_name(name)
    if row is None:
        _output.fail(_not_found(name))
    if output is OutputFormat.json:
        _output.print_json(row)
        return
    _output.print_fields(
        f"Variable {name!r}", [(field, _field_text(field, value)) for field, value in row.items()]
    )


def _field_text(field: str, value: Any) -> Any:
    import json

    if field == "value":
        return json.dumps(value, indent=2)
    if field == "tags":
        return ", ".join(value)
    return value
