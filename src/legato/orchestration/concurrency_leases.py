"""Taking and giving back the slots of concurrency and rate limits, under leases.

``acquire`` takes ``slots`` on every named limit at once or on none (it never
waits: the caller retries after ``retry_after_seconds``). In ``"concurrency"``
mode the slots are held by a lease that its holder renews (``renew_lease``)
and gives back (``release_lease``); a holder that dies stops renewing, and
its slots are free again the moment the lease expires: the slots in use of a
limit only count unexpired leases, so nothing has to clean up for them to
come back. Expired leases are deleted along the way (``acquire`` collects
some each time). In ``"rate_limit"`` mode no lease is taken: the slots go
into the limit's draining bucket (``decayed_slots``), which empties at
``slot_decay_per_second``; as the bucket never holds more than ``limit``, a
long idle time allows a burst of at most ``limit`` operations, then the rate.

Each function is one transaction of the caller's (``Store.write``). On
SQLite writes are serialized (``BEGIN IMMEDIATE``). On PostgreSQL every
transaction locks rows in one order: limit rows (by id) before lease rows
(by id, or skipping locked ones) before ``concurrency_lease_limits`` rows, so
two writers cannot deadlock, and the slots in use are summed only after the
limit rows are locked (a statement started later sees every lease committed
before it). ``now`` (POSIX seconds) is read after the locks, unless a test
injects it.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from legato.exceptions import LeaseExpired, ParameterError
from legato.orchestration import concurrency_limits as limits_service
from legato.orchestration.concurrency_limits import InStatement, bind_time
from legato.storage.queries._common import Row, fetch_all
from legato.storage.records import canonical_uuid
from legato.storage.schema import concurrency_lease_limits as lease_limits
from legato.storage.schema import concurrency_leases as leases
from legato.storage.schema import concurrency_limits as limits
from legato.storage.types import Timestamp

__all__ = [
    "ACQUIRE_MODES",
    "AGES_SAMPLED",
    "COLLECT_AT_ONCE",
    "DEFAULT_LEASE_SECONDS",
    "MAX_LEASE_SECONDS",
    "Acquisition",
    "AcquireMode",
    "acquire",
    "check_fits",
    "check_holder",
    "check_mode",
    "check_names",
    "collect_expired_leases",
    "first_full",
    "needs_lease_ages",
    "read_leases",
    "release_lease",
    "renew_lease",
    "retry_estimate",
    "summaries",
    "validate_lease_seconds",
]

AcquireMode = Literal["concurrency", "rate_limit"]
ACQUIRE_MODES: Final = ("concurrency", "rate_limit")

DEFAULT_LEASE_SECONDS: Final = 30.0
"""How long a lease lasts unless renewed (``LEGATO_CONCURRENCY_LEASE_DURATION_SECONDS``)."""
MAX_LEASE_SECONDS: Final = 86_400.0
"""The longest lease: a day."""
MAX_HOLDER_LENGTH: Final = 4_000
"""The longest holder description, in characters of compact JSON."""

# Bounds of the retry hint of a concurrency limit that is full.
MIN_RETRY_SECONDS: Final = 0.01
MAX_RETRY_SECONDS: Final = 1.0
UNKNOWN_RETRY_SECONDS: Final = 0.05
# Leases whose ages estimate how long a full limit's holders keep their slots.
AGES_SAMPLED: Final = 100
# Expired leases deleted by one acquire at most (the rest by later ones).
COLLECT_AT_ONCE: Final = 100
# Slack for float comparisons of a rate limit's draining slots.
_EPSILON: Final = 1e-9


@dataclass(frozen=True, slots=True)
class Acquisition:
    """What ``acquire`` did.

    ``granted``: the slots were taken on every named limit that exists and is
    active (True also when none does: nothing to wait for). ``lease_id``: the
    lease holding them (None in rate-limit mode, or when no limit applied).
    ``limits``: the named limits that exist (``id``, ``name``, ``limit``,
    ``active``, ``slot_decay_per_second``, ``active_slots`` after this call).
    ``missing``: the names no limit has. When refused: ``refused_by`` is the
    first full limit and ``retry_after_seconds`` a hint of when to try again.
    """

    granted: bool
    lease_id: str | None = None
    limits: list[Row] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    refused_by: str | None = None
    retry_after_seconds: float | None = None


# -- validation ----------------------------------------------------------------


def validate_lease_seconds(value: Any) -> float:
    """``value`` as a lease duration in seconds, > 0 and at most a day."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParameterError(
            f"A lease duration is a number of seconds, got {value!r}. Pass e.g. 30."
        )
    if not 0 < value <= MAX_LEASE_SECONDS:
        raise ParameterError(
            f"A lease duration must be > 0 and at most {MAX_LEASE_SECONDS:.0f} seconds, "
            f"got {value}. The holder renews its lease well before it runs out."
        )
    return float(value)


