"""``RunInput``: the typed input a paused or suspended flow run waits for.

``pause_flow_run(wait_for_input=X)`` and ``suspend_flow_run(wait_for_input=X)``
take a ``RunInput`` subclass, any pydantic ``BaseModel`` subclass (wrapped in a
``RunInput`` of the same fields), or a plain type such as ``int`` or
``list[str]`` (wrapped in an ``AutomaticRunInput`` with one field, ``value``;
the pause then returns the bare value). The run stores the input's JSON
schema under its keyset's ``schema`` key; ``resume_flow_run(id, run_input=)``
checks the input against it and stores it under the ``response`` key, where
the resumed flow reads it back and validates it into the model.

Keys follow Prefect 3: a pause's keyset is made from the paused state's name
and pause key, e.g. ``paused-1-schema`` / ``paused-1-response``.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, TypeVar

import pydantic
from pydantic import BaseModel, ConfigDict, PrivateAttr

from legato.exceptions import ParameterError
from legato.input.actions import create_flow_run_input, ensure_flow_run_id

__all__ = [
    "AutomaticRunInput",
    "Keyset",
    "RunInput",
    "RunInputMetadata",
    "keyset_from_base_key",
    "keyset_from_paused_state",
    "run_input_subclass_from_type",
]

R = TypeVar("R", bound="RunInput")

Keyset = dict[str, str]
"""The input keys of one pause: ``{"description": ..., "response": ..., "schema": ...}``."""


def keyset_from_base_key(base_key: str) -> Keyset:
    """The keyset made from ``base_key``: ``<base_key>-description`` / ``-response`` / ``-schema``."""
    return {
        "description": f"{base_key}-description",
        "response": f"{base_key}-response",
        "schema": f"{base_key}-schema",
    }


def keyset_from_paused_state(state: Any) -> Keyset:
    """The keyset of a Paused (or Suspended) state: ``<state name>-<pause key>``."""
    if not state.is_paused():
        raise ParameterError(
            f"keyset_from_paused_state needs a Paused or Suspended state, not {state.type}."
        )
    name = (state.name or "paused").lower()
    return keyset_from_base_key(f"{name}-{state.state_details.pause_key}")


class RunInputMetadata(BaseModel):
    """Where a loaded input came from: its key, who sent it, which run received it."""

    key: str | None = None
    sender: str | None = None
    receiver: uuid.UUID | None = None


class RunInput(BaseModel):
    """Base class of typed flow run inputs (a pydantic model; unknown fields are refused)."""

    model_config = ConfigDict(extra="forbid")

    _description: ClassVar[str | None] = None
    _metadata: RunInputMetadata = PrivateAttr(default_factory=RunInputMetadata)

    @property
    def metadata(self) -> RunInputMetadata:
        """The key, sender and receiving run of a loaded input."""
        return self._metadata

    @classmethod
    def keyset_from_type(cls) -> Keyset:
        """A keyset named after this class (``<class name lowercased>-...``)."""
        return keyset_from_base_key(cls.__name__.lower())

    @classmethod
    def input_schema(cls) -> dict[str, Any]:
        """The JSON schema a resume's input is checked against."""
        return cls.model_json_schema()

    @classmethod
    def save(cls, keyset: Keyset, flow_run_id: uuid.UUID | str | None = None) -> None:
        """Store this input's JSON schema (and description) under ``keyset`` for a flow run."""
        run_id = ensure_flow_run_id(flow_run_id)
        create_flow_run_input(keyset["schema"], cls.input_schema(), flow_run_id=run_id)
        if cls._description is not None:
            create_flow_run_input(keyset["description"], cls._description, flow_run_id=run_id)

    @classmethod
    def load(cls: type[R], keyset: Keyset, flow_run_id: uuid.UUID | str | None = None) -> R:
        """The input stored under ``keyset["response"]``, validated into this class."""
        from legato.client import get_client

        run_id = ensure_flow_run_id(flow_run_id)
        with get_client(sync_client=True) as client:
            value = client.read_flow_run_input(run_id, keyset["response"])
        return cls.from_value(value, keyset["response"], run_id)

    @classmethod
    def from_value(cls: type[R], value: Any, key: str, receiver: uuid.UUID | None) -> R:
        """Validate a stored value into this class (ParameterError naming the fields)."""
        try:
            instance = cls.model_validate(value)
        except pydantic.ValidationError as exc:
            raise ParameterError(
                f"The input under key {key!r} does not fit {cls.__name__}: {exc}"
            ) from None
        instance._metadata = RunInputMetadata(key=key, receiver=receiver)
        return instance

    @classmethod
    def with_initial_data(cls: type[R], description: str | None = None, **kwargs: Any) -> type[R]:
        """A subclass whose fields default to ``kwargs`` (shown as the form's initial values).

        ``description`` (Markdown) is stored with the pause for whoever resumes it.
        """
        unknown = sorted(set(kwargs) - set(cls.model_fields))
        if unknown:
            raise ParameterError(
                f"with_initial_data: {cls.__name__} has no field(s) {', '.join(unknown)}; "
                f"its fields are {', '.join(cls.model_fields) or 'none'}."
            )
        fields: dict[str, Any] = {
            name: (cls.model_fields[name].annotation, value) for name, value in kwargs.items()
        }
        subclass: type[R] = pydantic.create_model(  # type: ignore[call-overload]
            cls.__name__, __base__=cls, __module__=cls.__module__, **fields
        )
        subclass._description = description if description is not None else cls._description
        return subclass

    @classmethod
    def subclass_from_base_model_type(cls, model_cls: type[BaseModel]) -> type[RunInput]:
        """A RunInput with the fields of the pydantic model ``model_cls``."""
        fields: dict[str, Any] = {
            name: (info.annotation, info) for name, info in model_cls.model_fields.items()
        }
        made: type[RunInput] = pydantic.create_model(  # type: ignore[call-overload]
            model_cls.__name__, __base__=cls, __module__=model_cls.__module__, **fields
        )
        return made


class AutomaticRunInput(RunInput):
    """A RunInput made for a plain type: one field, ``value``; loading gives the bare value."""

    value: Any = None

    @classmethod
    def subclass_from_type(cls, input_type: Any) -> type[AutomaticRunInput]:
        """An AutomaticRunInput whose ``value`` has type ``input_type``."""
        name = getattr(input_type, "__name__", None) or type(input_type).__name__
        made: type[AutomaticRunInput] = pydantic.create_model(  # type: ignore[call-overload]
            name.capitalize(), __base__=cls, __module__=cls.__module__, value=(input_type, ...)
        )
        return made


def run_input_subclass_from_type(input_type: Any) -> type[RunInput]:
    """The RunInput class for ``wait_for_input``: itself, a model's twin, or an automatic one."""
    if isinstance(input_type, type) and issubclass(input_type, RunInput):
        return input_type
    if isinstance(input_type, type) and issubclass(input_type, BaseModel):
        return RunInput.subclass_from_base_model_type(input_type)
    try:
        return AutomaticRunInput.subclass_from_type(input_type)
    except (pydantic.PydanticSchemaGenerationError, TypeError) as exc:
        raise ParameterError(
            f"wait_for_input={input_type!r} is not a type legato can ask for ({exc}). Give a "
            "RunInput or pydantic BaseModel subclass, or a type such as int, str or list[str]."
        ) from None
