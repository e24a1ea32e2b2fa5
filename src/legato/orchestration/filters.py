"""Filter models (``legato.client.schemas.filters``) as SQL conditions and sort orders.

Each ``*_conditions`` function turns one filter into a list of conditions
(empty: no filter); ``flow_run_where`` and ``task_run_where`` combine the
filters a read accepts (a flow run read may filter on its flow and on its
task runs, and so on). The dialect differences live in ``storage.dialect``:
whether a JSON list holds a value (``json_array_holds``) and names sorting in
code point order on both databases (``bytewise``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from legato.client.schemas import filters as f
from legato.client.schemas.sorting import FlowRunSort, FlowSort, LogSort, TaskRunSort
from legato.storage.dialect import bytewise, json_array_holds
from legato.storage.queries._common import is_in
from legato.storage.schema import flow_runs, flows, logs, task_runs
from legato.storage.types import to_datetime

Condition = sa.ColumnElement[bool]

__all__ = [
    "flow_conditions",
    "flow_order",
    "flow_run_conditions",
    "flow_run_order",
    "flow_run_where",
    "log_conditions",
    "log_order",
    "task_run_conditions",
    "task_run_order",
    "task_run_where",
]


def _combine(model: BaseModel, conditions: list[Condition]) -> list[Condition]:
    if not conditions:
        return []
    operator = getattr(model, "operator", f.Operator.and_)
    return [sa.or_(*conditions) if operator == f.Operator.or_ else sa.and_(*conditions)]


def _not_in(column: Any, values: Sequence[Any] | None) -> list[Condition]:
    if not values:
        return []
    return [sa.or_(column.is_(None), column.not_in(list(values)))]


def _like(column: Any, text: str | None) -> list[Condition]:
    if text is None:
        return []
    return [sa.func.lower(column).contains(text.lower(), autoescape=True)]


def _is_null(column: Any, is_null: bool | None) -> list[Condition]:
    if is_null is None:
        return []
    return [column.is_(None) if is_null else column.is_not(None)]


def _time(column: Any, model: Any) -> list[Condition]:
    if model is None:
        return []
    conditions = []
    if model.before_ is not None:
        conditions.append(column <= model.before_)
    if model.after_ is not None:
        conditions.append(column >= model.after_)
    return conditions + _is_null(column, getattr(model, "is_null_", None))


def _tags(column: Any, model: Any) -> list[Condition]:
    if model is None:
        return []
    conditions: list[Condition] = []
    if model.all_:
        conditions.append(sa.and_(*(json_array_holds(column, t) for t in model.all_)))
    if getattr(model, "any_", None):
        conditions.append(sa.or_(*(json_array_holds(column, t) for t in model.any_)))
    if model.is_null_ is not None:
        conditions.append((column == []) if model.is_null_ else (column != []))
    return _combine(model, conditions)


def _state(type_column: Any, name_column: Any, model: Any) -> list[Condition]:
    if model is None:
        return []
    conditions: list[Condition] = []
    if model.type is not None:
        conditions += is_in(type_column, model.type.any_)
        conditions += _not_in(type_column, getattr(model.type, "not_any_", None))
    if model.name is not None:
        conditions += is_in(name_column, model.name.any_)
        conditions += _not_in(name_column, getattr(model.name, "not_any_", None))
    return _combine(model, conditions)


def flow_conditions(model: f.FlowFilter | None) -> list[Condition]:
    """Conditions on ``flows``."""
    if model is None:
        return []
    conditions: list[Condition] = []
    if model.id is not None:
        conditions += is_in(flows.c.id, model.id.any_)
    if model.name is not None:
        conditions += is_in(flows.c.name, model.name.any_) + _like(flows.c.name, model.name.like_)
    if model.tags is not None and (model.tags.all_ or model.tags.is_null_ is False):
        # Flows carry no tags in legato's store: a filter requiring tags matches none.
        conditions.append(sa.false())
    return _combine(model, conditions)


def flow_run_conditions(model: f.FlowRunFilter | None) -> list[Condition]:
    """Conditions on ``flow_runs``."""
    if model is None:
        return []
    c = flow_runs.c
    conditions: list[Condition] = []
    if model.id is not None:
        conditions += is_in(c.id, model.id.any_) + _not_in(c.id, model.id.not_any_)
    if model.name is not None:
        conditions += is_in(c.name, model.name.any_) + _like(c.name, model.name.like_)
    conditions += _tags(c.tags, model.tags)
    conditions += _state(c.state_type, c.state_name, model.state)
    if model.flow_version is not None:
        conditions += is_in(c.flow_version, model.flow_version.any_)
    conditions += _time(c.start_time, model.start_time)
    conditions += _time(c.end_time, model.end_time)
    conditions += _time(c.expected_start_time, model.expected_start_time)
    if model.parent_flow_run_id is not None:
        conditions += is_in(c.parent_flow_run_id, model.parent_flow_run_id.any_)
    if model.parent_task_run_id is not None:
        parent = model.parent_task_run_id
        conditions += is_in(c.parent_task_run_id, parent.any_)
        conditions += _is_null(c.parent_task_run_id, parent.is_null_)
    return _combine(model, conditions + _flow_run_placement(model))


def _flow_run_placement(model: f.FlowRunFilter) -> list[Condition]:
    """Conditions on a flow run's deployment, work pool, queue and idempotency key."""
    c = flow_runs.c
    conditions: list[Condition] = []
    if model.deployment_id is not None:
        deployment = model.deployment_id
        conditions += _combine(
            deployment,
            is_in(c.deployment_id, deployment.any_)
            + _is_null(c.deployment_id, deployment.is_null_),
        )
    if model.work_pool_name is not None:
        conditions += is_in(c.work_pool_name, model.work_pool_name.any_)
    if model.work_queue_name is not None:
        queue = model.work_queue_name
        conditions += _combine(
            queue,
            is_in(c.work_queue_name, queue.any_) + _is_null(c.work_queue_name, queue.is_null_),
        )
    if model.idempotency_key is not None:
        key = model.idempotency_key
        conditions += is_in(c.idempotency_key, key.any_) + _not_in(c.idempotency_key, key.not_any_)
    return conditions


