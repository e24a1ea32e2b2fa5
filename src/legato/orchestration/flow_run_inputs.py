"""Flow run inputs, and resuming a paused flow run.

An input is a JSON value sent to a flow run under a key (unique per run). A
run paused with ``wait_for_input`` stores the JSON schema of the input it
waits for under ``<state name>-<pause key>-schema`` and names its keys in its
Paused state's ``run_input_keyset``; ``resume_flow_run`` checks the input
against that schema, stores it under the ``response`` key and moves the run
on, all in the caller's write transaction:

- a blocking pause (``pause_flow_run``) goes back to RUNNING: its process,
  polling, carries on;
- a suspension (``suspend_flow_run``, ``pause_reschedule``) goes to SCHEDULED
  (named "Resuming"): a worker, or ``run_existing_flow_run``, starts the flow
  again from its beginning;
- a pause past its timeout is not resumed: the run is failed, with a message
  that says so, and the answer is a REJECT carrying that Failed state.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from legato.client.schemas.actions import StateCreate
from legato.client.schemas.objects import StateDetails
from legato.exceptions import NotPausedError, ObjectAlreadyExists, ObjectNotFound, ParameterError
from legato.orchestration import rules
from legato.orchestration._runs import new_id, now
from legato.orchestration.states import StateChange, current_state, set_run_state
from legato.states import StateType
from legato.storage.queries._common import Row, fetch_one
from legato.storage.schema import flow_run_inputs, flow_runs

__all__ = [
    "INPUT_KEY_PATTERN",
    "create_flow_run_input",
    "delete_flow_run_input",
    "fail_expired_pause",
    "input_not_found",
    "read_flow_run_input",
    "resume_flow_run",
    "validate_input_key",
    "validate_run_input",
]

INPUT_KEY_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,254}")
"""What an input key may hold: letters, digits, ``_``, ``.`` and ``-`` (a letter or digit
first, so it is a plain URL path segment), at most 255 characters."""

RESUME_SENDER: Final = "resume_flow_run"
"""The ``sender`` of the input a resume stores."""


def validate_input_key(key: Any) -> str:
    """``key`` if it can name an input; ParameterError naming the rule otherwise."""
    if not isinstance(key, str) or INPUT_KEY_PATTERN.fullmatch(key) is None:
        raise ParameterError(
            f"Flow run input key {key!r} is not valid: use 1 to 255 letters, digits, "
            "'_', '.' or '-', starting with a letter or digit (e.g. 'approval-response')."
        )
    return key


def _select(flow_run_id: Any, key: str) -> sa.Select[Any]:
    return sa.select(flow_run_inputs).where(
        flow_run_inputs.c.flow_run_id == flow_run_id, flow_run_inputs.c.key == key
    )


def _require_run(connection: Connection, flow_run_id: Any, lock: bool = False) -> Row:
    statement = sa.select(flow_runs).where(flow_runs.c.id == flow_run_id)
    run = fetch_one(connection, statement.with_for_update() if lock else statement)
    if run is None:
        raise ObjectNotFound(
            f"No flow run with id '{flow_run_id}'. List runs with `legato flow-run ls`."
        )
    return run


def create_flow_run_input(
    connection: Connection,
    flow_run_id: Any,
    key: str,
    value: Any,
    sender: str | None = None,
    *,
    overwrite: bool = False,
) -> Row:
    """Store ``value`` under ``key`` for a flow run; the new row.

    Raises ObjectNotFound for an unknown run, ObjectAlreadyExists when the
    key is taken (unless ``overwrite``), ParameterError for a bad key.
    """
    validate_input_key(key)
    _require_run(connection, flow_run_id)
    existing = fetch_one(connection, _select(flow_run_id, key))
    if existing is not None:
        if not overwrite:
            raise ObjectAlreadyExists(
                f"Flow run '{flow_run_id}' already has an input under key {key!r}; "
                "read it, or delete it first to send another."
            )
        delete_flow_run_input(connection, flow_run_id, key)
    at = now()
    row = {
        "id": new_id(),
        "flow_run_id": flow_run_id,
        "key": key,
        "value": value,
        "sender": sender,
        "created": at,
        "updated": at,
    }
    connection.execute(sa.insert(flow_run_inputs), row)
    return fetch_one(connection, _select(flow_run_id, key)) or row


def read_flow_run_input(connection: Connection, flow_run_id: Any, key: str) -> Row | None:
    """The input row under ``key`` for a flow run, None if there is none."""
    return fetch_one(connection, _select(flow_run_id, key))


def input_not_found(flow_run_id: Any, key: str) -> ObjectNotFound:
    """The error for a missing input."""
    return ObjectNotFound(f"Flow run '{flow_run_id}' has no input under key {key!r}.")


def delete_flow_run_input(connection: Connection, flow_run_id: Any, key: str) -> bool:
    """Delete the input under ``key``; False if there was none."""
    result = connection.execute(
        sa.delete(flow_run_inputs).where(
            flow_run_inputs.c.flow_run_id == flow_run_id, flow_run_inputs.c.key == key
        )
    )
    return bool(result.rowcount)


# -- resuming ---------------------------------------------------------------------


def resume_flow_run(
    connection: Connection, flow_run_id: Any, run_input: dict[str, Any] | None = None
) -> StateChange:
    """Resume a paused flow run (see the module docstring).

    Raises ObjectNotFound, NotPausedError for a run that is not paused, and
    ParameterError for input that does not fit what the run waits for (the
    run then stays paused).
    """
    run = _require_run(connection, flow_run_id, lock=True)
    if run["state_type"] != StateType.PAUSED.value:
        raise NotPausedError(
            f"Flow run '{flow_run_id}' is {run['state_name']} ({run['state_type']}), not paused: "
            "only a paused run can be resumed. See its state with "
            f"`legato flow-run inspect {flow_run_id}`."
        )
    paused = current_state(connection, "flow_run", run)
    details = StateDetails.from_stored(
        None if paused is None else paused.get("state_details"), None, None
    )
    expired = _expiry(details)
    if expired is not None:
        return fail_expired_pause(connection, run, expired)
    _store_response(connection, run, details, run_input)
    target = (
        StateCreate(
            type=StateType.SCHEDULED,
            name="Resuming",
            state_details=StateDetails(scheduled_time=dt.datetime.now(dt.UTC)),
        )
        if details.pause_reschedule
        else StateCreate(type=StateType.RUNNING)
    )
    return set_run_state(connection, "flow_run", run["id"], target)


def _expiry(details: StateDetails) -> dt.datetime | None:
    """When the pause timed out, if it has; None while it can still be resumed."""
    timeout = details.pause_timeout
    if timeout is None:
        return None
    if timeout.tzinfo is None:
        timeout = timeout.replace(tzinfo=dt.UTC)
    return timeout if timeout.timestamp() <= now() else None


def fail_expired_pause(connection: Connection, run: Row, expired: dt.datetime) -> StateChange:
    """Fail ``run``, whose pause timed out at ``expired`` (a resume refused, or the service)."""
    message = (
        f"Flow run {run['name']!r} was paused until {expired:%Y-%m-%d %H:%M:%S} UTC and not "
        "resumed in time, so it cannot be resumed now; it is Failed. Start a new run, and give "
        "pause_flow_run/suspend_flow_run a longer timeout= if it needs more time."
    )
    failed = StateCreate(type=StateType.FAILED, message=message)
    change = set_run_state(connection, "flow_run", run["id"], failed, force=True)
    return StateChange(rules.Outcome(rules.Decision.REJECT, reason=message), change.state)


def _store_response(
    connection: Connection, run: Row, details: StateDetails, run_input: dict[str, Any] | None
) -> None:
    keyset = details.run_input_keyset
    if not keyset:
        if run_input is not None:
            raise ParameterError(
                f"Flow run '{run['id']}' is not waiting for input (it paused without "
                "wait_for_input): resume it without run_input (no --input)."
            )
        return
    schema_row = read_flow_run_input(connection, run["id"], keyset.get("schema", ""))
    value = run_input if run_input is not None else {}
    if schema_row is not None and isinstance(schema_row["value"], dict):
        validate_run_input(schema_row["value"], value, run["id"])
    create_flow_run_input(
        connection, run["id"], keyset["response"], value, RESUME_SENDER, overwrite=True
    )


def validate_run_input(schema: dict[str, Any], value: Any, flow_run_id: Any) -> None:
    """Check ``value`` against the JSON schema a paused run stored; ParameterError naming fields."""
    from jsonschema import validators

    validator_class = validators.validator_for(schema, default=validators.Draft202012Validator)
    errors = sorted(
        validator_class(schema).iter_errors(value), key=lambda error: list(error.absolute_path)
    )
    if not errors:
        return
    problems = "; ".join(_describe(error) for error in errors)
    fields = ", ".join(sorted(schema.get("properties", {}))) or "none"
    raise ParameterError(
        f"run_input does not match what flow run '{flow_run_id}' waits for: {problems}. "
        f"Send a JSON object with its fields ({fields}); the run stays paused."
    )


def _describe(error: Any) -> str:
    path = ".".join(str(part) for part in error.absolute_path)
    return f"field {path!r}: {error.message}" if path else str(error.message)
