"""``legato work-pool``: create, list, inspect, pause, resume, limit and delete work pools."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from legato.cli._output import OutputFormat, command_group, exits_on_error

if TYPE_CHECKING:
    from legato.client.base import Client

app = command_group("Work pools: where deployments' runs wait for workers.")

_NAME_HELP = "The work pool's name."


def _attr(name: str) -> Any:
    """A column reader for an object's attribute (ids as text)."""

    def read(item: Any) -> Any:
        value = getattr(item, name, None)
        return str(value) if name == "id" and value is not None else value

    return read


def read_work_pool(client: Client, name: str) -> Any:
    """The pool named ``name``, or exit with one line saying how to create or list pools."""
    from legato.cli import _output
    from legato.exceptions import ObjectNotFound

    try:
        return client.read_work_pool(name)  # type: ignore[attr-defined]
    except ObjectNotFound:
        _output.fail(
            f"Work pool {name!r} not found. Create it with `legato work-pool create {name} "
            "--type process`, or list pools with `legato work-pool ls`."
        )


def default_base_job_template(worker_type: str) -> dict[str, Any]:
    """The default base job template of a worker type (ConfigurationError naming the known types)."""
    from legato.workers import get_worker_class

    return dict(get_worker_class(worker_type).default_base_job_template())


def _read_template_file(path: Path) -> dict[str, Any]:
    import json

    from legato.cli import _output

    try:
        template = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        _output.fail(f"Cannot read --base-job-template {str(path)!r}: {exc.strerror}.")
    except ValueError as exc:
        _output.fail(f"--base-job-template {str(path)!r} is not valid JSON: {exc}.")
    if not isinstance(template, dict) or not {"job_configuration", "variables"} <= set(template):
        _output.fail(
            f"--base-job-template {str(path)!r} must be a JSON object with 'job_configuration' "
            "and 'variables' (start from `legato work-pool get-default-base-job-template`)."
        )
    return template


@app.command("create")
@exits_on_error
def create_work_pool(
    name: Annotated[str, typer.Argument(help=_NAME_HELP)],
    worker_type: Annotated[
        str, typer.Option("--type", "-t", help="The type of worker that serves it: process.")
    ] = "process",
    paused: Annotated[bool, typer.Option("--paused", help="Create it paused.")] = False,
    concurrency_limit: Annotated[
        int | None,
        typer.Option("--concurrency-limit", min=1, help="Most runs of the pool at once."),
    ] = None,
    base_job_template: Annotated[
        Path | None,
        typer.Option("--base-job-template", help="A JSON file with the pool's job template."),
    ] = None,
    description: Annotated[
        str | None, typer.Option("--description", help="What the pool is for.")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace the pool if it exists.")
    ] = False,
) -> None:
    """Create a work pool (then start a worker: `legato worker start --pool NAME`)."""
    from legato.cli import _output
    from legato.cli._client import open_client
    from legato.client.schemas.actions import WorkPoolCreate
    from legato.exceptions import ObjectAlreadyExists

    template = (
        _read_template_file(base_job_template)
        if base_job_template is not None
        else default_base_job_template(worker_type)
    )
    pool = WorkPoolCreate(
        name=name,
        type=worker_type,
        description=description,
        base_job_template=template,
        is_paused=paused,
        concurrency_limit=concurrency_limit,
    )
    with open_client() as client:
        try:
            client.create_work_pool(pool, overwrite=overwrite)  # type: ignore[attr-defined]
        except ObjectAlreadyExists:
            _output.fail(
                f"Work pool {name!r} exists already. Pass --overwrite to replace it, "
                "or choose another name."
            )
    _output.info(
        f"{'Updated' if overwrite else 'Created'} work pool {name!r} of type {worker_type!r}. "
        f"Start a worker with `legato worker start --pool {name}`."
    )


@app.command("ls")
@exits_on_error
def list_work_pools(
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="table or json.")
    ] = OutputFormat.table,
) -> None:
    """List work pools."""
    from legato.cli import _output
    from legato.cli._client import open_client

    with open_client() as client:
        pools = sorted(client.read_work_pools(), key=_attr("name"))  # type: ignore[attr-defined]
    if output is OutputFormat.json:
        _output.print_json([pool.model_dump(mode="json") for pool in pools])
        return
    columns = [
        ("Name", _attr("name")),
        ("Type", _attr("type")),
        ("ID", _attr("id")),
        ("Status", _status),
        ("Concurrency limit", _attr("concurrency_limit")),
    ]
    _output.print_table(
        "Work pools",
        columns,
        pools,
        empty="No work pools. Create one with `legato work-pool create NAME --type process`.",
    )


