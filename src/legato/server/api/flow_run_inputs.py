"""/api/flow_runs/{id}/input, /resume and /cancel: inputs sent to a flow run,
resuming a paused run, cancelling a run.

- ``POST /flow_runs/{id}/input`` (201; 409 when the key is taken, 404 for an
  unknown run, 422 for a bad key), ``GET`` and ``DELETE
  /flow_runs/{id}/input/{key}`` (404 when there is no such input);
- ``POST /flow_runs/{id}/resume`` with ``{"run_input": {...}}``: 201 and an
  ``OrchestrationResult`` when resumed; 200 with REJECT and the Failed state
  when the pause timed out; 409 when the run is not paused; 422 (naming the
  fields) when the input does not fit what the run waits for;
- ``POST /flow_runs/{id}/cancel``: 201 when the run moved to CANCELLING or
  CANCELLED, 200 with REJECT when it had finished (legato's own route).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from legato.client.schemas.actions import FlowRunInputCreate, ResumeFlowRun
from legato.client.schemas.objects import FlowRunInput, OrchestrationResult
from legato.orchestration import cancellation, flow_run_inputs, states
from legato.orchestration.states import StateChange
from legato.server.api._common import ACCEPTED, StoreDependency, not_found_response

router = APIRouter(prefix="/flow_runs", tags=["Flow run inputs"])

_RUN_NOT_FOUND = not_found_response("No flow run has this id")
_INPUT_NOT_FOUND = not_found_response("No input under this key for this flow run")


@router.post(
    "/{flow_run_id}/input",
    status_code=status.HTTP_201_CREATED,
    responses={**_RUN_NOT_FOUND, 409: {"description": "The key is taken"}},
)
def create_flow_run_input(
    flow_run_id: uuid.UUID, body: FlowRunInputCreate, store: StoreDependency
) -> None:
    """Store a JSON value under a key for a flow run."""
    store.write(
        lambda c: flow_run_inputs.create_flow_run_input(
            c, flow_run_id, body.key, body.value, body.sender
        )
    )


@router.get("/{flow_run_id}/input/{key}", responses=_INPUT_NOT_FOUND)
def read_flow_run_input(flow_run_id: uuid.UUID, key: str, store: StoreDependency) -> FlowRunInput:
    """The input under ``key`` (its ``value`` is the JSON sent)."""
    row = store.read(lambda c: flow_run_inputs.read_flow_run_input(c, flow_run_id, key))
    if row is None:
        raise flow_run_inputs.input_not_found(flow_run_id, key)
    return FlowRunInput.from_row(row)


@router.delete(
    "/{flow_run_id}/input/{key}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_INPUT_NOT_FOUND,
)
def delete_flow_run_input(flow_run_id: uuid.UUID, key: str, store: StoreDependency) -> None:
    """Delete the input under ``key``."""
    if not store.write(lambda c: flow_run_inputs.delete_flow_run_input(c, flow_run_id, key)):
        raise flow_run_inputs.input_not_found(flow_run_id, key)


@router.post(
    "/{flow_run_id}/resume",
    responses={
        **_RUN_NOT_FOUND,
        **ACCEPTED,
        409: {"description": "The run is not paused"},
    },
)
def resume_flow_run(
    flow_run_id: uuid.UUID,
    response: Response,
    store: StoreDependency,
    body: ResumeFlowRun | None = None,
) -> OrchestrationResult:
    """Resume a paused flow run, with the input it waits for (checked against its schema)."""
    run_input = None if body is None else body.run_input
    change = store.write(lambda c: flow_run_inputs.resume_flow_run(c, flow_run_id, run_input))
    return _answer(change, response)


@router.post("/{flow_run_id}/cancel", responses={**_RUN_NOT_FOUND, **ACCEPTED})
def cancel_flow_run(
    flow_run_id: uuid.UUID, response: Response, store: StoreDependency
) -> OrchestrationResult:
    """Cancel a flow run: CANCELLED if nothing runs it yet, else CANCELLING."""
    change = store.write(lambda c: cancellation.cancel_flow_run(c, flow_run_id))
    return _answer(change, response)


def _answer(change: StateChange, response: Response) -> OrchestrationResult:
    result = states.orchestration_result(change)
    if result.status.value == "ACCEPT":
        response.status_code = status.HTTP_201_CREATED
    return result
