"""``legato concurrency-limit``: limits on the task runs that carry a tag (create, ls, inspect...).

A tag's limit is the global concurrency limit named ``tag:<tag>``: it also
shows in ``legato global-concurrency-limit ls``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from legato.cli._output import OutputFormat, command_group, exits_on_error

app = command_group("Tag concurrency limits: at most N task runs carrying a tag run at once.")

TagArgument = Annotated[str, typer.Argument(help="The tag.")]
OutputOption = Annotated[OutputFormat, typer.Option("--output", "-o", help="table or json.")]


@app.command("create")
@exits_on_error
def create_limit(
    tag: TagArgument,
    concurrency_limit: Annotated[int, typer.Argument(help="Task runs at once: an int >= 1.")],
) -> None:
    """Limit the task runs carrying TAG to CONCURRENCY_LIMIT at once (changes an existing one)."""
    from legato.cli import _output
    from legato.cli.global_concurrency_limit import check_slots
    from legato.client import get_client

    check_slots(concurrency_limit, "CONCURRENCY_LIMIT")
    with get_client(sync_client=True) as client:
        limit_id = client.create_concurrency_limit(tag, concurrency_limit)
    _output.info(f"Concurrency limit for tag {tag!r} set to {concurrency_limit} (id {limit_id}).")


@app.command("ls")
@exits_on_error
def list_limits(
    limit: Annotated[int, typer.Option("--limit", "-l", min=1, help="Most rows to show.")] = 100,
    output: OutputOption = OutputFormat.table,
) -> None:
    """List the tag limits with the slots in use and the task runs holding them."""
    from legato.cli import _output
    from legato.client import get_client

    with get_client(sync_client=True) as client:
        rows = client.read_concurrency_limits(limit=limit)
    if output is OutputFormat.json:
        _output.print_json([row.model_dump(mode="json") for row in rows])
        return
    columns: list[_output.Column] = [
        ("Tag", _output.key("tag")),
        ("Limit", _output.key("concurrency_limit")),
        ("In use", _output.key("slots_in_use")),
        ("Task runs holding it", lambda row: "\n".join(str(i) for i in row["active_slots"])),
        ("ID", _output.key("id")),
    ]
    shown = [row.model_dump() for row in rows]
    _output.print_table("Tag concurrency limits", columns, shown, empty="No tag limits yet.")


@app.command("inspect")
@exits_on_error
def inspect_limit(tag: TagArgument, output: OutputOption = OutputFormat.table) -> None:
    """Show a tag's limit, its slots in use and who holds them."""
    from legato.cli import _output
    from legato.cli._concurrency_output import lease_rows, print_leases
    from legato.client import get_client

    with get_client(sync_client=True) as client:
        row = client.read_concurrency_limit_by_tag(tag)
        leases = client.read_concurrency_leases(f"tag:{tag}")
    if output is OutputFormat.json:
        _output.print_json({**row.model_dump(mode="json"), "leases": lease_rows(leases)})
        return
    _output.print_fields(
        f"Concurrency limit for tag {tag!r}",
        [
            ("Tag", row.tag),
            ("ID", str(row.id)),
            ("Limit", row.concurrency_limit),
            ("In use", row.slots_in_use),
            ("Created (UTC)", row.created),
            ("Updated (UTC)", row.updated),
        ],
    )
    print_leases(leases, empty="No task run holds a slot of this limit.")


@app.command("reset")
@exits_on_error
def reset_limit(tag: TagArgument) -> None:
    """Free every slot of a tag's limit (e.g. after a crash); their holders lose them."""
    from legato.cli import _output
    from legato.client import get_client

    with get_client(sync_client=True) as client:
        client.reset_concurrency_limit_by_tag(tag)
    _output.info(f"Reset the concurrency limit for tag {tag!r}: every slot is free.")


@app.command("delete")
@exits_on_error
def delete_limit(tag: TagArgument) -> None:
    """Delete a tag's limit: task runs carrying the tag no longer wait."""
    from legato.cli import _output
    from legato.client import get_client

    with get_client(sync_client=True) as client:
        client.delete_concurrency_limit_by_tag(tag)
    _output.info(f"Deleted the concurrency limit for tag {tag!r}.")
