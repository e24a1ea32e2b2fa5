"""``legato server``: run the REST server, and manage its database's schema."""

from __future__ import annotations

from typing import Annotated

import typer

from legato.cli._output import command_group, exits_on_error

app = command_group("Run the legato REST server and manage its database.")
database_app = command_group("Upgrade, downgrade or reset the database's schema.")
app.add_typer(database_app, name="database")

_LEVELS = ("critical", "error", "warning", "info", "debug")


@app.command("start")
@exits_on_error
def start(
    host: Annotated[
        str | None,
        typer.Option(help="Address to listen on (default: LEGATO_SERVER_API_HOST, 127.0.0.1)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            min=0, max=65535, help="Port (default: LEGATO_SERVER_API_PORT, 4200; 0: any free one)."
        ),
    ] = None,
    log_level: Annotated[
        str, typer.Option(help="Server log level: critical, error, warning, info or debug.")
    ] = "info",
) -> None:
    """Start the server (one process) on the database of the current settings."""
    from legato.cli._output import fail, info
    from legato.server.run import bind, serve
    from legato.settings import get_current_settings
    from legato.storage.engine import describe_url, store_url

    level = log_level.lower()
    if level not in _LEVELS:
        fail(f"Unknown log level {log_level!r}; choose one of {', '.join(_LEVELS)}.")
    settings = get_current_settings()
    host = host or settings.server.api.host
    if port is None:
        port = settings.server.api.port
        if not 0 <= port <= 65535:
            fail(f"LEGATO_SERVER_API_PORT={port} is not a TCP port; use a number from 0 to 65535.")
    try:
        sock = bind(host, port)
    except OSError as exc:
        fail(
            f"Cannot listen on {host}:{port}: {exc.strerror}. "
            "Choose another --port, or stop the process using it."
        )
    address, bound_port = sock.getsockname()[:2]
    shown_host = "127.0.0.1" if address in ("0.0.0.0", "::") else address
    url = f"http://{shown_host}:{bound_port}"
    info(f"legato server on {url} (database: {describe_url(store_url(settings))})")
    info(f"API docs: {url}/api/docs")
    info("Point flows and the CLI at it with:")
    info(f"export LEGATO_API_URL={url}/api")
    try:
        serve(sock, settings, log_level=level)
    finally:
        sock.close()


def _database_url() -> str:
    from legato.settings import get_current_settings
    from legato.storage.engine import store_url

    return store_url(get_current_settings())


@database_app.command("upgrade")
@exits_on_error
def upgrade(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Migrate the database up to --revision (default: the newest)."""
    from legato.cli._output import info
    from legato.storage import database
    from legato.storage.engine import describe_url

    url = _database_url()
    database.upgrade(url, revision)
    info(f"Upgraded {describe_url(url)} to {revision}.")


@database_app.command("downgrade")
@exits_on_error
def downgrade(
    revision: Annotated[
        str, typer.Option(help="Target revision: an id, -1 (one step) or base (empty).")
    ] = "-1",
) -> None:
    """Migrate the database down to --revision (default: one step)."""
    from legato.cli._output import info
    from legato.storage import database
    from legato.storage.engine import describe_url

    url = _database_url()
    database.downgrade(url, revision)
    info(f"Downgraded {describe_url(url)} to {revision}.")


@database_app.command("reset")
@exits_on_error
def reset(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Drop every legato table and recreate them: all runs, logs and artifacts are lost."""
    from legato.cli._output import info
    from legato.storage import database
    from legato.storage.engine import describe_url

    url = _database_url()
    if not yes and not typer.confirm(f"Delete everything in {describe_url(url)}?"):
        raise typer.Exit(1)
    database.reset(url)
    info(f"Reset {describe_url(url)}: the schema is at head and the database is empty.")
