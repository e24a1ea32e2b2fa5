"""``legato work-queue``: the queues of a work pool (priorities, limits, pause)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from legato.cli._output import OutputFormat, command_group, exits_on_error

if TYPE_CHECKING:
    from legato.client.base import Client

app = command_group("Work queues: a pool's lanes, with priorities and concurrency limits.")

_NAME_HELP = "The work queue's name."
_POOL_HELP = "The work pool the queue belongs to."


def _attr(name: str) -> Any:
    """A column reader for an object's attribute (ids as text)."""

    def read(item: Any) -> Any:
        value = getattr(item, name, None)
        return str(value) if name == "id" and value is not None else value

    return read


def print_queues(queues: list[Any]) -> None:
    """A table of work queues, by priority."""
    from legato.cli import _output

    columns = [
        ("Name", _attr("name")),
        ("Pool", _attr("work_pool_name")),
        ("Priority", _attr("priority")),
        ("Concurrency limit", _attr("concurrency_limit")),
        ("Paused", lambda queue: "yes" if _attr("is_paused")(queue) else ""),
        ("ID", _attr("id")),
    ]
    ordered = sorted(queues, key=lambda queue: (queue.priority or 0, queue.name))
    _output.print_table("Work queues", columns, ordered, empty="No work queues.")


def read_work_queue(client: Client, name: str, pool: str | None) -> Any:
    """The queue ``name`` of ``pool``, or exit with one line saying how to list queues."""
    from legato.cli import _output
    from legato.exceptions import ObjectNotFound

    try:
        return client.read_work_queue_by_name(name, work_pool_name=pool)  # type: ignore[attr-defined]
    except ObjectNotFound:
        where = f" in work pool {pool!r}" if pool else ""
        _output.fail(
            f"Work queue {name!r} not found{where}. List queues with "
            f"`legato work-queue ls{' --pool ' + pool if pool else ''}`."
        )


@app.command("create")
@exits_on_error
def create_work_queue(
    name: Annotated[str, typer.Argument(help=_NAME_HELP)],
    pool: Annotated[str, typer.Option("--pool", "-p", help=_POOL_HELP)],
    priority: Annotated[
        int | None,
        typer.Option("--priority", "-q", min=1, help="1 is served first; default: last."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-l", min=0, help="Most runs of the queue at once.")
    ] = None,
    description: Annotated[
        str | None, typer.Option("--description", "-d", help="What the queue is for.")
    ] = None,
) -> None:
    """Create a work queue in a work pool."""
    from legato.cli import _output
    from legato.cli._client import open_client
    from legato.cli.work_pool import read_work_pool
    from legato.exceptions import ObjectAlreadyExists

    with open_client() as client:
        read_work_pool(client, pool)
        try:
            queue = client.create_work_queue(  # type: ignore[attr-defined]
                name,
                work_pool_name=pool,
                description=description,
                concurrency_limit=limit,
                priority=priority,
            )
        except ObjectAlreadyExists:
            _output.fail(f"Work queue {name!r} exists already in work pool {pool!r}.")
    _output.info(
        f"Created work queue {name!r} in work pool {pool!r} (priority {queue.priority}, id {queue.id})."
    )


@app.command("ls")
@exits_on_error
def list_work_queues(
    pool: Annotated[
        str | None, typer.Option("--pool", "-p", help="Only this pool's queues.")
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="table or json.")
    ] = OutputFormat.table,
) -> None:
    """List work queues (of one pool, or of all)."""
    from legato.cli import _output
    from legato.cli._client import open_client

    with open_client() as client:
        if pool is not None:
            from legato.cli.work_pool import read_work_pool

            read_work_pool(client, pool)
        queues = list(client.read_work_queues(work_pool_name=pool))  # type: ignore[attr-defined]
    if output is OutputFormat.json:
        _output.print_json([queue.model_dump(mode="json") for queue in queues])
        return
    print_queues(queues)


@app.command("inspect")
@exits_on_error
def inspect_work_queue(
    name: Annotated[str, typer.Argument(help=_NAME_HELP)],
    pool: Annotated[str | None, typer.Option("--pool", "-p", help=_POOL_HELP)] = None,
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="table or json.")
    ] = OutputFormat.table,
) -> None:
    """Show a work queue's fields."""
    from legato.cli import _output
    from legato.cli._client import open_client

    with open_client() as client:
        queue = read_work_queue(client, name, pool)
    data = queue.model_dump(mode="json")
    if output is OutputFormat.json:
        _output.print_json(data)
        return
    _output.print_fields(f"Work queue {name!r}", list(data.items()))


def _update(name: str, pool: str | None, done: str, **fields: Any) -> None:
    from legato.cli import _output
    from legato.cli._client import open_client

    with open_client() as client:
        queue = read_work_queue(client, name, pool)
        client.update_work_queue(queue.id, **fields)  # type: ignore[attr-defined]
    _output.info(done)


@app.command("pause")
@exits_on_error
def pause_work_queue(
    name: Annotated[str, typer.Argument(help=_NAME_HELP)],
    pool: Annotated[str | None, typer.Option("--pool", "-p", help=_POOL_HELP)] = None,
) -> None:
    """Pause a work queue: workers take none of its runs."""
    _update(name, pool, f"Paused work queue {name!r}.", is_paused=True)


@app.command("resume")
@exits_on_error
def resume_work_queue(
    name: Annotated[str, typer.Argument(help=_NAME_HELP)],
    pool: Annotated[str | None, typer.Option("--pool", "-p", help=_POOL_HELP)] = None,
) -> None:
    """Resume a paused work queue."""
    _update(name, pool, f"Resumed work queue {name!r}.", is_paused=False)


@app.command("set-concurrency-limit")
@exits_on_error
def set_concurrency_limit(
    name: Annotated[str, typer.Argument(help=_NAME_HELP)],
    limit: Annotated[int, typer.Argument(min=0, help="Most runs of the queue at once.")],
    pool: Annotated[str | None, typer.Option("--pool", "-p", help=_POOL_HELP)] = None,
) -> None:
    """Limit how many runs of the queue run at once."""
    _update(
        name, pool, f"Set the concurrency limit of work queue {name!r} to {limit}.",
        concurrency_limit=limit,
    )  # fmt: skip


@app.command("clear-concurrency-limit")
@exits_on_error
def clear_concurrency_limit(
    name: Annotated[str, typer.Argument(help=_NAME_HELP)],
    pool: Annotated[str | None, typer.Option("--pool", "-p", help=_POOL_HELP)] = None,
) -> None:
    """Remove the queue's concurrency limit."""
    _update(
        name, pool, f"Cleared the concurrency limit of work queue {name!r}.",
        concurrency_limit=None,
    )  # fmt: skip


@app.command("delete")
@exits_on_error
def delete_work_queue(
    name: Annotated[str, typer.Argument(help=_NAME_HELP)],
    pool: Annotated[str | None, typer.Option("--pool", "-p", help=_POOL_HELP)] = None,
) -> None:
    """Delete a work queue."""
    from legato.cli import _output
    from legato.cli._client import open_client

    with open_client() as client:
        queue = read_work_queue(client, name, pool)
        client.delete_work_queue_by_id(queue.id)  # type: ignore[attr-defined]
    _output.info(f"Deleted work queue {name!r}.")