def check_names(names: Sequence[str] | str) -> list[str]:
    if isinstance(names, str):
        names = [names]
    if not names:
        raise ParameterError(
            "No concurrency limit names given. Pass one or more, e.g. ['database']."
        )
    return sorted({limits_service.validate_limit_name(name) for name in names})


def check_mode(mode: str) -> AcquireMode:
    if mode not in ACQUIRE_MODES:
        raise ParameterError(
            f"Unknown acquire mode {mode!r}. Choose 'concurrency' or 'rate_limit'."
        )
    return "rate_limit" if mode == "rate_limit" else "concurrency"


def check_holder(holder: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if holder is None:
        return None
    if not isinstance(holder, Mapping) or not all(isinstance(key, str) for key in holder):
        raise ParameterError(
            f"A lease holder is a dict with string keys, got {holder!r}. "
            "Pass e.g. {'pid': 123, 'hostname': 'worker-1'}."
        )
    try:
        encoded = json.dumps(dict(holder), separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"A lease holder must be JSON: {exc}.") from None
    if len(encoded) > MAX_HOLDER_LENGTH:
        raise ParameterError(
            f"A lease holder is {len(encoded):,} characters as JSON; the limit is "
            f"{MAX_HOLDER_LENGTH:,}. Describe the holder briefly (pid, host, run ids)."
        )
    return dict(holder)


def check_fits(rows: list[Row], slots: int, mode: AcquireMode) -> None:
    """Refuse what could never be granted: more slots than a limit, a rate without decay."""
    for row in rows:
        if slots > row["limit"]:
            raise ParameterError(
                f"Cannot occupy {slots} slots of concurrency limit {row['name']!r}: it has "
                f"only {row['limit']}, so the call would wait forever. Occupy at most "
                f"{row['limit']}, or raise the limit (`legato global-concurrency-limit update "
                f"{row['name']!r} --limit {slots}`)."
            )
        if mode == "rate_limit" and row["slot_decay_per_second"] <= 0:
            raise ParameterError(
                f"Concurrency limit {row['name']!r} has no slot decay, so rate_limit would "
                "take its slots for good. Give it one (`legato global-concurrency-limit "
                f"update {row['name']!r} --slot-decay-per-second 1`), or use concurrency()."
            )


# -- statements ----------------------------------------------------------------
# Built once: constructing a statement costs more than running it, and acquire
# and release are hot paths (an uncontended round trip is a few hundred µs).

_NOW = sa.bindparam("now", type_=Timestamp())

_LOCK_LIMITS = InStatement.build(
    "names",
    lambda matches: (
        sa.select(limits).where(matches(limits.c.name)).order_by(limits.c.id).with_for_update()
    ),
)
_EXPIRED_LEASES = (
    sa.select(leases.c.id)
    .where(leases.c.expiration <= _NOW)
    .order_by(leases.c.id)
    .limit(COLLECT_AT_ONCE)
    .with_for_update(skip_locked=True)
)
_DELETE_HOLDS_OF_LEASES = sa.delete(lease_limits).where(
    lease_limits.c.lease_id.in_(sa.bindparam("lease_ids", expanding=True))
)
_DELETE_LEASES = sa.delete(leases).where(leases.c.id.in_(sa.bindparam("lease_ids", expanding=True)))
_DENY = (
    sa.update(limits)
    .where(limits.c.id == sa.bindparam("limit_id"))
    .values(denied_slots=limits.c.denied_slots + sa.bindparam("slots", type_=sa.Integer()))
)
_FILL_BUCKET = (
    sa.update(limits)
    .where(limits.c.id == sa.bindparam("limit_id"))
    .values(decayed_slots=sa.bindparam("filled"), decay_updated=sa.bindparam("at"))
)
_INSERT_LEASE = sa.insert(leases)
_INSERT_HOLD = sa.insert(lease_limits)
_LOCK_LEASE_LIMITS = (
    sa.select(limits.c.id)
    .join(lease_limits, lease_limits.c.limit_id == limits.c.id)
    .where(lease_limits.c.lease_id == sa.bindparam("lease_id"))
    .order_by(limits.c.id)
    .with_for_update(of=limits)
)
_RENEW = (
    sa.update(leases)
    .where(leases.c.id == sa.bindparam("lease_id"), leases.c.expiration > _NOW)
    .values(expiration=sa.bindparam("expiration"))
)
_DELETE_LEASE = (
    sa.delete(leases).where(leases.c.id == sa.bindparam("lease_id")).returning(leases.c.expiration)
)
_DELETE_HOLDS = sa.delete(lease_limits).where(lease_limits.c.lease_id == sa.bindparam("lease_id"))
_LEASE_AGES = (
    sa.select(leases.c.created)
    .join(lease_limits, lease_limits.c.lease_id == leases.c.id)
    .where(lease_limits.c.limit_id == sa.bindparam("limit_id"), leases.c.expiration > _NOW)
    .limit(AGES_SAMPLED)
)


# -- acquire -------------------------------------------------------------------


def _lock_limits(connection: Connection, names: list[str]) -> list[Row]:
    """The limit rows called ``names``, locked in id order on PostgreSQL."""
    return [dict(row) for row in _LOCK_LIMITS.execute(connection, names).mappings()]


def collect_expired_leases(connection: Connection, now: float) -> int:
    """Delete up to ``COLLECT_AT_ONCE`` expired leases (skipping ones another writer holds)."""
    expired = list(connection.execute(_EXPIRED_LEASES, {"now": now}).scalars())
    if expired:
        connection.execute(_DELETE_HOLDS_OF_LEASES, {"lease_ids": expired})
        connection.execute(_DELETE_LEASES, {"lease_ids": expired})
    return len(expired)


def acquire(
    connection: Connection,
    names: Sequence[str] | str,
    slots: int,
    *,
    mode: str = "concurrency",
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    holder: Mapping[str, Any] | None = None,
    now: float | None = None,
) -> Acquisition:
    """Take ``slots`` on every active limit in ``names``, or on none (see ``Acquisition``).

    ParameterError for what can never be granted: no names, a bad name,
    ``slots`` that is not an int >= 1 or exceeds a limit, ``rate_limit`` on a
    limit without slot decay, a bad lease duration or holder.
    """
    wanted = check_names(names)
    limits_service.validate_limit(slots, "slot count (occupy)")
    checked_mode = check_mode(mode)
    lease_seconds = validate_lease_seconds(lease_seconds)
    holder = check_holder(holder)
    rows = _lock_limits(connection, wanted)
    now = time.time() if now is None else now
    found = {row["name"] for row in rows}
    missing = [name for name in wanted if name not in found]
    applied = sorted((row for row in rows if row["active"]), key=lambda row: row["name"])
    check_fits(applied, slots, checked_mode)
    collect_expired_leases(connection, now)
    held = limits_service.lease_slots(connection, [row["id"] for row in rows], now)
    for row in rows:
        row["decayed_slots"] = limits_service.current_decayed_slots(row, now)
    full = first_full(applied, held, slots)
    if full is not None:
        return _refuse(connection, rows, held, full, slots, missing, now)
    lease_id = None
    if applied and checked_mode == "rate_limit":
        _fill_buckets(connection, applied, slots, now)
    elif applied:
        lease_id = _insert_lease(connection, applied, slots, now + lease_seconds, holder, now)
        for row in applied:
            held[row["id"]] += slots
    return Acquisition(True, lease_id, summaries(rows, held), missing)


def first_full(rows: list[Row], held: dict[str, int], slots: int) -> Row | None:
    """The first limit (by name) without room for ``slots`` more, None if all have room."""
    for row in rows:
        if held[row["id"]] + row["decayed_slots"] + slots > row["limit"] + _EPSILON:
            return row
    return None


def _refuse(
    connection: Connection,
    rows: list[Row],
    held: dict[str, int],
    full: Row,
    slots: int,
    missing: list[str],
    now: float,
) -> Acquisition:
    connection.execute(_DENY, {"limit_id": full["id"], "slots": slots})
    retry = _retry_after_seconds(connection, full, held[full["id"]], slots, now)
    return Acquisition(False, None, summaries(rows, held), missing, full["name"], retry)


def _retry_after_seconds(
    connection: Connection, row: Row, leased: int, slots: int, now: float
) -> float:
    """When the refused ``slots`` may fit: as slots drain for a rate, else as holders finish.

    Holders of a full limit hold their slots for about twice the mean age of
    their leases (the leases seen are half-way through, on average), so one
    slot comes free about every ``2 * mean age / limit`` seconds.
    """
    if not needs_lease_ages(row, leased, slots):
        return retry_estimate(row, leased, slots, [])
    created = connection.execute(_LEASE_AGES, {"limit_id": row["id"], "now": now}).scalars()
    return retry_estimate(row, leased, slots, [now - float(m.timestamp()) for m in created])


def needs_lease_ages(row: Row, leased: int, slots: int) -> bool:
    """Whether ``retry_estimate`` needs the ages of the limit's leases (it is not draining)."""
    return not (float(row["slot_decay_per_second"]) > 0 and leased + slots <= int(row["limit"]))


def retry_estimate(row: Row, leased: int, slots: int, ages: list[float]) -> float:
    """Seconds until refused ``slots`` may fit: as a rate drains, else from its leases' ``ages``."""
    decay = float(row["slot_decay_per_second"])
    size = int(row["limit"])
    if not needs_lease_ages(row, leased, slots):
        excess = leased + float(row["decayed_slots"]) + slots - size
        return max(MIN_RETRY_SECONDS, excess / decay)
    if not ages:
        return UNKNOWN_RETRY_SECONDS
    estimate = 2 * sum(ages) / len(ages) / size
    return min(MAX_RETRY_SECONDS, max(MIN_RETRY_SECONDS, estimate))


def _fill_buckets(connection: Connection, rows: list[Row], slots: int, now: float) -> None:
    updates = [
        {"limit_id": row["id"], "filled": row["decayed_slots"] + slots, "at": now} for row in rows
    ]
    connection.execute(_FILL_BUCKET, updates)
    for row in rows:
        row["decayed_slots"] += slots


def _insert_lease(
    connection: Connection,
    rows: list[Row],
    slots: int,
    expiration: float,
    holder: dict[str, Any] | None,
    now: float,
) -> str:
    lease_id = str(uuid.uuid4())
    connection.execute(
        _INSERT_LEASE,
        {
            "id": lease_id,
            "expiration": expiration,
            "slots": slots,
            "holder": holder,
            "created": now,
        },
    )
    connection.execute(
        _INSERT_HOLD, [{"lease_id": lease_id, "limit_id": row["id"]} for row in rows]
    )
    return lease_id


def summaries(rows: list[Row], held: dict[str, int]) -> list[Row]:
    """The named limits as ``Acquisition.limits`` reports them, by name."""
    return [
        {
            "id": row["id"],
            "name": row["name"],
            "limit": row["limit"],
            "active": row["active"],
            "slot_decay_per_second": row["slot_decay_per_second"],
            "active_slots": held[row["id"]] + math.ceil(row["decayed_slots"] - _EPSILON),
        }
        for row in sorted(rows, key=lambda row: row["name"])
    ]


# -- renew and release ---------------------------------------------------------


def _lock_lease_limits(connection: Connection, lease_id: str) -> list[str]:
    """The ids of the limits a lease holds, their rows locked (id order) on PostgreSQL."""
    return list(connection.execute(_LOCK_LEASE_LIMITS, {"lease_id": lease_id}).scalars())


def renew_lease(
    connection: Connection, lease_id: str, lease_seconds: float, now: float | None = None
) -> float:
    """Extend an unexpired lease to ``now + lease_seconds``; the new expiration (POSIX seconds).

    LeaseExpired when the lease expired, was released or is unknown: its slots
    may be someone else's by now.
    """
    lease_seconds = validate_lease_seconds(lease_seconds)
    canonical = canonical_uuid(lease_id)
    if canonical is None:
        raise LeaseExpired(lease_id)
    _lock_lease_limits(connection, canonical)
    now = time.time() if now is None else now
    expiration = now + lease_seconds
    result = connection.execute(
        _RENEW, {"lease_id": canonical, "now": now, "expiration": expiration}
    )
    if not result.rowcount:
        raise LeaseExpired(lease_id)
    return expiration


def release_lease(connection: Connection, lease_id: str, now: float | None = None) -> bool:
    """Give back a lease's slots; False (not an error) if it expired, was released or is unknown.

    Takes no lock on the limits: giving slots back can never let a limit
    overflow, so a release never waits for an acquire.
    """
    canonical = canonical_uuid(lease_id)
    if canonical is None:
        return False  # not an id: no lease has it
    expiration = connection.execute(_DELETE_LEASE, {"lease_id": canonical}).scalar()
    connection.execute(_DELETE_HOLDS, {"lease_id": canonical})
    now = time.time() if now is None else now
    return expiration is not None and expiration.timestamp() > now


# -- reads ---------------------------------------------------------------------


def read_leases(
    connection: Connection, name: str | None = None, now: float | None = None
) -> list[Row]:
    """Unexpired leases, oldest first (of the limit ``name`` only, if given).

    Each row: ``id``, ``slots``, ``expiration``, ``holder``, ``created`` and
    ``limit_names`` (the names of the limits it holds, sorted).
    """
    now = time.time() if now is None else now
    statement = sa.select(leases).where(leases.c.expiration > bind_time(now))
    if name is not None:
        of_limit = (
            sa.select(lease_limits.c.lease_id)
            .join(limits, limits.c.id == lease_limits.c.limit_id)
            .where(limits.c.name == name)
        )
        statement = statement.where(leases.c.id.in_(of_limit))
    rows = fetch_all(connection, statement.order_by(leases.c.created, leases.c.id))
    names = _limit_names(connection, [row["id"] for row in rows])
    for row in rows:
        row["limit_names"] = sorted(names.get(row["id"], []))
    return rows


def _limit_names(connection: Connection, lease_ids: list[str]) -> dict[str, list[str]]:
    if not lease_ids:
        return {}
    statement = (
        sa.select(lease_limits.c.lease_id, limits.c.name)
        .join(limits, limits.c.id == lease_limits.c.limit_id)
        .where(lease_limits.c.lease_id.in_(lease_ids))
    )
    names: dict[str, list[str]] = {}
    for lease_id, name in connection.execute(statement):
        names.setdefault(lease_id, []).append(name)
    return names
