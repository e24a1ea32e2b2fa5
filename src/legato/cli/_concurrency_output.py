"""What the two concurrency-limit command groups print alike: the leases that hold slots."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from legato.client.schemas.concurrency import ConcurrencyLease

__all__ = ["describe_holder", "expires_in", "lease_rows", "print_leases"]

_HOLDER_LABELS = (
    ("pid", "pid {}"),
    ("hostname", "on {}"),
    ("flow_run_id", "flow run {}"),
    ("task_run_id", "task run {}"),
)


def describe_holder(holder: dict[str, Any] | None) -> str:
    """A lease's holder for people: ``pid 12 on host-1, task run <id>`` and any other keys."""
    if not holder:
        return "(unknown)"
    known = [label.format(holder[key]) for key, label in _HOLDER_LABELS if holder.get(key)]
    who = " ".join(known[:2]) if known[:2] else ""
    parts = [who] if who else []
    parts += known[2:]
    labels = {key for key, _ in _HOLDER_LABELS}
    parts += [f"{key}={value}" for key, value in holder.items() if key not in labels]
    return ", ".join(parts) or "(unknown)"


def expires_in(expiration: datetime, now: datetime | None = None) -> str:
    """``in 12.3s`` (or ``expired``) until ``expiration``."""
    from legato.cli._output import format_duration

    left = (expiration - (now or datetime.now(UTC))).total_seconds()
    return f"in {format_duration(left)}" if left > 0 else "expired"


def lease_rows(leases: Sequence[ConcurrencyLease]) -> list[dict[str, Any]]:
    """Leases as JSON-ready rows."""
    return [lease.model_dump(mode="json") for lease in leases]


def print_leases(leases: Sequence[ConcurrencyLease], *, empty: str) -> None:
    """A table of who holds what: holder, slots, limits, since, expiry (``-o json``: lease ids)."""
    from legato.cli import _output

    now = datetime.now(UTC)
    columns: list[_output.Column] = [
        ("Holder", lambda row: describe_holder(row["holder"])),
        ("Slots", _output.key("slots")),
        ("Limits", lambda row: ", ".join(row["limit_names"])),
        ("Since (UTC)", _output.key("created")),
        ("Expires", lambda row: expires_in(row["expiration"], now)),
    ]
    rows = [lease.model_dump() for lease in leases]
    _output.print_table("Leases", columns, rows, empty=empty)
