"""Schedule schemas under Prefect's path (``prefect.client.schemas.schedules``).

The same classes as ``legato.schedules``: ``CronSchedule is Cron``, and so on.
"""

from __future__ import annotations

from legato.schedules import (
    SCHEDULE_TYPES,
    CronSchedule,
    IntervalSchedule,
    RRuleSchedule,
    construct_schedule,
    is_schedule_type,
)

__all__ = [
    "SCHEDULE_TYPES",
    "CronSchedule",
    "IntervalSchedule",
    "RRuleSchedule",
    "construct_schedule",
    "is_schedule_type",
]
