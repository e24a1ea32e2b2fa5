"""Job configuration: what a worker needs to launch one flow run.

A work pool has a *base job template* in Prefect's shape::

    {"job_configuration": {"env": "{{ env }}", "command": "{{ command }}", ...},
     "variables": {"type": "object", "properties": {"env": {"type": "object",
                   "default": {}}, ...}}}

The *job variables* of a run are the template's defaults, overridden by the
deployment's ``job_variables``, overridden by the flow run's (one level: a
variable given at a higher level replaces the lower one whole, as in Prefect
3). The ``job_configuration`` is rendered with them (``"{{ env }}"`` becomes
the ``env`` variable's value; a placeholder with no value drops its key) and
validated into the worker's ``BaseJobConfiguration`` subclass, which then
adds what every run needs (``prepare_for_flow_run``): the flow run id in the
environment, the store's settings, labels, a name and the default command.
"""

from __future__ import annotations

import copy
import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from legato.deployments.templates import MISSING, render

__all__ = [
    "FLOW_RUN_ID_ENV",
    "BaseJobConfiguration",
    "base_job_template_for",
    "merge_job_variables",
    "store_environment",
    "template_variable_names",
]

# The environment variable that tells ``python -m legato.engine.deployed_run`` its run.
FLOW_RUN_ID_ENV = "LEGATO__FLOW_RUN_ID"

# The settings a flow process needs to record where its worker reads.
_STORE_SETTINGS = ("LEGATO_HOME", "LEGATO_PROFILE", "LEGATO_API_URL", "LEGATO_API_AUTH_STRING")


def merge_job_variables(
    base_job_template: Mapping[str, Any] | None,
    deployment_variables: Mapping[str, Any] | None = None,
    flow_run_variables: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The pool template's defaults < the deployment's variables < the flow run's."""
    merged = _template_defaults(base_job_template)
    merged.update(copy.deepcopy(dict(deployment_variables or {})))
    merged.update(copy.deepcopy(dict(flow_run_variables or {})))
    return merged


def _template_defaults(base_job_template: Mapping[str, Any] | None) -> dict[str, Any]:
    properties = _properties(base_job_template)
    return {
        name: copy.deepcopy(schema["default"])
        for name, schema in properties.items()
        if isinstance(schema, Mapping) and "default" in schema
    }


def _properties(base_job_template: Mapping[str, Any] | None) -> Mapping[str, Any]:
    variables = (base_job_template or {}).get("variables") or {}
    properties = variables.get("properties") if isinstance(variables, Mapping) else None
    return properties if isinstance(properties, Mapping) else {}


def template_variable_names(base_job_template: Mapping[str, Any] | None) -> list[str]:
    """The variables a base job template declares."""
    return sorted(_properties(base_job_template))


def render_job_configuration(
    base_job_template: Mapping[str, Any], variables: Mapping[str, Any]
) -> dict[str, Any]:
    """The template's ``job_configuration`` with ``{{ name }}`` replaced by the variables.

    A key whose whole value is a placeholder with no value (no variable, no
    default) is left out, so the configuration's own default applies.
    """
    configuration = base_job_template.get("job_configuration") or {}
    if not isinstance(configuration, Mapping):
        raise ValueError("the base job template's 'job_configuration' must be a mapping")
    rendered = render(
        dict(configuration), lambda name: variables.get(name, MISSING), keep_missing=False
    )
    return _drop_missing(rendered)  # type: ignore[no-any-return]


def _drop_missing(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _drop_missing(item) for key, item in value.items() if item is not MISSING}
    if isinstance(value, list):
        return [_drop_missing(item) for item in value if item is not MISSING]
    return value


def store_environment() -> dict[str, str]:
    """The worker's store settings as environment variables, for the flow processes it starts.

    An unset ``LEGATO_API_URL`` is passed as an empty string, which keeps a
    profile of the flow's folder from sending it to another store.
    """
    from legato.settings import get_current_settings

    values = get_current_settings().to_environment_variables()
    environment = {name: values[name] for name in _STORE_SETTINGS if values.get(name)}
    environment.setdefault("LEGATO_API_URL", "")
    return environment


class BaseJobConfiguration(BaseModel):
    """What every worker type needs to launch a run; subclasses add their own fields.

    ``env`` values of None remove that variable from the inherited environment.
    """

    model_config = ConfigDict(extra="ignore", validate_assignment=False)

    command: str | None = None
    env: dict[str, str | None] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)
    name: str | None = None
    working_dir: Path | None = None
    stream_output: bool = True

    @field_validator("env", "labels", mode="before")
    @classmethod
    def _text_values(cls, value: Any) -> Any:
        if value is None:
            return {}
        if isinstance(value, Mapping):
            return {
                str(key): item if item is None or isinstance(item, str) else _text(item)
                for key, item in value.items()
            }
        return value

    @field_validator("command", mode="before")
    @classmethod
    def _empty_command(cls, value: Any) -> Any:
        return None if value == "" else value

    @classmethod
    def json_template(cls) -> dict[str, Any]:
        """``{"field": "{{ field }}"}`` for every field: a ``job_configuration`` that uses them all."""
        return {name: f"{{{{ {name} }}}}" for name in cls.model_fields}

    @classmethod
    def from_template_and_values(
        cls, base_job_template: Mapping[str, Any], values: Mapping[str, Any]
    ) -> BaseJobConfiguration:
        """The configuration a template renders to with job variables ``values``."""
        variables = merge_job_variables(base_job_template, values)
        return cls.model_validate(render_job_configuration(base_job_template, variables))

    def prepare_for_flow_run(
        self, flow_run: Any, deployment: Any = None, worker_name: str | None = None
    ) -> None:
        """Add what this run needs: its id and the store in ``env``, labels, name, command."""
        environment: dict[str, str | None] = dict(store_environment())
        environment.update(self.env)
        environment[FLOW_RUN_ID_ENV] = str(flow_run.id)
        self.env = environment
        self.labels = {**_run_labels(flow_run, deployment, worker_name), **self.labels}
        self.name = self.name or str(flow_run.name)
        self.command = self.command or default_command()


