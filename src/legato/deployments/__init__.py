"""Deployments: project files (``legato.deployments.project``), pull steps
(``legato.deployments.steps``) and ``{{ }}`` templates (``legato.deployments.templates``).

Nothing heavy is imported here: the submodules load pydantic and yaml when used.
"""

from __future__ import annotations

__all__: list[str] = []

# Running deployments and describing them in Python (cheap modules: no pydantic at import).
from legato.deployments.flow_runs import arun_deployment, run_deployment
from legato.deployments.runner import EntrypointType, RunnerDeployment

__all__ += ["EntrypointType", "RunnerDeployment", "arun_deployment", "run_deployment"]