def task_run_conditions(model: f.TaskRunFilter | None) -> list[Condition]:
    """Conditions on ``task_runs``."""
    if model is None:
        return []
    c = task_runs.c
    conditions: list[Condition] = []
    if model.id is not None:
        conditions += is_in(c.id, model.id.any_)
    if model.name is not None:
        conditions += is_in(c.name, model.name.any_) + _like(c.name, model.name.like_)
    conditions += _tags(c.tags, model.tags)
    conditions += _state(c.state_type, c.state_name, model.state)
    conditions += _time(c.start_time, model.start_time)
    conditions += _time(c.expected_start_time, model.expected_start_time)
    if model.subflow_runs is not None and model.subflow_runs.exists_ is not None:
        has_subflow = sa.exists().where(flow_runs.c.parent_task_run_id == c.id)
        conditions.append(has_subflow if model.subflow_runs.exists_ else ~has_subflow)
    if model.flow_run_id is not None:
        conditions += is_in(c.flow_run_id, model.flow_run_id.any_)
        conditions += _is_null(c.flow_run_id, model.flow_run_id.is_null_)
    return _combine(model, conditions)


def log_conditions(model: f.LogFilter | None) -> list[Condition]:
    """Conditions on ``logs``."""
    if model is None:
        return []
    c = logs.c
    conditions: list[Condition] = []
    if model.timestamp is not None and model.timestamp.after_exclusive_ is not None:
        # Timestamp comparisons are to the microsecond on both databases (storage.types).
        conditions.append(c.timestamp > to_datetime(model.timestamp.after_exclusive_))
    if model.name is not None:
        conditions += is_in(c.name, model.name.any_)
    if model.level is not None:
        if model.level.ge_ is not None:
            conditions.append(c.level >= model.level.ge_)
        if model.level.le_ is not None:
            conditions.append(c.level <= model.level.le_)
    conditions += _time(c.timestamp, model.timestamp)
    if model.flow_run_id is not None:
        conditions += is_in(c.flow_run_id, model.flow_run_id.any_)
    if model.task_run_id is not None:
        conditions += is_in(c.task_run_id, model.task_run_id.any_)
        conditions += _is_null(c.task_run_id, model.task_run_id.is_null_)
    return _combine(model, conditions)


