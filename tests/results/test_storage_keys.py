"""result_storage_key templates: Prefect 3's {parameters[name]} and runtime fields."""

from __future__ import annotations

import re
import types

import pytest

from legato import flow, runtime
from legato.exceptions import ParameterError
from legato.results import render_storage_key

CONTEXT = {
    "flow_run": {"id": "f-1", "name": "happy-otter"},
    "task_run": types.SimpleNamespace(id="t-1", name="double-0"),
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{parameters[x]}-{flow_run.name}.json", "3-happy-otter.json"),
        ("out/{task_run.name}/{parameters[path]}", "out/double-0/a/b"),
        ("{parameters[x]:04d}", "0003"),
        ("{parameters[items][1]}", "b"),
        ("{parameters[config][mode]}", "fast"),
        ("{{literal}}-{flow_run.id}", "{literal}-f-1"),
        ("static-key", "static-key"),
    ],
)
def test_templates_fill_parameters_and_runtime_fields(template, expected):
    parameters = {"x": 3, "path": "a/b", "items": ["a", "b"], "config": {"mode": "fast"}}
    assert render_storage_key(template, parameters, CONTEXT) == expected


def test_an_unknown_field_names_the_template_the_field_and_the_choices():
    with pytest.raises(ParameterError) as caught:
        render_storage_key("{parameters[y]}-{flow_run.name}", {"x": 1}, CONTEXT)
    message = str(caught.value)
    assert "'{parameters[y]}-{flow_run.name}'" in message
    assert "unknown field {parameters[y]}" in message
    for available in ("{parameters[x]}", "{flow_run.id}", "{flow_run.name}", "{task_run.name}"):
        assert available in message


@pytest.mark.parametrize(
    ("template", "field"),
    [
        ("{parameters.x}", "{parameters.x}"),
        ("{flow_run.nam}", "{flow_run.nam}"),
        ("{flow_run[name]}", "{flow_run[name]}"),
        ("{deployment.name}", "{deployment.name}"),
        ("{parameters}", "{parameters}"),
        ("{}", "{0}"),
        ("{parameters[x].real.nope}", "{parameters[x].real.nope}"),
    ],
)
def test_other_unknown_fields(template, field):
    with pytest.raises(ParameterError, match=re.escape(f"unknown field {field}")):
        render_storage_key(template, {"x": 1}, CONTEXT)


@pytest.mark.parametrize("template", ["{parameters[x]", "{flow_run.name", "}{"])
def test_a_malformed_template_is_refused(template):
    with pytest.raises(ParameterError, match="not a valid template"):
        render_storage_key(template, {"x": 1}, CONTEXT)


def test_without_a_context_the_current_run_is_used():
    @flow(flow_run_name="nightly-{day}")
    def nightly(day: str) -> str:
        return render_storage_key("{flow_run.name}/{parameters[day]}", {"day": day})

    assert nightly("mon") == "nightly-mon/mon"


def test_outside_a_run_runtime_fields_are_empty():
    assert runtime.flow_run.name is None
    assert render_storage_key("{flow_run.name}-{parameters[a]}", {"a": 1}) == "None-1"
