"""Concurrency and rate limits: validation, create, read, update, reset, delete.

One service for both homes: the embedded client and the server's REST routes
call these functions with a SQLAlchemy ``Connection`` whose transaction the
caller manages (``Store.write`` / ``Store.read``). Slots are taken and given
back by ``legato.orchestration.concurrency_leases``.

A limit has a ``name`` (tag limits are named ``tag:<tag>``), a ``limit`` of
slots (an int >= 1), ``active`` (an inactive limit never makes anyone wait)
and ``slot_decay_per_second`` (0 for a plain concurrency limit; > 0 makes it a
rate limit, whose slots drain at that rate). Its slots in use are:

- the slots of its unexpired leases (a lease whose holder stopped renewing it
  frees its slots the moment it expires, with no cleanup job), plus
- for a rate limit, ``decayed_slots`` as of ``decay_updated``, drained by
  ``slot_decay_per_second`` per second since then (never below zero).

Rows come back as dicts with the table's columns, ``decayed_slots`` brought
to ``now``, and ``active_slots``: the slots in use as an int (a rate limit's
partly drained slot counts as one).
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.expression import Executable

from legato._types import UNSET, Unset
from legato.client.schemas.concurrency import RESERVED_LIMIT_NAMES
from legato.exceptions import ObjectAlreadyExists, ParameterError
from legato.storage.dialect import bytewise
from legato.storage.queries._common import Row, fetch_all, fetch_one, page
from legato.storage.schema import concurrency_lease_limits as lease_limits
from legato.storage.schema import concurrency_leases as leases
from legato.storage.schema import concurrency_limits as limits
from legato.storage.types import Timestamp

__all__ = [
    "MAX_LIMIT",
    "MAX_LIMIT_NAME_LENGTH",
    "RESERVED_LIMIT_NAMES",
    "TAG_PREFIX",
    "InStatement",
    "bind_time",
    "create_limit",
    "current_decayed_slots",
    "delete_limit",
    "filter_limits",
    "lease_slots",
    "read_limit_by_name",
    "read_tag_limits",
    "reset_limit",
    "tag_limit_name",
    "update_limit",
    "upsert_limit",
    "validate_limit",
    "validate_limit_name",
    "validate_slot_decay",
]

MAX_LIMIT: Final = 2**31 - 1
"""The largest ``limit`` a store keeps (32 bits)."""

MAX_LIMIT_NAME_LENGTH: Final = 255
"""The longest limit name, in characters."""

TAG_PREFIX: Final = "tag:"
"""Tag concurrency limits are global limits named ``tag:<tag>`` (as in Prefect 3)."""


_FORBIDDEN_CHARACTERS: Final = frozenset("/\\%&<>?#")


# -- validation ----------------------------------------------------------------


def validate_limit_name(name: Any) -> str:
    """``name`` if a limit may be called so; ParameterError naming the rule otherwise."""
    if not isinstance(name, str):
        raise ParameterError(
            f"A concurrency limit name is a string, got {type(name).__name__} {name!r}."
        )
    if not name or name.strip() != name:
        raise ParameterError(
            f"Concurrency limit name {name!r} is empty or starts or ends with whitespace. "
            "Give a name like 'database' or 'openai-api'."
        )
    if len(name) > MAX_LIMIT_NAME_LENGTH:
        raise ParameterError(
            f"Concurrency limit name {name[:40]!r}... is {len(name)} characters long; the "
            f"limit is {MAX_LIMIT_NAME_LENGTH}. Choose a shorter name."
        )
    bad = sorted({c for c in name if c in _FORBIDDEN_CHARACTERS or not c.isprintable()})
    if bad:
        raise ParameterError(
            f"Concurrency limit name {name!r} holds {''.join(bad)!r}: a name may not hold "
            f"any of {''.join(sorted(_FORBIDDEN_CHARACTERS))!r} or control characters. "
            "Use letters, digits, spaces and punctuation such as '-', '_', '.' or ':'."
        )
    if name in RESERVED_LIMIT_NAMES:
        raise ParameterError(
            f"{name!r} is reserved (the API lists leases under that path). Choose another name."
        )
    return name


def validate_limit(value: Any, what: str = "limit") -> int:
    """``value`` if it is a whole number of slots >= 1; ParameterError naming the fix otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(
            f"A concurrency {what} is a whole number of slots, got "
            f"{type(value).__name__} {value!r}. Pass an int such as 5."
        )
    if not 1 <= value <= MAX_LIMIT:
        raise ParameterError(
            f"A concurrency {what} must be between 1 and {MAX_LIMIT}, got {value}. A limit "
            "of 0 would make every caller wait forever: deactivate or delete the limit instead."
        )
    return value


