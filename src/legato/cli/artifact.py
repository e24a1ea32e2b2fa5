"""``legato artifact``: list, inspect and delete artifacts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from legato.cli._output import OutputFormat, command_group, exits_on_error

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from legato.client import EmbeddedClient
    from legato.client.http import SyncHttpClient

    SyncClient = EmbeddedClient | SyncHttpClient

app = command_group("Artifacts: markdown, tables, links, progress and images made by runs.")

_PAGE = 1000


def _as_id(key_or_id: str) -> str | None:
    """The canonical id if ``key_or_id`` reads as a UUID (it may still be a key)."""
    import uuid

    try:
        return str(uuid.UUID(key_or_id))
    except ValueError:
        return None


def _not_found(key_or_id: str) -> str:
    return (
        f"No artifact with key or id {key_or_id!r}. "
        "List artifacts with `legato artifact ls --all-versions`."
    )


def _full(value: Any) -> str | None:
    """Data in full: text as it is, other values as indented JSON."""
    import json

    return value if value is None or isinstance(value, str) else json.dumps(value, indent=2)


def _preview(value: Any, width: int = 60) -> str:
    """Data as one short line: text as it is, other values as compact JSON."""
    import json

    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@app.command("ls")
@exits_on_error
def list_artifacts(
    key: Annotated[str | None, typer.Option("--key", "-k", help="Only this key.")] = None,
    all_versions: Annotated[
        bool,
        typer.Option(
            "--all-versions", "-a", help="Every version, and artifacts without a key too."
        ),
    ] = False,
    limit: Annotated[int, typer.Option("--limit", "-l", min=1, help="Most rows to show.")] = 15,
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="table or json.")
    ] = OutputFormat.table,
) -> None:
    """List artifacts, newest first: the latest version of each key (or every version)."""
    from legato.cli import _output
    from legato.client import get_client

    with get_client(sync_client=True) as client:
        rows = client.read_artifacts(key=key, latest_only=not all_versions, limit=limit)
    if output is OutputFormat.json:
        _output.print_json(rows)
        return
    columns = [
        ("ID", _output.key("id")),
        ("Key", _output.key("key")),
        ("Type", _output.key("type")),
        ("Data", lambda row: _preview(row.get("data"))),
        ("Flow run", _output.key("flow_run_id")),
        ("Created (UTC)", _output.key("created")),
    ]
    hint = "" if all_versions else " Add --all-versions to see artifacts without a key."
    _output.print_table("Artifacts", columns, rows, empty=f"No artifacts match.{hint}")


@app.command("inspect")
@exits_on_error
def inspect_artifact(
    key_or_id: Annotated[str, typer.Argument(help="An artifact key (its versions) or an id.")],
    limit: Annotated[int, typer.Option("--limit", "-l", min=1, help="Most versions to show.")] = 10,
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="table or json.")
    ] = OutputFormat.table,
) -> None:
    """Show the versions of a key, newest first, or the one artifact with an id."""
    from legato.cli import _output

    rows = _read_versions(key_or_id, limit)
    if not rows:
        _output.fail(_not_found(key_or_id))
    if output is OutputFormat.json:
        _output.print_json(rows)
        return
    for row in rows:
        title = f"Artifact {row['key']!r}" if row.get("key") else "Artifact"
        fields = [
            (name, value if name in ("created", "updated") else _full(value))
            for name, value in row.items()
        ]
        _output.print_fields(title, fields)


def _read_versions(key_or_id: str, limit: int) -> Sequence[Mapping[str, Any]]:
    from legato.client import get_client
    from legato.exceptions import ObjectNotFound

    artifact_id = _as_id(key_or_id)
    with get_client(sync_client=True) as client:
        if artifact_id is not None:
            try:
                return [client.read_artifact(artifact_id)]
            except ObjectNotFound:
                pass
        return client.read_artifacts(key=key_or_id, limit=limit)


@app.command("delete")
@exits_on_error
def delete_artifact(
    key_or_id: Annotated[
        str, typer.Argument(help="An artifact key (all its versions) or an id (one version).")
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete every version of a key, or the one artifact with an id."""
    from legato.cli import _output
    from legato.client import get_client

    artifact_id = _as_id(key_or_id)
    with get_client(sync_client=True) as client:
        if artifact_id is not None and _exists(client, artifact_id):
            if not yes:
                typer.confirm(f"Delete artifact {artifact_id}?", abort=True)
            client.delete_artifact(artifact_id)
            _output.info(f"Deleted artifact {artifact_id}.")
            return
        count: int = client.count_artifacts(key=key_or_id)
        if not count:
            _output.fail(_not_found(key_or_id))
        if not yes:
            typer.confirm(f"Delete {count} version(s) of artifact {key_or_id!r}?", abort=True)
        deleted = _delete_key(client, key_or_id)
    _output.info(f"Deleted {deleted} version(s) of artifact {key_or_id!r}.")


def _exists(client: SyncClient, artifact_id: str) -> bool:
    from legato.exceptions import ObjectNotFound

    try:
        client.read_artifact(artifact_id)
    except ObjectNotFound:
        return False
    return True


def _delete_key(client: SyncClient, key: str) -> int:
    """Delete every version of ``key``, a page at a time; how many were deleted."""
    from legato.exceptions import ObjectNotFound

    deleted = 0
    while rows := client.read_artifacts(key=key, limit=_PAGE):
        for row in rows:
            try:
                client.delete_artifact(row["id"])
                deleted += 1
            except ObjectNotFound:  # deleted meanwhile by someone else
                pass
    return deleted
