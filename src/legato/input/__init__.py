"""Typed input for paused and suspended flow runs, and values sent to a flow run by key.

Prefect 3's ``prefect.input``: ``RunInput`` (a pydantic model with
``with_initial_data``, ``keyset_from_type``, ``save`` and ``load``),
``AutomaticRunInput``, the keyset helpers, and ``create_flow_run_input``,
``read_flow_run_input`` and ``delete_flow_run_input``. Importing it loads
pydantic; ``import legato`` does not.
"""

from __future__ import annotations

from legato.input.actions import (
    create_flow_run_input,
    delete_flow_run_input,
    read_flow_run_input,
)
from legato.input.run_input import (
    AutomaticRunInput,
    Keyset,
    RunInput,
    RunInputMetadata,
    keyset_from_base_key,
    keyset_from_paused_state,
    run_input_subclass_from_type,
)

__all__ = [
    "AutomaticRunInput",
    "Keyset",
    "RunInput",
    "RunInputMetadata",
    "create_flow_run_input",
    "delete_flow_run_input",
    "keyset_from_base_key",
    "keyset_from_paused_state",
    "read_flow_run_input",
    "run_input_subclass_from_type",
]
