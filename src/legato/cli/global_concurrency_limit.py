"""``legato global-concurrency-limit``: create, list, inspect, update, enable, disable, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from legato.cli._output import OutputFormat, command_group, exits_on_error

if TYPE_CHECKING:
    from legato.client.schemas.concurrency import GlobalConcurrencyLimitResponse

app = command_group(
    "Global concurrency and rate limits, shared by every process recording to this store."
)

NameArgument = Annotated[str, typer.Argument(help="The limit's name.")]
OutputOption = Annotated[OutputFormat, typer.Option("--output", "-o", help="table or json.")]
DecayOption = Annotated[
    float | None,
    typer.Option(
        "--slot-decay-per-second",
        "-d",
        help="Slots freed each second: makes it a rate limit (0: a plain concurrency limit).",
    ),
]


def check_slots(limit: int | None, option: str = "--limit") -> None:
    """Exit naming the fix when ``limit`` is not a usable number of slots."""
    from legato.cli._output import fail

    if limit is not None and limit < 1:
        fail(
            f"{option} must be at least 1, got {limit}: a limit of 0 would make every caller "
            "wait forever. Disable or delete the limit instead."
        )


def check_decay(decay: float | None) -> None:
    """Exit naming the fix when ``decay`` is not a finite number >= 0."""
    import math

    from legato.cli._output import fail

    if decay is not None and (not math.isfinite(decay) or decay < 0):
        fail(
            f"--slot-decay-per-second must be a number >= 0, got {decay}. Pass e.g. 2 for two "
            "operations a second, or 0 for a plain concurrency limit."
        )


@app.command("create")
@exits_on_error
def create_limit(
    name: NameArgument,
    limit: Annotated[int, typer.Option("--limit", "-l", help="Slots: an int >= 1.")],
    slot_decay_per_second: DecayOption = None,
    disable: Annotated[bool, typer.Option("--disable", help="Create it inactive.")] = False,
) -> None:
    """Create a global concurrency limit (a rate limit with --slot-decay-per-second)."""
    from legato.cli import _output
    from legato.client import get_client
    from legato.client.schemas.concurrency import GlobalConcurrencyLimitCreate

    check_slots(limit)
    check_decay(slot_decay_per_second)
    body = GlobalConcurrencyLimitCreate(
        name=name,
        limit=limit,
        active=not disable,
        slot_decay_per_second=slot_decay_per_second or 0.0,
    )
    with get_client(sync_client=True) as client:
        limit_id = client.create_global_concurrency_limit(body)
    kind = "rate limit" if body.slot_decay_per_second else "concurrency limit"
    _output.info(f"Created global {kind} {name!r} ({limit} slots) with id {limit_id}.")


@app.command("ls")
@exits_on_error
def list_limits(
    limit: Annotated[int, typer.Option("--limit", "-l", min=1, help="Most rows to show.")] = 100,
    output: OutputOption = OutputFormat.table,
) -> None:
    """List the limits (tag limits included, as tag:<tag>) with their slots in use."""
    from legato.cli import _output
    from legato.client import get_client

    with get_client(sync_client=True) as client:
        rows = client.read_global_concurrency_limits(limit=limit)
    if output is OutputFormat.json:
        _output.print_json([row.model_dump(mode="json") for row in rows])
        return
    columns: list[_output.Column] = [
        ("Name", _output.key("name")),
        ("Limit", _output.key("limit")),
        ("In use", _output.key("active_slots")),
        ("Active", lambda row: "yes" if row["active"] else "no"),
        ("Decay/s", lambda row: row["slot_decay_per_second"] or ""),
        ("Updated (UTC)", _output.key("updated")),
    ]
    shown = [row.model_dump() for row in rows]
    _output.print_table("Global concurrency limits", columns, shown, empty="No limits yet.")


@app.command("inspect")
@exits_on_error
def inspect_limit(name: NameArgument, output: OutputOption = OutputFormat.table) -> None:
    """Show a limit, its slots in use and who holds them."""
    from legato.cli import _output
    from legato.cli._concurrency_output import lease_rows, print_leases
    from legato.client import get_client

    with get_client(sync_client=True) as client:
        row = client.read_global_concurrency_limit_by_name(name)
        leases = client.read_concurrency_leases(name)
    if output is OutputFormat.json:
        _output.print_json({**row.model_dump(mode="json"), "leases": lease_rows(leases)})
        return
    _output.print_fields(f"Global concurrency limit {name!r}", _fields(row))
    print_leases(leases, empty="No lease holds a slot of this limit.")


def _fields(row: GlobalConcurrencyLimitResponse) -> list[tuple[str, Any]]:
    fields: list[tuple[str, Any]] = [
        ("Name", row.name),
        ("ID", str(row.id)),
        ("Limit", row.limit),
        ("In use", row.active_slots),
        ("Active", "yes" if row.active else "no (never makes anyone wait)"),
        ("Slot decay per second", row.slot_decay_per_second),
        ("Denied slots", row.denied_slots),
        ("Created (UTC)", row.created),
        ("Updated (UTC)", row.updated),
    ]
    if row.slot_decay_per_second:
        fields.insert(5, ("Undrained slots", round(row.decayed_slots, 3)))
    return fields


def _update(name: str, **fields: Any) -> None:
    from legato.client import get_client
    from legato.client.schemas.concurrency import GlobalConcurrencyLimitUpdate

    with get_client(sync_client=True) as client:
        client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(**fields))


@app.command("update")
@exits_on_error
def update_limit(
    name: NameArgument,
    limit: Annotated[int | None, typer.Option("--limit", "-l", help="New slots (>= 1).")] = None,
    slot_decay_per_second: DecayOption = None,
) -> None:
    """Change a limit's slots or slot decay."""
    from legato.cli import _output

    if limit is None and slot_decay_per_second is None:
        _output.fail("Nothing to update: pass --limit N and/or --slot-decay-per-second S.")
    check_slots(limit)
    check_decay(slot_decay_per_second)
    changes = {"limit": limit, "slot_decay_per_second": slot_decay_per_second}
    _update(name, **{field: value for field, value in changes.items() if value is not None})
    _output.info(f"Updated global concurrency limit {name!r}.")


@app.command("enable")
@exits_on_error
def enable_limit(name: NameArgument) -> None:
    """Make a limit active: callers wait for its slots again."""
    from legato.cli import _output

    _update(name, active=True)
    _output.info(f"Enabled global concurrency limit {name!r}.")


@app.command("disable")
@exits_on_error
def disable_limit(name: NameArgument) -> None:
    """Make a limit inactive: nobody waits for it (and it counts nothing) until enabled."""
    from legato.cli import _output

    _update(name, active=False)
    _output.info(f"Disabled global concurrency limit {name!r}.")


@app.command("delete")
@exits_on_error
def delete_limit(
    name: NameArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a limit; whoever holds its slots loses them."""
    from legato.cli import _output
    from legato.client import get_client

    if not yes:
        typer.confirm(f"Delete global concurrency limit {name!r}?", abort=True)
    with get_client(sync_client=True) as client:
        client.delete_global_concurrency_limit_by_name(name)
    _output.info(f"Deleted global concurrency limit {name!r}.")
