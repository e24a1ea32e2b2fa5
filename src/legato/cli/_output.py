"""Rendering for the CLI: rich tables, JSON, one-line errors, logging setup.

rich and json are imported inside the functions so that ``legato --help``
stays fast.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import typer

from legato.exceptions import LegatoError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

P = ParamSpec("P")
R = TypeVar("R")

Row = Mapping[str, Any]

STATE_STYLES = {
    "SCHEDULED": "yellow",
    "PENDING": "bright_black",
    "RUNNING": "blue",
    "COMPLETED": "green",
    "FAILED": "red",
    "CRASHED": "bold red",
    "CANCELLING": "bright_black",
    "CANCELLED": "bright_black",
    "PAUSED": "bright_black",
}
FINAL_STATE_TYPES = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})


class OutputFormat(StrEnum):
    """How list and inspect commands print."""

    table = "table"
    json = "json"


def command_group(help: str) -> typer.Typer:
    """A typer app with legato's defaults: plain (fast) help, no completion, no rich tracebacks."""
    return typer.Typer(
        help=help,
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
    )


# -- consoles and messages


@functools.cache
def console(*, stderr: bool = False) -> Console:
    """The rich console for stdout (or stderr)."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def info(message: str, style: str | None = None) -> None:
    """One plain line on stdout (rich markup off: user values may hold brackets)."""
    console().print(message, style=style, markup=False, soft_wrap=True)


def warn(message: str) -> None:
    """One yellow line on stderr."""
    console(stderr=True).print(message, style="yellow", markup=False, soft_wrap=True)


def fail(message: str) -> NoReturn:
    """Print one red line on stderr and exit with code 1."""
    console(stderr=True).print(message, style="red", markup=False, soft_wrap=True)
    raise typer.Exit(1)


def exits_on_error(command: Callable[P, R]) -> Callable[P, R]:
    """Turn legato's errors in ``command`` into one red line and exit code 1."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except LegatoError as exc:
            fail(str(exc))

    return run


class _StderrHandler(logging.Handler):
    """Writes each record to whatever ``sys.stderr`` is at that moment."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


def configure_logging() -> None:
    """Print legato's log lines on stderr at ``LEGATO_LOGGING_LEVEL`` (the CLI's job).

    Called by ``main()`` only, so tests that invoke the app in-process keep
    their own logging. The handler is marked as legato's console handler so
    that the engine does not add a second one when the CLI runs flows.
    """
    logger = logging.getLogger("legato")
    if logger.handlers:
        return
    from legato.settings import get_current_settings

    try:
        level = get_current_settings().logging.level
    except LegatoError:
        level = "WARNING"  # the command that needs the settings reports the problem
    handler = _StderrHandler()
    handler.setFormatter(
        logging.Formatter("%(asctime)s | %(levelname)-7s | %(name)s - %(message)s")
    )
    handler._legato_console = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


# -- values

_SECRETS = frozenset({"LEGATO_API_AUTH_STRING", "LEGATO_SERVER_API_AUTH_STRING"})


def mask_secret(name: str, value: str) -> str:
    """``value`` of setting ``name`` with secrets (auth strings, URL passwords) as ********."""
    if name in _SECRETS and value:
        return "********"
    if name == "LEGATO_DATABASE_URL":
        from urllib.parse import urlsplit

        password = urlsplit(value).password
        return value.replace(f":{password}@", ":********@") if password else value
    return value


def jsonable(value: Any) -> Any:
    """``value`` with datetimes as ISO-8601 text and other non-JSON values as strings."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def print_json(data: Any) -> None:
    """Machine-readable JSON on stdout."""
    import json

    sys.stdout.write(json.dumps(jsonable(data), indent=2) + "\n")
    sys.stdout.flush()


def format_time(value: datetime | None) -> str:
    """A timestamp as ``YYYY-MM-DD HH:MM:SS`` (UTC), or empty."""
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


def format_duration(seconds: float | None) -> str:
    """Seconds as ``0.12s``, ``12.3s`` or ``4m 05s``."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.2f}s" if seconds < 10 else f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m {rest:02d}s" if minutes < 60 else f"{minutes // 60}h {minutes % 60:02d}m"


def state_text(row: Row) -> Text:
    """A run's state name, colored by its type."""
    from rich.text import Text

    state_type = row.get("state_type") or row.get("type") or ""
    name = row.get("state_name") or row.get("name") or state_type.title()
    return Text(str(name), style=STATE_STYLES.get(state_type, ""))


def check_state_types(values: Sequence[str] | None) -> list[str] | None:
    """Upper-cased state types, or exit naming the closest valid one."""
    if not values:
        return None
    types = [value.upper() for value in values]
    for given in types:
        if given not in STATE_STYLES:
            import difflib

            close = difflib.get_close_matches(given, list(STATE_STYLES), n=1)
            hint = f" Did you mean {close[0]}?" if close else ""
            fail(f"Unknown state type {given!r}.{hint} Choose from {', '.join(STATE_STYLES)}.")
    return types


# -- tables

Column = tuple[str, Callable[[Row], Any]]


def print_table(title: str, columns: Sequence[Column], rows: Iterable[Row], *, empty: str) -> None:
    """A rich table of ``rows``; ``empty`` is printed instead when there are none."""
    from rich.table import Table

    materialised = list(rows)
    if not materialised:
        info(empty)
        return
    table = Table(title=title, title_justify="left")
    for header, _ in columns:
        # A row's id is copied into other commands: keep it on one line; others fold.
        is_id = header == "ID"
        table.add_column(
            header, overflow="fold", no_wrap=is_id, min_width=36 if is_id else len(header)
        )
    for row in materialised:
        table.add_row(*(_cell(read(row)) for _, read in columns))
    console().print(table)


def _cell(value: Any) -> Any:
    from rich.text import Text

    if isinstance(value, Text):
        return value
    if isinstance(value, datetime):
        return format_time(value)
    return Text("" if value is None else str(value))


def key(name: str) -> Callable[[Row], Any]:
    """A column reader for ``row[name]``."""
    return lambda row: row.get(name)


def print_fields(title: str, fields: Sequence[tuple[str, Any]]) -> None:
    """Name/value pairs as a two-column table."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for name, value in fields:
        table.add_row(name, _cell(value))
    console().print(table)
