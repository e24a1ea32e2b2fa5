"""legato.input: RunInput classes, keysets and the types wait_for_input takes."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from legato.exceptions import ParameterError
from legato.input import (
    AutomaticRunInput,
    RunInput,
    keyset_from_base_key,
    keyset_from_paused_state,
    run_input_subclass_from_type,
)
from legato.states import Paused, Running, Suspended


class Shipping(RunInput):
    address: str
    express: bool = False


class Plain(BaseModel):
    count: int


def test_keysets_follow_the_state_name_and_pause_key():
    assert keyset_from_base_key("x") == {
        "description": "x-description",
        "response": "x-response",
        "schema": "x-schema",
    }
    assert keyset_from_paused_state(Paused(pause_key="7"))["schema"] == "paused-7-schema"
    assert keyset_from_paused_state(Suspended(pause_key="a"))["response"] == "suspended-a-response"
    assert Shipping.keyset_from_type()["schema"] == "shipping-schema"
    with pytest.raises(ParameterError, match="Paused or Suspended"):
        keyset_from_paused_state(Running())


def test_with_initial_data_sets_defaults_and_a_description():
    prefilled = Shipping.with_initial_data(description="Where to?", address="1 Main St")

    assert prefilled(express=True).address == "1 Main St"
    assert prefilled.input_schema()["properties"]["address"]["default"] == "1 Main St"
    assert prefilled._description == "Where to?"
    assert Shipping._description is None
    assert issubclass(prefilled, Shipping)
    with pytest.raises(ParameterError, match="no field"):
        Shipping.with_initial_data(colour="red")


def test_unknown_fields_are_refused():
    assert Shipping.input_schema()["additionalProperties"] is False
    with pytest.raises(ParameterError, match="address"):
        Shipping.from_value({"express": True}, "k", None)


@pytest.mark.parametrize(
    ("wanted", "value", "expected"),
    [
        (int, {"value": "3"}, 3),
        (list[str], {"value": ["a", "b"]}, ["a", "b"]),
        (bool, {"value": True}, True),
    ],
)
def test_plain_types_become_a_value_field(wanted, value, expected):
    made = run_input_subclass_from_type(wanted)
    assert issubclass(made, AutomaticRunInput)
    assert made.input_schema()["required"] == ["value"]
    assert made.from_value(value, "k", None).value == expected


def test_models_keep_their_fields_and_run_inputs_stay_themselves():
    made = run_input_subclass_from_type(Plain)
    assert made.__name__ == "Plain"
    assert made.input_schema()["required"] == ["count"]
    assert run_input_subclass_from_type(Shipping) is Shipping


def test_a_type_pydantic_cannot_describe_is_refused():
    with pytest.raises(ParameterError, match="wait_for_input"):
        run_input_subclass_from_type(object())


def test_inputs_are_sent_and_read_by_key_for_the_current_run():
    from legato import flow
    from legato.exceptions import MissingContextError
    from legato.input import create_flow_run_input, delete_flow_run_input, read_flow_run_input

    @flow
    def sender() -> tuple[object, object]:
        create_flow_run_input("shipping", Shipping(address="1 Main St"))
        Shipping.save(Shipping.keyset_from_type())
        return read_flow_run_input("shipping"), read_flow_run_input("missing")

    state = sender(return_state=True)
    run_id = state.state_details.flow_run_id

    assert state.result() == ({"address": "1 Main St", "express": False}, None)
    schema = read_flow_run_input("shipping-schema", flow_run_id=run_id)
    assert schema["required"] == ["address"]
    create_flow_run_input("shipping-response", {"address": "2 Side St"}, flow_run_id=run_id)
    loaded = Shipping.load(Shipping.keyset_from_type(), flow_run_id=run_id)
    assert (loaded.address, loaded.metadata.key) == ("2 Side St", "shipping-response")
    delete_flow_run_input("shipping", flow_run_id=run_id)
    assert read_flow_run_input("shipping", flow_run_id=run_id) is None
    with pytest.raises(MissingContextError, match="pass flow_run_id"):
        read_flow_run_input("shipping")
