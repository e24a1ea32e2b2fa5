"""What both kinds of client do alike for concurrency limits: defaults, messages, conversions."""

from __future__ import annotations

import functools
import json
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from legato.exceptions import ObjectNotFound, ParameterError

if TYPE_CHECKING:
    from legato.client.schemas.concurrency import GlobalConcurrencyLimitUpdate

__all__ = [
    "lease_holder",
    "lease_seconds",
    "limit_not_found",
    "names_list",
    "tag_not_found",
    "update_arguments",
]


@functools.cache
def _hostname() -> str:
    return socket.gethostname()


def lease_holder(holder: Mapping[str, Any] | None) -> dict[str, Any]:
    """``holder`` with UUID values as text, or this process (``pid``, ``hostname``) when None.

    ParameterError when it is not a JSON object (the same on every client).
    """
    if holder is None:
        return {"pid": os.getpid(), "hostname": _hostname()}
    if not isinstance(holder, Mapping):
        raise ParameterError(
            f"A lease holder is a dict, got {holder!r}. Pass e.g. {{'pid': 123, 'hostname': 'h'}}."
        )
    described = {
        key: str(value) if isinstance(value, uuid.UUID) else value for key, value in holder.items()
    }
    try:
        json.dumps(described, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"A lease holder must be JSON: {exc}.") from None
    return described


def lease_seconds(value: float | None) -> float:
    """``value``, or ``LEGATO_CONCURRENCY_LEASE_DURATION_SECONDS`` when None."""
    if value is not None:
        return value
    from legato.settings import get_current_settings

    return get_current_settings().concurrency.lease_duration_seconds


def names_list(names: Sequence[str] | str) -> list[str]:
    """One name or several, as a list."""
    return [names] if isinstance(names, str) else list(names)


def limit_not_found(name: str) -> ObjectNotFound:
    return ObjectNotFound(
        f"No concurrency limit named {name!r}. Create it with `legato "
        f"global-concurrency-limit create {name!r} --limit N`, or list the limits with "
        "`legato global-concurrency-limit ls`."
    )


def tag_not_found(tag: str) -> ObjectNotFound:
    return ObjectNotFound(
        f"No concurrency limit for tag {tag!r}. Create one with `legato concurrency-limit "
        f"create {tag!r} N`, or list them with `legato concurrency-limit ls`."
    )


def update_arguments(update: GlobalConcurrencyLimitUpdate) -> dict[str, Any]:
    """The keyword arguments of ``concurrency_limits.update_limit`` for the fields set (not None)."""
    fields = update.model_dump(exclude_unset=True, exclude_none=True)
    return {("new_name" if field == "name" else field): value for field, value in fields.items()}
