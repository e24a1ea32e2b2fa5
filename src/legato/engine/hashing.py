"""Stable hashes of Python values, for cache keys."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def hash_objects(*objects: Any) -> str | None:
    """A hex digest of ``objects``: JSON when possible, else cloudpickle; None if neither works.

    No lossy fallback (such as ``str``): two different values must never share a key.
    """
    try:
        payload = json.dumps(objects, sort_keys=True).encode()
    except (TypeError, ValueError):
        try:
            import cloudpickle

            payload = cloudpickle.dumps(objects)
        except Exception:
            return None
    return hashlib.blake2b(payload, digest_size=16).hexdigest()
