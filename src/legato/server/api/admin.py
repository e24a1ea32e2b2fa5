"""Liveness, readiness, version and settings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from legato.server import database
from legato.server.api._common import SettingsDependency, StoreDependency
from legato.settings import SETTINGS

router = APIRouter(tags=["Admin"])

# Settings whose values never leave the server.
SECRET_SETTINGS = frozenset({"LEGATO_API_AUTH_STRING", "LEGATO_SERVER_API_AUTH_STRING"})
MASK = "********"


@router.get("/health")
def health() -> bool:
    """Liveness: the process answers (no database access, no auth)."""
    return True


@router.get(
    "/ready", responses={503: {"description": "The database is unreachable or not at head"}}
)
def ready(store: StoreDependency) -> JSONResponse:
    """Readiness: the database answers and its schema is at this legato's head."""
    head = database.head_revision()
    try:
        revision = database.schema_revision(store)
    except Exception as exc:
        return JSONResponse({"ready": False, "detail": f"Database unreachable: {exc}"}, 503)
    if revision != head:
        detail = (
            f"The database schema is at revision {revision!r}, not {head!r}. "
            "Run `legato server database upgrade`."
        )
        return JSONResponse({"ready": False, "detail": detail}, 503)
    return JSONResponse({"ready": True, "revision": revision})


@router.get("/admin/version")
def version() -> str:
    """The server's legato version."""
    from legato import __version__

    return __version__


@router.get("/admin/settings")
def settings(current: SettingsDependency) -> dict[str, Any]:
    """The server's settings, secrets and database passwords masked."""
    return {name: _shown(name, spec.get(current)) for name, spec in SETTINGS.items()}


def _shown(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in SECRET_SETTINGS:
        return MASK
    if name == "LEGATO_DATABASE_URL":
        from legato.storage.engine import describe_url

        return describe_url(value)
    return value if isinstance(value, bool | int | float | str) else str(value)
