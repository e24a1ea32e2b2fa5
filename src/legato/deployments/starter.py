"""The starter ``legato.yaml`` that ``legato init`` writes.

The file is valid as written (no deployment yet); its example deployment,
made from the first ``@flow`` found in the folder's ``*.py`` files (parsed,
not imported), is commented out: uncomment it to deploy that flow.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from legato._entrypoints import FlowFunction, find_flow_functions

__all__ = ["discover_flows", "render_starter_project"]

_SKIPPED_FOLDERS = frozenset(
    {"venv", "env", "node_modules", "__pycache__", "site-packages", "build", "dist"}
)
_MAX_FILES = 1000
_MAX_DEPTH = 5


def discover_flows(folder: Path) -> list[FlowFunction]:
    """``@flow`` functions of the ``*.py`` files under ``folder`` (virtualenvs and hidden folders skipped)."""
    found: list[FlowFunction] = []
    scanned = 0
    for root, folders, files in os.walk(folder):
        depth = len(Path(root).relative_to(folder).parts)
        folders[:] = sorted(
            name
            for name in folders
            if not name.startswith(".") and name not in _SKIPPED_FOLDERS and depth < _MAX_DEPTH
        )
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            scanned += 1
            if scanned > _MAX_FILES:
                return found
            found.extend(find_flow_functions(Path(root) / name))
    return found


def _quoted(value: str) -> str:
    return json.dumps(value)


def render_starter_project(folder: Path, name: str | None = None) -> str:
    """The text of a starter ``legato.yaml`` for the project in ``folder``."""
    from legato import __version__

    folder = folder.resolve()
    flows = discover_flows(folder)
    lines = [
        "# legato.yaml: the deployments of this project (`legato deploy`).",
        "# legato reads prefect.yaml files written for Prefect 3 the same way.",
        f"name: {_quoted(name or folder.name)}",
        f"legato-version: {_quoted(__version__)}",
        "",
        "# Steps a worker runs before it loads a flow: here, run from this folder.",
        "pull:",
        "- legato.deployments.steps.set_working_directory:",
        f"    directory: {_quoted(str(folder))}",
        "# Or clone the project on each run:",
        "# - legato.deployments.steps.git_clone:",
        "#     repository: https://github.com/org/repo.git",
        "#     branch: main",
        "",
        "deployments:",
    ]
    lines += _example(folder, flows)
    return "\n".join(lines) + "\n"


def _example(folder: Path, flows: list[FlowFunction]) -> list[str]:
    if not flows:
        return [
            "# No @flow found in this folder yet. A deployment looks like this:",
            "# - name: nightly",
            "#   entrypoint: flows/etl.py:etl",
            "#   work_pool:",
            "#     name: default",
        ]
    first = flows[0]
    lines = [
        "# Uncomment to deploy (then `legato deploy --all`):",
        f"# - name: {_quoted(first.flow_name + '-deployment')}",
        f"#   entrypoint: {_quoted(first.entrypoint(folder))}",
        f"#   description: {_quoted('Runs the ' + first.flow_name + ' flow.')}",
        "#   parameters: {}",
        "#   tags: []",
        "#   work_pool:",
        '#     name: "default"',
        "#     job_variables: {}",
        "#   schedules:",
        '#   - cron: "0 6 * * *"',
        '#     timezone: "UTC"',
    ]
    if len(flows) > 1:
        lines.append("#")
        lines.append("# Other flows in this folder (entrypoints):")
        lines += [f"#   {flow.entrypoint(folder)}" for flow in flows[1:]]
    return lines