def validate_slot_decay(value: Any) -> float:
    """``value`` as a finite float >= 0 (slots freed per second; 0: a plain concurrency limit)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParameterError(
            f"slot_decay_per_second is a finite number >= 0, got {value!r}. "
            "Pass e.g. 2.0 for a rate of two operations a second, or 0 for none."
        )
    if value < 0:
        raise ParameterError(
            f"slot_decay_per_second must be >= 0, got {value}. Pass 0 for a plain "
            "concurrency limit, or the number of slots to free each second for a rate limit."
        )
    return float(value)


def tag_limit_name(tag: str) -> str:
    """The global limit that holds the concurrency limit of ``tag``."""
    if not isinstance(tag, str) or not tag:
        raise ParameterError(f"A tag is a non-empty string, got {tag!r}.")
    return validate_limit_name(TAG_PREFIX + tag)


# -- slots in use --------------------------------------------------------------


def bind_time(now: float) -> sa.BindParameter[Any]:
    """``now`` bound as a timestamp (exactly, without the microsecond rounding of reads)."""
    return sa.bindparam(None, now, type_=Timestamp())


Condition = Callable[[sa.ColumnElement[Any]], sa.ColumnElement[bool]]


@dataclass(frozen=True, slots=True)
class InStatement:
    """A statement built once with ``column IN :key``, and its ``column = :key`` twin.

    Constructing a statement costs more than running it, and acquire and
    release are hot paths; an expanding IN costs ~80 µs a call on its own,
    and most calls pass one value.
    """

    key: str
    one: Executable
    many: Executable

    @classmethod
    def build(cls, key: str, make: Callable[[Condition], Executable]) -> InStatement:
        """``make(condition)`` builds the statement around ``condition(column)``."""
        return cls(
            key,
            make(lambda column: column == sa.bindparam(key)),
            make(lambda column: column.in_(sa.bindparam(key, expanding=True))),
        )

    def execute(
        self, connection: Connection, values: Sequence[Any], **params: Any
    ) -> CursorResult[Any]:
        """Run it for ``values`` (at least one) and the other parameters."""
        if len(values) == 1:
            return connection.execute(self.one, {**params, self.key: values[0]})
        return connection.execute(self.many, {**params, self.key: list(values)})


_LEASE_SLOTS = InStatement.build(
    "limit_ids",
    lambda matches: (
        sa.select(lease_limits.c.limit_id, sa.func.sum(leases.c.slots))
        .join(leases, leases.c.id == lease_limits.c.lease_id)
        .where(
            matches(lease_limits.c.limit_id),
            leases.c.expiration > sa.bindparam("now", type_=Timestamp()),
        )
        .group_by(lease_limits.c.limit_id)
    ),
)


def lease_slots(connection: Connection, limit_ids: Iterable[str], now: float) -> dict[str, int]:
    """The slots held by unexpired leases on each of ``limit_ids`` (0 for none)."""
    ids = list(limit_ids)
    held = dict.fromkeys(ids, 0)
    if ids:
        rows: list[Any] = list(_LEASE_SLOTS.execute(connection, ids, now=now))
        for limit_id, slots in rows:
            held[limit_id] = int(slots)
    return held


def current_decayed_slots(row: Row, now: float) -> float:
    """A rate limit's ``decayed_slots`` drained to ``now`` (never below zero)."""
    decay = float(row["slot_decay_per_second"])
    stored = float(row["decayed_slots"])
    if decay <= 0 or stored <= 0:
        return max(0.0, stored)
    updated = row["decay_updated"]  # a datetime, or POSIX seconds from plain sqlite3
    since = updated if isinstance(updated, int | float) else updated.timestamp()
    elapsed = max(0.0, now - float(since))
    return max(0.0, stored - elapsed * decay)


def _with_slots(connection: Connection, rows: list[Row], now: float) -> list[Row]:
    """``rows`` with ``decayed_slots`` at ``now`` and ``active_slots`` added."""
    held = lease_slots(connection, [row["id"] for row in rows], now)
    for row in rows:
        row["decayed_slots"] = current_decayed_slots(row, now)
        row["active_slots"] = held[row["id"]] + math.ceil(row["decayed_slots"] - 1e-9)
    return rows


# -- reads ---------------------------------------------------------------------


