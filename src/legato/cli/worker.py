"""``legato worker start``: poll a work pool and run its scheduled flow runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from legato.cli._output import command_group, exits_on_error

if TYPE_CHECKING:
    from legato.workers.base import BaseWorker

app = command_group("Workers: poll a work pool and run its scheduled flow runs.")


@app.command("start")
@exits_on_error
def start_worker(
    pool: Annotated[str, typer.Option("--pool", "-p", help="The work pool to poll.")],
    worker_type: Annotated[
        str | None,
        typer.Option(
            "--type",
            "-t",
            help="Worker type (e.g. process). Default: the pool's type. Creates the pool if missing.",
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", "-l", min=1, help="Most flow runs running at once (default: no limit)."
        ),
    ] = None,
    run_once: Annotated[
        bool,
        typer.Option("--run-once", help="Poll once, run what is due, wait for it, then exit."),
    ] = False,
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="The worker's name (default: generated).")
    ] = None,
    work_queue: Annotated[
        list[str] | None,
        typer.Option("--work-queue", "-q", help="Only these queues of the pool (repeatable)."),
    ] = None,
) -> None:
    """Start a worker. Stop it with Ctrl-C (its running flow runs are stopped too)."""
    import asyncio
    import contextlib

    from legato.workers import get_worker_class

    chosen_type = worker_type or _pool_type(pool)
    worker_class = get_worker_class(chosen_type)
    worker = worker_class(
        pool,
        work_queues=work_queue,
        name=name,
        limit=limit,
        create_pool_if_not_found=worker_type is not None,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(worker, run_once))


def _pool_type(pool: str) -> str:
    from legato.cli._client import open_client
    from legato.cli._output import fail
    from legato.exceptions import ObjectNotFound

    with open_client() as client:
        try:
            work_pool = client.read_work_pool(pool)  # type: ignore[attr-defined]
        except ObjectNotFound:
            fail(
                f"Work pool {pool!r} does not exist. Start the worker with `--type process` to "
                f"create it, or create it first: `legato work-pool create {pool} --type process`."
            )
    return str(work_pool.type)


async def _run(worker: BaseWorker, run_once: bool) -> None:
    """Run the worker; SIGTERM stops it like Ctrl-C does."""
    import asyncio
    import signal

    if hasattr(signal, "SIGTERM"):
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, worker.stop)
    await worker.start(run_once=run_once)
