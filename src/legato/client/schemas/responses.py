"""Response objects of the API that are not plain stored objects (``prefect.client.schemas.responses``)."""

from __future__ import annotations

from legato.client.schemas.concurrency import (
    ConcurrencyAcquisition,
    GlobalConcurrencyLimitResponse,
    MinimalConcurrencyLimitResponse,
)

__all__ = [
    "ConcurrencyAcquisition",
    "GlobalConcurrencyLimitResponse",
    "MinimalConcurrencyLimitResponse",
]
