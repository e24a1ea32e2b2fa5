"""Artifacts: rich outputs of flow and task runs, stored with the runs.

>>> from legato import flow
>>> from legato.artifacts import create_markdown_artifact
>>> @flow
... def report() -> None:
...     create_markdown_artifact("# Done\\n\\n3 files loaded.", key="load-report")

Each ``create_*`` function stores one artifact and returns its id. Inside a
flow or task run the artifact is linked to that run; outside one it has no run.
A ``key`` (lowercase letters, digits and dashes) groups versions: creating an
artifact with a key that exists adds a new version, and ``Artifact.get(key)``
reads the latest. Artifacts are written at once through ``get_client(sync_client=True)``, so
they are in the store when the call returns. See docs/artifacts-variables.md.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from legato.client import get_client
from legato.engine.context import flow_run_context, task_run_context
from legato.exceptions import ObjectNotFound, ParameterError

__all__ = [
    "Artifact",
    "acreate_image_artifact",
    "acreate_link_artifact",
    "acreate_markdown_artifact",
    "acreate_progress_artifact",
    "acreate_table_artifact",
    "aupdate_progress_artifact",
    "create_image_artifact",
    "create_link_artifact",
    "create_markdown_artifact",
    "create_progress_artifact",
    "create_table_artifact",
    "update_progress_artifact",
]

Table = Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]] | Sequence[Sequence[Any]]


def _run_ids() -> tuple[str | None, str | None]:
    """(flow run id, task run id) of the innermost run, None outside of one."""
    task_context = task_run_context.get()
    if task_context is not None:
        run = task_context.task_run
        flow_run_id = None if run.flow_run_id is None else str(run.flow_run_id)
        return flow_run_id, run.id_text
    flow_context = flow_run_context.get()
    if flow_context is not None:
        return flow_context.flow_run.id_text, None
    return None, None


def _create(
    artifact_type: str, data: Any, key: str | None, description: str | None
) -> Mapping[str, Any]:
    flow_run_id, task_run_id = _run_ids()
    with get_client(sync_client=True) as client:
        return client.create_artifact(
            key=key,
            type=artifact_type,
            data=data,
            description=description,
            flow_run_id=flow_run_id,
            task_run_id=task_run_id,
        )


def _id(row: Mapping[str, Any]) -> uuid.UUID:
    return uuid.UUID(str(row["id"]))


# -- markdown, links, images ---------------------------------------------------


def create_markdown_artifact(
    markdown: str, key: str | None = None, description: str | None = None
) -> uuid.UUID:
    """Store ``markdown`` as an artifact; its id."""
    _check_text("markdown", markdown)
    return _id(_create("markdown", markdown, key, description))


def create_link_artifact(
    link: str, link_text: str | None = None, key: str | None = None, description: str | None = None
) -> uuid.UUID:
    """Store a link (as the markdown ``[link_text](link)``); its id."""
    _check_text("link", link)
    return _id(_create("link", f"[{link_text or link}]({link})", key, description))


def create_image_artifact(
    image_url: str, key: str | None = None, description: str | None = None
) -> uuid.UUID:
    """Store the URL of an image to show; its id."""
    _check_text("image_url", image_url)
    return _id(_create("image", image_url, key, description))


def _check_text(name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise ParameterError(
            f"{name} must be a string, got {type(value).__name__} {value!r}. Convert it with str()."
        )


# -- tables ----------------------------------------------------------------------


def create_table_artifact(
    table: Table, key: str | None = None, description: str | None = None
) -> uuid.UUID:
    """Store a table: a list of row dicts, a dict of column lists, or a list of row lists.

    NaN and infinite floats are stored as null; dates and times as ISO-8601 text.
    """
    return _id(_create("table", _table_data(table), key, description))


def _table_data(table: Any) -> Any:
    """``table`` checked for shape and made JSON-ready."""
    if isinstance(table, Mapping):
        _check_columns(table)
    elif _is_list(table):
        _check_rows(table)
    else:
        raise ParameterError(
            f"A table is a list of dicts, a dict of lists or a list of lists; got "
            f"{type(table).__name__}. Build one of those, e.g. [{{'name': 'a', 'count': 1}}]."
        )
    return _cell(table)


def _check_columns(table: Mapping[Any, Any]) -> None:
    lengths = set()
    for name, column in table.items():
        if not _is_list(column):
            raise ParameterError(
                f"Column {name!r} of a dict-of-lists table is {type(column).__name__}, not a "
                "list. Give every column as a list of values."
            )
        lengths.add(len(column))
    if len(lengths) > 1:
        raise ParameterError(
            f"The columns of a dict-of-lists table have different lengths {sorted(lengths)}. "
            "Give every column the same number of values (use None for a missing one)."
        )


def _check_rows(table: Sequence[Any]) -> None:
    """Every row a dict, or every row a list of one length; the first row decides which."""
    if not table:
        return
    is_dict = isinstance(table[0], Mapping)
    kind = "dicts" if is_dict else "lists"
    for number, row in enumerate(table):
        if not (isinstance(row, Mapping) if is_dict else _is_list(row)):
            which = f", and row 0 makes this one {kind}" if number else ""
            raise ParameterError(
                f"Row {number} of the table is {type(row).__name__} {row!r}; a table is a list "
                f"of dicts or a list of lists{which}. Give every row the same kind."
            )
    if is_dict:
        return
    lengths = sorted({len(row) for row in table})
    if len(lengths) > 1:
        raise ParameterError(
            f"The rows of a list-of-lists table have different lengths {lengths}. Give every "
            "row the same number of cells (use None for a missing one)."
        )


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _cell(value: Any) -> Any:
    """A JSON-ready copy: NaN/inf to None, dates to ISO text, other objects to str."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Mapping):
        return {str(name): _cell(item) for name, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        return [_cell(item) for item in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return _cell(item())
        except (TypeError, ValueError):
            pass
    return str(value)


# -- progress ----------------------------------------------------------------------


def _check_progress(progress: Any) -> float:
    is_number = isinstance(progress, int | float) and not isinstance(progress, bool)
    if not is_number or not 0 <= progress <= 100:
        raise ParameterError(
            f"Progress is a percentage from 0 to 100, got {progress!r}. "
            "Pass e.g. 42.5 for 42.5% done."
        )
    return float(progress)


def create_progress_artifact(
    progress: float, key: str | None = None, description: str | None = None
) -> uuid.UUID:
    """Store a progress percentage (0 to 100); update it with ``update_progress_artifact``."""
    return _id(_create("progress", _check_progress(progress), key, description))


def update_progress_artifact(
    artifact_id: uuid.UUID | str, progress: float, description: str | None = None
) -> uuid.UUID:
    """Set the percentage (and, if given, the description) of a progress artifact; its id."""
    value = _check_progress(progress)
    artifact_text = str(artifact_id)
    with get_client(sync_client=True) as client:
        row = client.read_artifact(artifact_text)
        if row["type"] != "progress":
            raise ParameterError(
                f"Artifact {artifact_text!r} is a {row['type']!r} artifact, not a progress one. "
                "Pass the id that create_progress_artifact returned."
            )
        if description is None:
            row = client.update_artifact(artifact_text, data=value)
        else:
            row = client.update_artifact(artifact_text, data=value, description=description)
    return _id(row)


# -- async twins ---------------------------------------------------------------------
# The store is reached through the synchronous client, in a worker thread so that
# the event loop is not blocked; the run context travels with the call.


async def acreate_markdown_artifact(
    markdown: str, key: str | None = None, description: str | None = None
) -> uuid.UUID:
    """Async twin of ``create_markdown_artifact``."""
    return await asyncio.to_thread(create_markdown_artifact, markdown, key, description)


async def acreate_link_artifact(
    link: str, link_text: str | None = None, key: str | None = None, description: str | None = None
) -> uuid.UUID:
    """Async twin of ``create_link_artifact``."""
    return await asyncio.to_thread(create_link_artifact, link, link_text, key, description)


async def acreate_image_artifact(
    image_url: str, key: str | None = None, description: str | None = None
) -> uuid.UUID:
    """Async twin of ``create_image_artifact``."""
    return await asyncio.to_thread(create_image_artifact, image_url, key, description)


async def acreate_table_artifact(
    table: Table, key: str | None = None, description: str | None = None
) -> uuid.UUID:
    """Async twin of ``create_table_artifact``."""
    return await asyncio.to_thread(create_table_artifact, table, key, description)


async def acreate_progress_artifact(
    progress: float, key: str | None = None, description: str | None = None
) -> uuid.UUID:
    """Async twin of ``create_progress_artifact``."""
    return await asyncio.to_thread(create_progress_artifact, progress, key, description)


async def aupdate_progress_artifact(
    artifact_id: uuid.UUID | str, progress: float, description: str | None = None
) -> uuid.UUID:
    """Async twin of ``update_progress_artifact``."""
    return await asyncio.to_thread(update_progress_artifact, artifact_id, progress, description)


# -- Artifact --------------------------------------------------------------------------


def _optional_uuid(value: Any) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(str(value))


@dataclass(frozen=True)
class Artifact:
    """An artifact: build one to ``create()`` it, or read one with ``Artifact.get(key)``."""

    type: str
    key: str | None = None
    description: str | None = None
    data: Any = None
    id: uuid.UUID | None = None
    flow_run_id: uuid.UUID | None = None
    task_run_id: uuid.UUID | None = None
    created: datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Artifact:
        """The artifact a client's row (or API object) describes."""
        return cls(
            type=row["type"],
            key=row["key"],
            description=row["description"],
            data=row["data"],
            id=_optional_uuid(row["id"]),
            flow_run_id=_optional_uuid(row["flow_run_id"]),
            task_run_id=_optional_uuid(row["task_run_id"]),
            created=row["created"],
        )

    def create(self) -> Artifact:
        """Store this artifact, linked to the current run; the stored artifact (with its id)."""
        return Artifact.from_row(_create(self.type, self.data, self.key, self.description))

    async def acreate(self) -> Artifact:
        """Async twin of ``create``."""
        return await asyncio.to_thread(self.create)

    @classmethod
    def get(cls, key: str) -> Artifact | None:
        """The latest version of the artifact ``key``, None if there is none."""
        try:
            with get_client(sync_client=True) as client:
                return cls.from_row(client.read_latest_artifact(key))
        except ObjectNotFound:
            return None

    @classmethod
    async def aget(cls, key: str) -> Artifact | None:
        """Async twin of ``get``."""
        return await asyncio.to_thread(cls.get, key)