def flow_run_where(
    flow_filter: f.FlowFilter | None,
    flow_run_filter: f.FlowRunFilter | None,
    task_run_filter: f.TaskRunFilter | None,
) -> list[Condition]:
    """Conditions for a read of flow runs joined to their flows."""
    conditions = flow_conditions(flow_filter) + flow_run_conditions(flow_run_filter)
    task_conditions = task_run_conditions(task_run_filter)
    if task_conditions:
        matching = sa.select(task_runs.c.flow_run_id).where(*task_conditions)
        conditions.append(flow_runs.c.id.in_(matching))
    return conditions


def task_run_where(
    flow_filter: f.FlowFilter | None,
    flow_run_filter: f.FlowRunFilter | None,
    task_run_filter: f.TaskRunFilter | None,
) -> list[Condition]:
    """Conditions for a read of task runs."""
    conditions = task_run_conditions(task_run_filter)
    run_conditions = flow_run_conditions(flow_run_filter)
    flow_only = flow_conditions(flow_filter)
    if run_conditions or flow_only:
        matching = (
            sa.select(flow_runs.c.id)
            .select_from(flow_runs.outerjoin(flows, flows.c.id == flow_runs.c.flow_id))
            .where(*run_conditions, *flow_only)
        )
        conditions.append(task_runs.c.flow_run_id.in_(matching))
    return conditions


def _then_id(columns: list[Any], id_column: Any) -> list[Any]:
    return [*columns, id_column.desc()]


def flow_order(sort: FlowSort | None) -> list[Any]:
    """ORDER BY for flows; default: newest first."""
    c = flows.c
    orders = {
        FlowSort.CREATED_DESC: [c.created.desc()],
        FlowSort.UPDATED_DESC: [c.updated.desc()],
        FlowSort.NAME_ASC: [bytewise(c.name).asc()],
        FlowSort.NAME_DESC: [bytewise(c.name).desc()],
    }
    return _then_id(orders[sort or FlowSort.CREATED_DESC], c.id)


def _run_orders(c: Any) -> dict[str, list[Any]]:
    start = sa.func.coalesce(c.start_time, c.expected_start_time)
    return {
        "ID_DESC": [],
        "CREATED_DESC": [c.created.desc()],
        "START_TIME_ASC": [start.asc().nulls_last()],
        "START_TIME_DESC": [start.desc().nulls_last()],
        "EXPECTED_START_TIME_ASC": [c.expected_start_time.asc().nulls_last()],
        "EXPECTED_START_TIME_DESC": [c.expected_start_time.desc().nulls_last()],
        "NAME_ASC": [bytewise(c.name).asc()],
        "NAME_DESC": [bytewise(c.name).desc()],
        "END_TIME_DESC": [c.end_time.desc().nulls_last()],
    }


def flow_run_order(sort: FlowRunSort | None) -> list[Any]:
    """ORDER BY for flow runs; default: newest first (``CREATED_DESC``)."""
    key = (sort or FlowRunSort.CREATED_DESC).value
    return _then_id(_run_orders(flow_runs.c)[key], flow_runs.c.id)


def task_run_order(sort: TaskRunSort | None) -> list[Any]:
    """ORDER BY for task runs; default: newest first (``CREATED_DESC``)."""
    key = (sort or TaskRunSort.CREATED_DESC).value
    return _then_id(_run_orders(task_runs.c)[key], task_runs.c.id)


def log_order(sort: LogSort | None) -> list[Any]:
    """ORDER BY for logs; default: oldest first."""
    c = logs.c
    if sort is LogSort.TIMESTAMP_DESC:
        return [c.timestamp.desc(), c.id.desc()]
    return [c.timestamp.asc(), c.id.asc()]
