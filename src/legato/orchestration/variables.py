"""Variables: named JSON values that flows read at run time.

One service for both homes: the embedded client and the server's REST routes
call these functions with a SQLAlchemy ``Connection`` whose transaction the
caller manages. Rows come back as plain dicts (``Row``) with ``id``, ``name``,
``value``, ``tags``, ``created`` and ``updated``.

A name holds lowercase letters, digits, underscores and dashes, at most
``MAX_VARIABLE_NAME_LENGTH`` characters; a value is JSON (str, int, float,
bool, None, and lists and string-keyed dicts of those) of at most
``MAX_VARIABLE_VALUE_LENGTH`` characters once encoded.
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from legato._types import UNSET, Unset
from legato.exceptions import ObjectAlreadyExists, ParameterError
from legato.storage.dialect import bytewise, json_array_holds
from legato.storage.queries._common import Row, contains, fetch_all, fetch_one, page
from legato.storage.schema import variables

__all__ = [
    "MAX_VARIABLE_NAME_LENGTH",
    "MAX_VARIABLE_VALUE_LENGTH",
    "UNSET",
    "VARIABLE_NAME_PATTERN",
    "VARIABLE_SORTS",
    "count_variables",
    "create_variable",
    "delete_variable",
    "filter_variables",
    "read_variable_by_name",
    "update_variable",
    "validate_variable_name",
    "validate_variable_tags",
    "validate_variable_value",
]

MAX_VARIABLE_NAME_LENGTH: Final = 255
"""The longest variable name, in characters (Prefect 3's limit)."""

MAX_VARIABLE_VALUE_LENGTH: Final = 10_000
"""The longest variable value, in characters of its compact JSON encoding."""

VARIABLE_NAME_PATTERN: Final = re.compile(r"[a-z0-9_-]+")
"""What a name may hold: lowercase letters, digits, underscores and dashes."""

VARIABLE_SORTS: Final[dict[str, tuple[sa.ColumnElement[Any], ...]]] = {
    "name_asc": (bytewise(variables.c.name).asc(),),
    "name_desc": (bytewise(variables.c.name).desc(),),
    "created_desc": (variables.c.created.desc(), bytewise(variables.c.name).asc()),
    "updated_desc": (variables.c.updated.desc(), bytewise(variables.c.name).asc()),
}
"""The orders ``filter_variables`` accepts, by name."""

_JSON_SCALARS = (str, int, float, bool, type(None))


# -- validation ----------------------------------------------------------------


def validate_variable_name(name: str) -> str:
    """``name`` if it is a valid variable name; ParameterError naming the rule otherwise."""
    if not isinstance(name, str):
        raise ParameterError(f"A variable name is a string, got {type(name).__name__} {name!r}.")
    if len(name) > MAX_VARIABLE_NAME_LENGTH:
        raise ParameterError(
            f"Variable name {name[:40]!r}... is {len(name)} characters long; the limit is "
            f"{MAX_VARIABLE_NAME_LENGTH}. Choose a shorter name."
        )
    if not VARIABLE_NAME_PATTERN.fullmatch(name):
        suggestion = re.sub(r"[^a-z0-9_-]+", "_", name.lower()).strip("_") or "my_variable"
        raise ParameterError(
            f"Variable name {name!r} is not valid: a name holds only lowercase letters, digits, "
            f"underscores and dashes. Use e.g. {suggestion!r}."
        )
    return name


def validate_variable_value(value: Any) -> Any:
    """``value`` if it is JSON within the size limit; ParameterError naming the problem otherwise."""
    _check_json_types(value)
    try:
        encoded = json.dumps(value, separators=(",", ":"), allow_nan=False)
    except RecursionError:
        raise ParameterError(
            "A variable value is nested too deeply to store. Flatten it, or store it elsewhere "
            "(e.g. a file) and keep its path in the variable."
        ) from None
    if len(encoded) > MAX_VARIABLE_VALUE_LENGTH:
        raise ParameterError(
            f"A variable value is {len(encoded):,} characters as JSON; the limit is "
            f"{MAX_VARIABLE_VALUE_LENGTH:,}. Store large data elsewhere (e.g. a file or a "
            "block) and keep its location in the variable."
        )
    return value


def _check_json_types(value: Any) -> None:
    """Walk ``value`` (without recursion) and refuse anything that is not plain JSON."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise ParameterError(
                f"A variable value holds {item!r}, which JSON cannot represent. "
                "Use None or a string instead."
            )
        if isinstance(item, _JSON_SCALARS):
            continue
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            for key in item:
                if not isinstance(key, str):
                    raise ParameterError(
                        f"A variable value holds a dict with the key {key!r} "
                        f"({type(key).__name__}); JSON keys are strings. Convert the keys with str()."
                    )
            pending.extend(item.values())
        else:
            raise ParameterError(
                f"A variable value holds {item!r} ({type(item).__name__}); values are JSON: "
                "str, int, float, bool, None, and lists and dicts of those. Convert it first "
                "(e.g. a tuple to a list, a datetime with .isoformat())."
            )


def validate_variable_tags(tags: Sequence[str] | None) -> list[str]:
    """``tags`` as a list of strings ([] for None); ParameterError otherwise."""
    if tags is None:
        return []
    if isinstance(tags, str) or not all(isinstance(tag, str) for tag in tags):
        raise ParameterError(
            f"Variable tags are a list of strings, got {tags!r}. Pass e.g. ['prod', 'etl']."
        )
    return list(tags)


# -- tags filter ---------------------------------------------------------------


def _filters(name_like: str | None, tags: Sequence[str] | None) -> list[sa.ColumnElement[bool]]:
    filters = contains(variables.c.name, name_like)
    filters.extend(json_array_holds(variables.c.tags, tag) for tag in validate_variable_tags(tags))
    return filters


# -- reads and writes ----------------------------------------------------------


def read_variable_by_name(connection: Connection, name: str) -> Row | None:
    """The variable called ``name``, None if there is none."""
    return fetch_one(connection, sa.select(variables).where(variables.c.name == name))


def _read_existing(connection: Connection, name: str) -> Row:
    row = read_variable_by_name(connection, name)
    if row is None:  # pragma: no cover - written in this transaction
        raise LookupError(f"variable {name!r} vanished inside its own transaction")
    return row


def _already_exists(name: str) -> ObjectAlreadyExists:
    return ObjectAlreadyExists(
        f"A variable named {name!r} exists already. Pass overwrite=True to replace its "
        "value, or choose another name."
    )


def create_variable(
    connection: Connection, *, name: str, value: Any, tags: Sequence[str] | None = None
) -> Row:
    """Insert a variable and return its row; ObjectAlreadyExists if the name is taken."""
    validate_variable_name(name)
    validate_variable_value(value)
    tag_list = validate_variable_tags(tags)
    if read_variable_by_name(connection, name) is not None:
        raise _already_exists(name)
    now = time.time()
    statement = sa.insert(variables).values(
        id=str(uuid.uuid4()), name=name, value=value, tags=tag_list, created=now, updated=now
    )
    try:
        connection.execute(statement)
    except IntegrityError as exc:  # another writer took the name since the check
        raise _already_exists(name) from exc
    return _read_existing(connection, name)


def update_variable(
    connection: Connection,
    name: str,
    *,
    value: Any | Unset = UNSET,
    tags: Sequence[str] | None | Unset = UNSET,
) -> Row | None:
    """Change a variable's value and/or tags; None if there is no such name."""
    values: dict[str, Any] = {"updated": time.time()}
    if value is not UNSET:
        values["value"] = validate_variable_value(value)
    if not isinstance(tags, Unset):
        values["tags"] = validate_variable_tags(tags)
    result = connection.execute(
        sa.update(variables).where(variables.c.name == name).values(**values)
    )
    if not result.rowcount:
        return None
    return _read_existing(connection, name)


def delete_variable(connection: Connection, name: str) -> bool:
    """Delete a variable; False if there was none."""
    result = connection.execute(sa.delete(variables).where(variables.c.name == name))
    return bool(result.rowcount)


def _order(sort: str) -> tuple[sa.ColumnElement[Any], ...]:
    try:
        return VARIABLE_SORTS[sort]
    except KeyError:
        raise ParameterError(
            f"Unknown variable sort {sort!r}. Choose one of {', '.join(VARIABLE_SORTS)}."
        ) from None


def filter_variables(
    connection: Connection,
    *,
    name_like: str | None = None,
    tags: Sequence[str] | None = None,
    sort: str = "name_asc",
    limit: int = 100,
    offset: int = 0,
) -> list[Row]:
    """Variables whose name contains ``name_like`` and that carry every tag in ``tags``."""
    statement = sa.select(variables).where(*_filters(name_like, tags)).order_by(*_order(sort))
    return fetch_all(connection, page(statement, limit, offset))


def count_variables(
    connection: Connection, *, name_like: str | None = None, tags: Sequence[str] | None = None
) -> int:
    """How many variables ``filter_variables`` would return without paging."""
    statement = sa.select(sa.func.count()).select_from(variables).where(*_filters(name_like, tags))
    return int(connection.execute(statement).scalar_one())