def read_limit_by_name(connection: Connection, name: str, now: float | None = None) -> Row | None:
    """The limit called ``name`` with its slots in use; None if there is none."""
    row = fetch_one(connection, sa.select(limits).where(limits.c.name == name))
    if row is None:
        return None
    return _with_slots(connection, [row], time.time() if now is None else now)[0]


def filter_limits(
    connection: Connection,
    *,
    names: Sequence[str] | None = None,
    name_prefix: str | None = None,
    limit: int = 100,
    offset: int = 0,
    now: float | None = None,
) -> list[Row]:
    """Limits by name (in code point order), optionally only ``names`` or a ``name_prefix``."""
    statement = sa.select(limits).order_by(bytewise(limits.c.name))
    if names is not None:
        statement = statement.where(limits.c.name.in_(list(names)))
    if name_prefix is not None:  # case-sensitive on both databases (SQLite's LIKE is not)
        prefix = sa.func.substr(limits.c.name, 1, len(name_prefix))
        statement = statement.where(prefix == name_prefix)
    rows = fetch_all(connection, page(statement, limit, offset))
    return _with_slots(connection, rows, time.time() if now is None else now)


def read_tag_limits(
    connection: Connection,
    *,
    tag: str | None = None,
    limit: int = 100,
    offset: int = 0,
    now: float | None = None,
) -> list[Row]:
    """Tag limits (or the one of ``tag``), by tag, as Prefect's tag-limit rows.

    Each row: ``id``, ``tag``, ``concurrency_limit``, ``created``, ``updated``,
    ``active_slots`` (the ids of the task runs whose leases hold it now: the
    ``task_run_id`` of each holder that has one) and ``slots_in_use``.
    """
    now = time.time() if now is None else now
    if tag is None:
        rows = filter_limits(
            connection, name_prefix=TAG_PREFIX, limit=limit, offset=offset, now=now
        )
    else:
        rows = filter_limits(connection, names=[tag_limit_name(tag)], now=now)
    holders = _holders(connection, [row["id"] for row in rows], now)
    return [
        {
            "id": row["id"],
            "tag": row["name"].removeprefix(TAG_PREFIX),
            "concurrency_limit": row["limit"],
            "active_slots": _task_run_ids(holders.get(row["id"], [])),
            "slots_in_use": row["active_slots"],
            "created": row["created"],
            "updated": row["updated"],
        }
        for row in rows
    ]


def _holders(connection: Connection, limit_ids: list[str], now: float) -> dict[str, list[Any]]:
    """The holders of the unexpired leases of each limit, oldest lease first."""
    if not limit_ids:
        return {}
    statement = (
        sa.select(lease_limits.c.limit_id, leases.c.holder)
        .join(leases, leases.c.id == lease_limits.c.lease_id)
        .where(lease_limits.c.limit_id.in_(limit_ids), leases.c.expiration > bind_time(now))
        .order_by(leases.c.created)
    )
    holders: dict[str, list[Any]] = {}
    for limit_id, holder in connection.execute(statement):
        holders.setdefault(limit_id, []).append(holder)
    return holders


def _task_run_ids(holders: list[Any]) -> list[str]:
    ids = []
    for holder in holders:
        value = holder.get("task_run_id") if isinstance(holder, dict) else None
        try:
            ids.append(str(uuid.UUID(str(value))))
        except ValueError:
            continue  # a holder that is not a task run (or says so badly)
    return ids


# -- writes --------------------------------------------------------------------


def _already_exists(name: str) -> ObjectAlreadyExists:
    return ObjectAlreadyExists(
        f"A concurrency limit named {name!r} exists already. Change it with "
        f"`legato global-concurrency-limit update {name!r}`, or choose another name."
    )


def _existing(connection: Connection, name: str, now: float) -> Row:
    row = read_limit_by_name(connection, name, now)
    if row is None:  # pragma: no cover - written in this transaction
        raise LookupError(f"concurrency limit {name!r} vanished inside its own transaction")
    return row


def create_limit(
    connection: Connection,
    *,
    name: str,
    limit: int,
    active: bool = True,
    slot_decay_per_second: float = 0.0,
    now: float | None = None,
) -> Row:
    """Insert a limit and return its row; ObjectAlreadyExists if the name is taken."""
    validate_limit_name(name)
    validate_limit(limit)
    decay = validate_slot_decay(slot_decay_per_second)
    if not isinstance(active, bool):
        raise ParameterError(f"active is True or False, got {active!r}.")
    now = time.time() if now is None else now
    if fetch_one(connection, sa.select(limits.c.id).where(limits.c.name == name)):
        raise _already_exists(name)
    statement = sa.insert(limits).values(
        id=str(uuid.uuid4()),
        name=name,
        limit=limit,
        active=active,
        slot_decay_per_second=decay,
        decay_updated=now,
        created=now,
        updated=now,
    )
    try:
        connection.execute(statement)
    except IntegrityError as exc:  # another writer took the name since the check
        raise _already_exists(name) from exc
    return _existing(connection, name, now)


