"""/api/logs: write a list of lines (bounded), read them through a filter."""

from __future__ import annotations

from fastapi import APIRouter, status

from legato.client.schemas.actions import LogCreate
from legato.client.schemas.filters import LogFilter
from legato.client.schemas.objects import Log
from legato.client.schemas.sorting import LogSort
from legato.orchestration import logs
from legato.server.api._common import Body, Limit, Offset, SettingsDependency, StoreDependency
from legato.server.errors import RequestTooLarge

router = APIRouter(prefix="/logs", tags=["Logs"])


class LogFilterBody(Body):
    logs: LogFilter | None = None
    sort: LogSort | None = None
    limit: Limit = 200
    offset: Offset = 0


@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    responses={413: {"description": "More lines than LEGATO_SERVER_LOGS_MAX_BATCH_SIZE"}},
)
def create_logs(
    body: list[LogCreate], store: StoreDependency, settings: SettingsDependency
) -> None:
    """Write log lines; at most ``LEGATO_SERVER_LOGS_MAX_BATCH_SIZE`` per request."""
    limit = settings.server.logs.max_batch_size
    if len(body) > limit:
        detail = (
            f"{len(body)} log lines in one request; this server takes at most {limit} "
            "(LEGATO_SERVER_LOGS_MAX_BATCH_SIZE). Send them in smaller batches."
        )
        raise RequestTooLarge(detail)
    store.write(lambda c: logs.create_logs(c, body))


@router.post("/filter")
def read_logs(store: StoreDependency, body: LogFilterBody | None = None) -> list[Log]:
    """Log lines matching the filter, one page (default order: oldest first)."""
    body = body or LogFilterBody()
    rows = store.read(
        lambda c: logs.filter_logs(
            c, log_filter=body.logs, sort=body.sort, limit=body.limit, offset=body.offset
        )
    )
    return [Log.from_row(row) for row in rows]