def default_command() -> str:
    """Run the flow with the worker's own Python: ``python -m legato.engine.deployed_run``."""
    import shlex

    return f"{shlex.quote(sys.executable)} -m legato.engine.deployed_run"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _run_labels(flow_run: Any, deployment: Any, worker_name: str | None) -> dict[str, str]:
    labels = {
        "legato.io/flow-run-id": str(flow_run.id),
        "legato.io/flow-run-name": str(flow_run.name),
        "legato.io/host": socket.gethostname(),
    }
    if deployment is not None:
        labels["legato.io/deployment-id"] = str(deployment.id)
        labels["legato.io/deployment-name"] = str(deployment.name)
    if worker_name:
        labels["legato.io/worker-name"] = worker_name
    return labels


def base_job_template_for(configuration: type[BaseJobConfiguration]) -> dict[str, Any]:
    """A base job template that exposes every field of ``configuration`` as a variable.

    Each variable's schema comes from the field (pydantic's JSON schema), with
    its default when the field has a plain one.
    """
    schema = configuration.model_json_schema()
    properties = {
        name: _variable_schema(name, field_schema)
        for name, field_schema in schema.get("properties", {}).items()
    }
    return {
        "job_configuration": configuration.json_template(),
        "variables": {"type": "object", "properties": properties},
    }


def _variable_schema(name: str, field_schema: Mapping[str, Any]) -> dict[str, Any]:
    variable = {key: value for key, value in field_schema.items() if key != "title"}
    variable["title"] = name.replace("_", " ").capitalize()
    if variable.get("default") is None:
        variable.pop("default", None)
    return variable


def is_same_host(infrastructure_pid: str) -> bool:
    """Whether ``host:pid`` names a process on this machine."""
    host, _, _ = infrastructure_pid.rpartition(":")
    return host in ("", socket.gethostname())


def environment_for(configuration: BaseJobConfiguration) -> dict[str, str]:
    """``os.environ`` with the configuration's ``env`` applied (None removes a variable)."""
    environment = dict(os.environ)
    for name, value in configuration.env.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return environment