def _lock_by_name(connection: Connection, name: str) -> Row | None:
    """The limit row called ``name``, locked for this transaction on PostgreSQL."""
    statement = sa.select(limits).where(limits.c.name == name).with_for_update()
    return fetch_one(connection, statement)


def update_limit(
    connection: Connection,
    name: str,
    *,
    new_name: str | Unset = UNSET,
    limit: int | Unset = UNSET,
    active: bool | Unset = UNSET,
    slot_decay_per_second: float | Unset = UNSET,
    now: float | None = None,
) -> Row | None:
    """Change a limit's fields (UNSET ones keep theirs); None if there is no such name."""
    values: dict[str, Any] = {}
    if not isinstance(new_name, Unset) and new_name != name:
        values["name"] = validate_limit_name(new_name)
    if not isinstance(limit, Unset):
        values["limit"] = validate_limit(limit)
    if not isinstance(active, Unset):
        if not isinstance(active, bool):
            raise ParameterError(f"active is True or False, got {active!r}.")
        values["active"] = active
    row = _lock_by_name(connection, name)
    if row is None:
        return None
    now = time.time() if now is None else now
    if not isinstance(slot_decay_per_second, Unset):
        # Drain the slots at the old rate up to now; the new rate applies from now on.
        values["slot_decay_per_second"] = validate_slot_decay(slot_decay_per_second)
        values["decayed_slots"] = current_decayed_slots(row, now)
        values["decay_updated"] = now
    if "name" in values and read_limit_by_name(connection, values["name"], now) is not None:
        raise _already_exists(values["name"])
    try:
        connection.execute(
            sa.update(limits).where(limits.c.id == row["id"]).values(**values, updated=now)
        )
    except IntegrityError as exc:  # another writer took the new name since the check
        raise _already_exists(values["name"]) from exc
    return _existing(connection, values.get("name", name), now)


def upsert_limit(
    connection: Connection, name: str, limit: int, now: float | None = None
) -> tuple[Row, bool]:
    """Create the limit ``name`` or set its ``limit``; the row and whether it was created."""
    validate_limit(limit)
    row = update_limit(connection, name, limit=limit, now=now)
    if row is not None:
        return row, False
    return create_limit(connection, name=name, limit=limit, now=now), True


def _drop_holds(connection: Connection, limit_id: str) -> None:
    """Free every slot held on ``limit_id``; leases left holding nothing are deleted.

    Lease rows are locked (id order) before their ``concurrency_lease_limits``
    rows, the order every transaction follows, after the limit's own row.
    """
    held = sa.select(lease_limits.c.lease_id).where(lease_limits.c.limit_id == limit_id)
    lease_ids = list(
        connection.execute(
            sa.select(leases.c.id)
            .where(leases.c.id.in_(held))
            .order_by(leases.c.id)
            .with_for_update()
        ).scalars()
    )
    if not lease_ids:
        return
    connection.execute(sa.delete(lease_limits).where(lease_limits.c.limit_id == limit_id))
    still_holding = sa.select(lease_limits.c.lease_id).where(lease_limits.c.lease_id == leases.c.id)
    connection.execute(
        sa.delete(leases).where(leases.c.id.in_(lease_ids), ~sa.exists(still_holding))
    )


def reset_limit(connection: Connection, name: str, now: float | None = None) -> Row | None:
    """Free every slot of a limit (its leases, a rate limit's drained slots, the denied count).

    A lease that also holds other limits keeps those. None if there is no such name.
    """
    row = _lock_by_name(connection, name)
    if row is None:
        return None
    now = time.time() if now is None else now
    _drop_holds(connection, row["id"])
    connection.execute(
        sa.update(limits)
        .where(limits.c.id == row["id"])
        .values(decayed_slots=0.0, decay_updated=now, denied_slots=0, updated=now)
    )
    return _existing(connection, name, now)


def delete_limit(connection: Connection, name: str) -> bool:
    """Delete a limit and the holds on it; False if there was none."""
    row = _lock_by_name(connection, name)
    if row is None:
        return False
    _drop_holds(connection, row["id"])
    connection.execute(sa.delete(limits).where(limits.c.id == row["id"]))
    return True