def _status(pool: Any) -> str:
    if pool.is_paused:
        return "PAUSED"
    status = getattr(pool, "status", None)
    return str(getattr(status, "value", status) or "")


@app.command("inspect")
@exits_on_error
def inspect_work_pool(
    name: Annotated[str, typer.Argument(help=_NAME_HELP)],
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="table or json.")
    ] = OutputFormat.table,
) -> None:
    """Show a work pool: its fields, job template, queues and workers."""
    import json

    from legato.cli import _output
    from legato.cli._client import open_client

    with open_client() as client:
        pool = read_work_pool(client, name)
        queues = list(client.read_work_queues(work_pool_name=name))  # type: ignore[attr-defined]
        workers = list(client.read_workers_for_work_pool(name))  # type: ignore[attr-defined]
    data = pool.model_dump(mode="json")
    if output is OutputFormat.json:
        _output.print_json(
            {
                **data,
                "work_queues": [queue.model_dump(mode="json") for queue in queues],
                "workers": [worker.model_dump(mode="json") for worker in workers],
            }
        )
        return
    fields = [
        (key, json.dumps(value, indent=2) if isinstance(value, dict | list) else value)
        for key, value in data.items()
    ]
    _output.print_fields(f"Work pool {name!r}", fields)
    from legato.cli.work_queue import print_queues

    print_queues(queues)
    _output.print_table(
        "Workers",
        [
            ("Name", _attr("name")),
            ("Last heartbeat (UTC)", _attr("last_heartbeat_time")),
            ("Status", _attr("status")),
        ],
        workers,
        empty="No workers have polled this pool.",
    )


def _update(name: str, done: str, **fields: Any) -> None:
    from legato.cli import _output
    from legato.cli._client import open_client
    from legato.client.schemas.actions import WorkPoolUpdate

    with open_client() as client:
        read_work_pool(client, name)
        client.update_work_pool(name, WorkPoolUpdate(**fields))  # type: ignore[attr-defined]
    _output.info(done)


@app.command("pause")
@exits_on_error
def pause_work_pool(name: Annotated[str, typer.Argument(help=_NAME_HELP)]) -> None:
    """Pause a work pool: its workers take no new runs."""
    _update(name, f"Paused work pool {name!r}.", is_paused=True)


@app.command("resume")
@exits_on_error
def resume_work_pool(name: Annotated[str, typer.Argument(help=_NAME_HELP)]) -> None:
    """Resume a paused work pool."""
    _update(name, f"Resumed work pool {name!r}.", is_paused=False)


@app.command("set-concurrency-limit")
@exits_on_error
def set_concurrency_limit(
    name: Annotated[str, typer.Argument(help=_NAME_HELP)],
    limit: Annotated[int, typer.Argument(min=1, help="Most runs of the pool at once.")],
) -> None:
    """Limit how many runs of the pool run at once."""
    _update(
        name,
        f"Set the concurrency limit of work pool {name!r} to {limit}.",
        concurrency_limit=limit,
    )


@app.command("clear-concurrency-limit")
@exits_on_error
def clear_concurrency_limit(name: Annotated[str, typer.Argument(help=_NAME_HELP)]) -> None:
    """Remove the pool's concurrency limit."""
    _update(name, f"Cleared the concurrency limit of work pool {name!r}.", concurrency_limit=None)


@app.command("delete")
@exits_on_error
def delete_work_pool(name: Annotated[str, typer.Argument(help=_NAME_HELP)]) -> None:
    """Delete a work pool and its queues."""
    from legato.cli import _output
    from legato.cli._client import open_client

    with open_client() as client:
        read_work_pool(client, name)
        client.delete_work_pool(name)  # type: ignore[attr-defined]
    _output.info(f"Deleted work pool {name!r}.")


@app.command("get-default-base-job-template")
@exits_on_error
def get_default_base_job_template(
    worker_type: Annotated[
        str, typer.Option("--type", "-t", help="The worker type: process.")
    ] = "process",
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Write it to this file instead.")
    ] = None,
) -> None:
    """Print the default base job template of a worker type (JSON), to edit and pass to create."""
    import json

    from legato.cli import _output

    text = json.dumps(default_base_job_template(worker_type), indent=2)
    if file is None:
        _output.print_json(json.loads(text))
        return
    file.write_text(text + "\n", encoding="utf-8")
    _output.info(f"Wrote the default base job template of {worker_type!r} to {str(file)!r}.")
