"""Flow run inputs, resuming and cancelling flow runs, for ``EmbeddedClient``.

A mixin ``EmbeddedClient`` inherits: each method calls the orchestration
service in one read or write transaction of the client's store, as the REST
routes of ``legato.server.api.flow_run_inputs`` do.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from legato.exceptions import ObjectNotFound

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from legato.client.schemas.objects import OrchestrationResult

__all__ = ["EmbeddedFlowRunInputs"]

T = TypeVar("T")


class EmbeddedFlowRunInputs:
    """``create/read/delete_flow_run_input``, ``resume_flow_run`` and ``cancel_flow_run``."""

    if TYPE_CHECKING:

        def _read(self, query: Callable[[Connection], T], write: bool = False) -> T: ...

    def create_flow_run_input(
        self, flow_run_id: Any, key: str, value: Any, sender: str | None = None
    ) -> None:
        """Store ``value`` (JSON) under ``key`` for a flow run.

        Raises ObjectNotFound for an unknown run, ObjectAlreadyExists when the
        key is taken, ParameterError for a key that cannot name an input.
        """
        from legato.orchestration import flow_run_inputs

        run_id = _run_id(flow_run_id)
        self._read(
            lambda c: flow_run_inputs.create_flow_run_input(c, run_id, key, value, sender),
            write=True,
        )

    def read_flow_run_input(self, flow_run_id: Any, key: str) -> Any:
        """The value stored under ``key`` for a flow run; raises ObjectNotFound."""
        from legato.orchestration import flow_run_inputs

        run_id = _run_id(flow_run_id)
        row = self._read(lambda c: flow_run_inputs.read_flow_run_input(c, run_id, key))
        if row is None:
            raise flow_run_inputs.input_not_found(flow_run_id, key)
        return row["value"]

    def delete_flow_run_input(self, flow_run_id: Any, key: str) -> None:
        """Delete the input under ``key``; raises ObjectNotFound when there is none."""
        from legato.orchestration import flow_run_inputs

        run_id = _run_id(flow_run_id)
        deleted = self._read(
            lambda c: flow_run_inputs.delete_flow_run_input(c, run_id, key), write=True
        )
        if not deleted:
            raise flow_run_inputs.input_not_found(flow_run_id, key)

    def resume_flow_run(
        self, flow_run_id: Any, run_input: dict[str, Any] | None = None
    ) -> OrchestrationResult:
        """Resume a paused flow run, with the input it waits for (if any).

        Raises NotPausedError for a run that is not paused and ParameterError
        (naming the fields) for input that does not fit; a pause past its
        timeout fails the run and answers REJECT with the Failed state.
        """
        from legato.orchestration import flow_run_inputs, states

        run_id = _run_id(flow_run_id)
        change = self._read(
            lambda c: flow_run_inputs.resume_flow_run(c, run_id, run_input), write=True
        )
        return states.orchestration_result(change)

    def cancel_flow_run(self, flow_run_id: Any) -> OrchestrationResult:
        """Cancel a flow run: CANCELLED if nothing runs it yet, else CANCELLING.

        A finished run answers REJECT with the reason (legato's shorthand for
        the choice a caller would make with ``set_flow_run_state``).
        """
        from legato.orchestration import cancellation, states

        run_id = _run_id(flow_run_id)
        change = self._read(lambda c: cancellation.cancel_flow_run(c, run_id), write=True)
        return states.orchestration_result(change)


def _run_id(value: Any) -> uuid.UUID:
    """A flow run id as a UUID; ObjectNotFound for text that is not one."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        raise ObjectNotFound(f"No flow run with id {str(value)!r}: that is not a UUID.") from None
