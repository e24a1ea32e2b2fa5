"""Cheap, time-ordered ids for runs, states and log lines.

Ids follow the UUIDv7 layout: 48 bits of milliseconds since the epoch, then
random bits from a per-process generator seeded from ``os.urandom`` (and
reseeded in forked children). Time order keeps the store's indexes appending
instead of scattering writes, and no system call is made per id.
"""

from __future__ import annotations

import os
import random
import time
import uuid

_random = random.Random(os.urandom(32))
_getrandbits = _random.getrandbits
_new_uuid = object.__new__
_set = object.__setattr__
_UUID = uuid.UUID
_UNKNOWN = uuid.SafeUUID.unknown
_VERSION_7 = 0x7 << 76
_VARIANT = 0x2 << 62
_RANDOM_A = (1 << 12) - 1
_RANDOM_B = (1 << 62) - 1


def _reseed() -> None:
    _random.seed(os.urandom(32))


os.register_at_fork(after_in_child=_reseed)


def new_id_int() -> int:
    """A 128-bit UUIDv7 value as an int."""
    bits = _getrandbits(74)
    return (
        (time.time_ns() // 1_000_000) << 80
        | _VERSION_7
        | (bits >> 62 & _RANDOM_A) << 64
        | _VARIANT
        | (bits & _RANDOM_B)
    )


def new_uuid() -> uuid.UUID:
    """A new time-ordered ``uuid.UUID``."""
    value = _new_uuid(_UUID)
    _set(value, "int", new_id_int())
    _set(value, "is_safe", _UNKNOWN)
    return value


def new_id_str() -> str:
    """A new time-ordered id in the canonical 8-4-4-4-12 text form."""
    text = f"{new_id_int():032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
