"""The server's background services: small loops, each with its own interval.

``base.LoopService`` holds the loop, the back-off after a failure and the
shutdown; ``scheduler`` creates the runs of deployment schedules ahead of
time, ``late_runs`` marks scheduled runs that did not start in time Late,
``expired_pauses`` fails paused runs whose pause timed out.
"""

from __future__ import annotations

from legato.orchestration.store import Store
from legato.server.services.base import LoopService
from legato.server.services.expired_pauses import ExpiredPausesService
from legato.server.services.late_runs import LateRunsService
from legato.server.services.scheduler import SchedulerService
from legato.settings import Settings

__all__ = [
    "ExpiredPausesService",
    "LateRunsService",
    "LoopService",
    "SchedulerService",
    "enabled_services",
]


def enabled_services(store: Store, settings: Settings) -> list[LoopService]:
    """The services ``settings`` enable (``LEGATO_SERVER_SERVICES_*_ENABLED``), on ``store``."""
    options = settings.server.services
    services: list[LoopService] = []
    if options.scheduler.enabled:
        services.append(SchedulerService.from_settings(store, settings))
    if options.late_runs.enabled:
        services.append(LateRunsService.from_settings(store, settings))
    if options.expired_pauses.enabled:
        services.append(ExpiredPausesService.from_settings(store, settings))
    return services
