"""Domain errors as HTTP answers, in one place.

| Error | Status |
| --- | --- |
| ObjectNotFound | 404 |
| ObjectAlreadyExists, InvalidStateTransition | 409 |
| ParameterError, ValueError (bad input the models let through) | 422 |
| StorageError caused by rows the database refuses | 422 |

A 422 has FastAPI's shape, ``{"detail": [{"loc", "msg", "type"}]}``, whether
the request body failed its model or the service refused a value.
| StorageError (database unreachable, locked, ...) | 503 |
| RequestTooLarge (more items than a route takes at once) | 413 |

Every other answer is ``{"detail": "..."}``, the message naming the problem and the fix.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from legato.exceptions import (
    InvalidStateTransition,
    LegatoError,
    ObjectAlreadyExists,
    ObjectNotFound,
    ParameterError,
    StorageError,
)

__all__ = ["RequestTooLarge", "install_error_handlers"]

logger = logging.getLogger(__name__)

_REFUSED_DATA = ("IntegrityError", "DataError", "ProgrammingError")


class RequestTooLarge(LegatoError):
    """A request carries more items than the route takes at once (413)."""


def _detail(status: int, exc: BaseException) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=status)


def _unprocessable(exc: BaseException) -> JSONResponse:
    """A 422 in FastAPI's shape (the one the OpenAPI spec declares): a list of errors."""
    error = {"loc": ["body"], "msg": str(exc), "type": "value_error"}
    return JSONResponse({"detail": [error]}, status_code=422)


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return _detail(404, exc)


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    return _detail(409, exc)


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ValidationError):  # a model built on the server failed: a bug, not input
        logger.error(
            "Internal validation error on %s %s", request.method, request.url.path, exc_info=exc
        )
        return JSONResponse({"detail": "Internal server error"}, status_code=500)
    return _unprocessable(exc)


async def _too_large(request: Request, exc: Exception) -> JSONResponse:
    return _detail(413, exc)


async def _storage(request: Request, exc: Exception) -> JSONResponse:
    cause = exc.__cause__
    while cause is not None:
        if type(cause).__name__ in _REFUSED_DATA:
            return _unprocessable(exc)
        cause = cause.__cause__
    logger.error("Storage error on %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "1"})


def install_error_handlers(app: FastAPI) -> None:
    """Map legato's errors to statuses on ``app``."""
    app.add_exception_handler(ObjectNotFound, _not_found)
    app.add_exception_handler(ObjectAlreadyExists, _conflict)
    app.add_exception_handler(InvalidStateTransition, _conflict)
    app.add_exception_handler(ParameterError, _invalid)
    app.add_exception_handler(ValueError, _invalid)
    app.add_exception_handler(StorageError, _storage)
    app.add_exception_handler(RequestTooLarge, _too_large)
