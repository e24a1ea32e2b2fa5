"""The public surface: what each public module lists in __all__ exists, and nothing else leaks."""

from __future__ import annotations

import importlib

import pytest

PUBLIC_MODULES = [
    "legato",
    "legato.states",
    "legato.futures",
    "legato.flows",
    "legato.tasks",
    "legato.task_runners",
    "legato.exceptions",
    "legato.annotations",
    "legato.utilities.annotations",
    "legato.cache_policies",
    "legato.logging",
    "legato.runtime",
    "legato.results",
    "legato.serializers",
    "legato.filesystems",
    "legato.transactions",
    "legato.locking",
    "legato.artifacts",
    "legato.variables",
    "legato.flow_runs",
    "legato.input",
]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_listed_name_exists(module_name):
    module = importlib.import_module(module_name)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing


def test_top_level_names_match_prefect_3():
    import legato

    prefect_top_level = {
        "flow",
        "Flow",
        "task",
        "Task",
        "State",
        "tags",
        "get_run_logger",
        "get_run_context",
        "allow_failure",
        "unmapped",
        "PrefectFuture",
    }
    assert prefect_top_level <= set(legato.__all__)


def test_public_names_of_the_top_level_are_exactly_all():
    import legato

    public = {name for name in vars(legato) if not name.startswith("_")}
    submodules = {name for name in public if type(getattr(legato, name)).__name__ == "module"}
    # get_client and serve are served lazily by the module's __getattr__ (they load packages).
    lazy = {"get_client", "serve", "pause_flow_run", "resume_flow_run", "suspend_flow_run"}
    assert (public - submodules) | lazy == set(legato.__all__) - {"__version__"}
    assert callable(legato.get_client)


@pytest.mark.parametrize(
    ("module_name", "names"),
    [
        ("legato.runtime.flow_run", ["id", "name", "parameters", "tags", "run_count", "flow_name"]),
        ("legato.runtime.task_run", ["id", "name", "parameters", "tags", "run_count", "task_name"]),
    ],
)
def test_runtime_fields_read_outside_a_run(module_name, names):
    module = importlib.import_module(module_name)
    for name in names:
        getattr(module, name)  # no error outside a run
