"""``EmbeddedClient``'s deployment methods: a mixin over the client's store.

The same orchestration functions as the REST routes (``legato.orchestration.
deployments``, ``deployment_schedules``, ``deployment_runs``), each in one
transaction; the arguments are checked as the HTTP client checks them
(``_deployment_arguments``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from legato.exceptions import ObjectNotFound

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from legato.client._arguments import StateLike
    from legato.client.schemas import filters as f
    from legato.client.schemas.actions import DeploymentUpdate
    from legato.client.schemas.objects import Deployment, DeploymentSchedule, FlowRun

__all__ = ["DeploymentsMixin"]

T = TypeVar("T")


def _not_found(deployment_id: Any) -> ObjectNotFound:
    return ObjectNotFound(
        f"No deployment with id {str(deployment_id)!r} in this database. "
        "List them with `legato deployment ls`, or check LEGATO_HOME."
    )


class DeploymentsMixin:
    """Deployments, their schedules and their runs, on the embedded store."""

    if TYPE_CHECKING:

        def _read(self, query: Callable[[Connection], T], write: bool = False) -> T: ...

    def _deployment_id(self, deployment_id: Any) -> uuid.UUID:
        from legato.client import _deployment_arguments as args

        target = args.id_or_none(deployment_id)
        if target is None:
            raise _not_found(deployment_id)
        return target

    def create_deployment(
        self,
        flow_id: Any,
        name: str,
        version: str | None = None,
        description: str | None = None,
        tags: Iterable[str] | None = None,
        parameters: Mapping[str, Any] | None = None,
        parameter_openapi_schema: Mapping[str, Any] | None = None,
        enforce_parameter_schema: bool = True,
        entrypoint: str | None = None,
        path: str | None = None,
        pull_steps: Sequence[Mapping[str, Any]] | None = None,
        work_pool_name: str | None = None,
        work_queue_name: str | None = None,
        job_variables: Mapping[str, Any] | None = None,
        schedules: Iterable[Any] | None = None,
        paused: bool = False,
        concurrency_limit: int | None = None,
        concurrency_options: Any = None,
    ) -> uuid.UUID:
        """Create a deployment of the flow, or replace the one with this flow and name; its id.

        Raises ObjectNotFound for an unknown flow or work pool, ParameterError
        for parameters that do not fit ``parameter_openapi_schema``.
        """
        from legato.client import _deployment_arguments as args

        body = args.deployment_create(**_fields(locals()))
        from legato.orchestration import deployments

        row, _ = self._read(lambda c: deployments.create_deployment(c, body), write=True)
        return uuid.UUID(row["id"])

    def read_deployment(self, deployment_id: Any) -> Deployment:
        """One deployment with its schedules; raises ObjectNotFound."""
        from legato.client.schemas.objects import Deployment
        from legato.orchestration import deployments

        target = self._deployment_id(deployment_id)
        row = self._read(lambda c: deployments.read_deployment(c, target))
        if row is None:
            raise _not_found(deployment_id)
        return Deployment.from_row(row)

    def read_deployment_by_name(self, name: str) -> Deployment:
        """The deployment ``"flow-name/deployment-name"``; raises ObjectNotFound."""
        from legato.client import _deployment_arguments as args
        from legato.client.schemas.objects import Deployment
        from legato.orchestration import deployments

        flow_name, deployment_name = args.split_name(name)
        row = self._read(
            lambda c: deployments.read_deployment_by_name(c, flow_name, deployment_name)
        )
        if row is None:
            raise ObjectNotFound(
                f"No deployment named {name!r} in this database. "
                "List them with `legato deployment ls`, or check LEGATO_HOME."
            )
        return Deployment.from_row(row)

    def read_deployments(
        self,
        *,
        flow_filter: f.FlowFilter | Mapping[str, Any] | None = None,
        deployment_filter: f.DeploymentFilter | Mapping[str, Any] | None = None,
        sort: f.DeploymentSort | None = None,
        limit: int | None = None,
        offset: int = 0,
        flow_name: str | None = None,
        work_pool_name: str | None = None,
    ) -> list[Deployment]:
        """Deployments by name (``sort`` otherwise); ``flow_name``, ``work_pool_name``: exact."""
        from legato.client import _deployment_arguments as args
        from legato.client.schemas.objects import Deployment
        from legato.orchestration import deployments

        flows, chosen = args.deployment_filters(
            flow_filter, deployment_filter, flow_name=flow_name, work_pool_name=work_pool_name
        )
        rows = self._read(
            lambda c: deployments.filter_deployments(
                c,
                flow_filter=flows,
                deployment_filter=chosen,
                sort=sort,
                limit=200 if limit is None else limit,
                offset=offset,
            )
        )
        return [Deployment.from_row(row) for row in rows]

    def count_deployments(
        self,
        *,
        flow_filter: f.FlowFilter | Mapping[str, Any] | None = None,
        deployment_filter: f.DeploymentFilter | Mapping[str, Any] | None = None,
        flow_name: str | None = None,
        work_pool_name: str | None = None,
    ) -> int:
        """How many deployments match."""
        from legato.client import _deployment_arguments as args
        from legato.orchestration import deployments

        flows, chosen = args.deployment_filters(
            flow_filter, deployment_filter, flow_name=flow_name, work_pool_name=work_pool_name
        )
        return self._read(
            lambda c: deployments.count_deployments(c, flow_filter=flows, deployment_filter=chosen)
        )

    def get_scheduled_flow_runs_for_deployments(
        self,
        deployment_ids: Sequence[uuid.UUID | str],
        scheduled_before: dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[FlowRun]:
        """The Scheduled runs of these deployments due by ``scheduled_before``, earliest first
        (at most ``limit``); marks the deployments polled (READY), as a serve process's poll."""
        from legato.client import _deployment_arguments as args
        from legato.client.schemas.objects import FlowRun
        from legato.orchestration.deployment_concurrency import (
            get_scheduled_flow_runs_for_deployments,
        )

        ids = [str(value) for value in args.deployment_ids(deployment_ids)]
        count = args.poll_limit(limit)
        rows = self._read(
            lambda c: get_scheduled_flow_runs_for_deployments(c, ids, scheduled_before, count),
            write=True,
        )
        return [FlowRun.from_row(row) for row in rows]

    def update_deployment(
        self, deployment_id: Any, deployment: DeploymentUpdate | Mapping[str, Any]
    ) -> None:
        """Change a deployment (unset fields keep theirs); raises ObjectNotFound."""
        from legato.client import _deployment_arguments as args
        from legato.orchestration import deployments

        target = self._deployment_id(deployment_id)
        update = args.deployment_update(deployment)
        if not self._read(lambda c: deployments.update_deployment(c, target, update), write=True):
            raise _not_found(deployment_id)

    def delete_deployment(self, deployment_id: Any) -> None:
        """Delete a deployment with its schedules and runs not started; raises ObjectNotFound."""
        from legato.orchestration import deployments

        target = self._deployment_id(deployment_id)
        if not self._read(lambda c: deployments.delete_deployment(c, target), write=True):
            raise _not_found(deployment_id)

    def _set_paused(self, deployment_id: Any, paused: bool) -> None:
        from legato.orchestration import deployments

        target = self._deployment_id(deployment_id)
        if not self._read(
            lambda c: deployments.set_deployment_paused(c, target, paused), write=True
        ):
            raise _not_found(deployment_id)

    def pause_deployment(self, deployment_id: Any) -> None:
        """Pause a deployment (its auto-scheduled runs not started go); raises ObjectNotFound."""
        self._set_paused(deployment_id, True)

    def resume_deployment(self, deployment_id: Any) -> None:
        """Resume a paused deployment; raises ObjectNotFound."""
        self._set_paused(deployment_id, False)

    def create_deployment_schedules(
        self, deployment_id: Any, schedules: Iterable[Any]
    ) -> list[DeploymentSchedule]:
        """Add schedules to a deployment; the new ones. Raises ObjectNotFound."""
        from legato.client import _deployment_arguments as args
        from legato.client.schemas.objects import DeploymentSchedule
        from legato.orchestration import deployment_schedules

        target = self._deployment_id(deployment_id)
        creates = args.schedule_creates(schedules) or []
        rows = self._read(
            lambda c: deployment_schedules.create_deployment_schedules(c, target, creates),
            write=True,
        )
        if rows is None:
            raise _not_found(deployment_id)
        return [DeploymentSchedule.from_row(row) for row in rows]

    def read_deployment_schedules(self, deployment_id: Any) -> list[DeploymentSchedule]:
        """A deployment's schedules, oldest first; raises ObjectNotFound."""
        from legato.client.schemas.objects import DeploymentSchedule
        from legato.orchestration import deployment_schedules

        target = self._deployment_id(deployment_id)
        rows = self._read(lambda c: deployment_schedules.read_deployment_schedules(c, target))
        if rows is None:
            raise _not_found(deployment_id)
        return [DeploymentSchedule.from_row(row) for row in rows]

    def update_deployment_schedule(
        self,
        deployment_id: Any,
        schedule_id: Any,
        active: bool | None = None,
        schedule: Any = None,
    ) -> None:
        """Change a schedule's active flag and/or the schedule; raises ObjectNotFound."""
        from legato.client import _deployment_arguments as args
        from legato.orchestration import deployment_schedules

        target = self._deployment_id(deployment_id)
        schedule_target = args.id_or_none(schedule_id)
        update = args.schedule_update(active, schedule)
        if schedule_target is None or not self._read(
            lambda c: deployment_schedules.update_deployment_schedule(
                c, target, schedule_target, update
            ),
            write=True,
        ):
            raise _schedule_not_found(deployment_id, schedule_id)

    def delete_deployment_schedule(self, deployment_id: Any, schedule_id: Any) -> None:
        """Delete a schedule (and the runs it made not started); raises ObjectNotFound."""
        from legato.client import _deployment_arguments as args
        from legato.orchestration import deployment_schedules

        target = self._deployment_id(deployment_id)
        schedule_target = args.id_or_none(schedule_id)
        if schedule_target is None or not self._read(
            lambda c: deployment_schedules.delete_deployment_schedule(c, target, schedule_target),
            write=True,
        ):
            raise _schedule_not_found(deployment_id, schedule_id)

    def create_flow_run_from_deployment(
        self,
        deployment_id: Any,
        *,
        parameters: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        state: StateLike | None = None,
        name: str | None = None,
        tags: Iterable[str] | None = None,
        idempotency_key: str | None = None,
        parent_task_run_id: Any = None,
        work_queue_name: str | None = None,
        job_variables: Mapping[str, Any] | None = None,
    ) -> FlowRun:
        """A run of the deployment, Scheduled now unless ``state`` says otherwise.

        The same ``idempotency_key`` twice gives the same run. Raises
        ObjectNotFound, and ParameterError for parameters that do not fit.
        """
        from legato.client import _deployment_arguments as args
        from legato.client.schemas.objects import FlowRun
        from legato.orchestration import deployment_runs

        target = self._deployment_id(deployment_id)
        body = args.flow_run_create(
            parameters=parameters,
            context=context,
            state=state,
            name=name,
            tags=tags,
            idempotency_key=idempotency_key,
            parent_task_run_id=parent_task_run_id,
            work_queue_name=work_queue_name,
            job_variables=job_variables,
        )
        row = self._read(
            lambda c: deployment_runs.create_flow_run_from_deployment(c, target, body), write=True
        )
        if row is None:
            raise _not_found(deployment_id)
        return FlowRun.from_row(row)


def _fields(arguments: dict[str, Any]) -> dict[str, Any]:
    """A method's ``locals()`` without ``self`` (the keyword arguments of a body builder)."""
    return {key: value for key, value in arguments.items() if key != "self"}


def _schedule_not_found(deployment_id: Any, schedule_id: Any) -> ObjectNotFound:
    return ObjectNotFound(
        f"No schedule with id {str(schedule_id)!r} on deployment {str(deployment_id)!r}. "
        "List its schedules with `legato deployment schedule ls`."
    )
