"""Loading flows from entrypoints: files, modules, sibling imports, and every way it fails."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from legato._entrypoints import find_flow_functions, split_entrypoint
from legato.exceptions import EntrypointError
from legato.flows import Flow, load_flow_from_entrypoint


def write(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    write(folder / "flows" / "helpers.py", "GREETING = 'hello'\n")
    write(
        folder / "flows" / "etl.py",
        """
        from legato import flow
        from helpers import GREETING  # a sibling module

        @flow(name="extract-load")
        def etl(n: int = 1) -> str:
            return f"{GREETING} {n}"

        @flow
        def other_flow():
            return 2

        def plain():
            return 3

        NUMBER = 4

        class Pipelines:
            @flow
            def nightly():
                return 5

            nightly = staticmethod(nightly)
        """,
    )
    return folder


def test_a_file_entrypoint_loads_its_flow_with_sibling_imports(project):
    flow = load_flow_from_entrypoint("flows/etl.py:etl", project)

    assert isinstance(flow, Flow)
    assert flow.name == "extract-load"
    assert flow.fn(2) == "hello 2"


def test_relative_paths_resolve_against_the_current_folder_by_default(project, monkeypatch):
    monkeypatch.chdir(project / "flows")

    assert load_flow_from_entrypoint("etl.py:other_flow").name == "other-flow"


def test_an_absolute_path_and_a_dotted_attribute(project):
    flow = load_flow_from_entrypoint(f"{project / 'flows' / 'etl.py'}:Pipelines.nightly")

    assert flow.name == "nightly"


def test_a_module_entrypoint(project, monkeypatch):
    monkeypatch.syspath_prepend(str(project / "flows"))
    monkeypatch.delitem(sys.modules, "etl", raising=False)

    flow = load_flow_from_entrypoint("etl:etl")

    assert flow.name == "extract-load"
    sys.modules.pop("etl", None)


def test_loading_twice_gives_a_fresh_module(project):
    first = load_flow_from_entrypoint("flows/etl.py:etl", project)
    second = load_flow_from_entrypoint("flows/etl.py:etl", project)

    assert first is not second


@pytest.mark.parametrize("entrypoint", ["flows/etl.py", "etl", ":etl", "flows/etl.py:"])
def test_an_entrypoint_without_a_colon_or_a_side(entrypoint):
    with pytest.raises(EntrypointError, match="is not of the form") as caught:
        split_entrypoint(entrypoint)
    assert "path/to/file.py:flow_function" in str(caught.value)
    assert caught.value.entrypoint == entrypoint


def test_a_missing_file_names_it_and_the_folder(project):
    with pytest.raises(EntrypointError) as caught:
        load_flow_from_entrypoint("flows/nope.py:etl", project)

    message = str(caught.value)
    assert "'flows/nope.py' does not exist" in message
    assert f"relative to {str(project)!r}" in message


def test_a_missing_attribute_lists_the_flows_the_file_defines(project):
    with pytest.raises(EntrypointError) as caught:
        load_flow_from_entrypoint("flows/etl.py:missing", project)

    message = str(caught.value)
    assert "has no attribute 'missing'" in message
    assert "etl, other_flow" in message


def test_a_file_without_flows_says_so(tmp_path):
    write(tmp_path / "empty.py", "X = 1\n")

    with pytest.raises(EntrypointError, match=r"defines no flows"):
        load_flow_from_entrypoint("empty.py:X2", tmp_path)


@pytest.mark.parametrize(("attribute", "kind"), [("plain", "function"), ("NUMBER", "int")])
def test_an_attribute_that_is_not_a_flow(project, attribute, kind):
    with pytest.raises(EntrypointError) as caught:
        load_flow_from_entrypoint(f"flows/etl.py:{attribute}", project)

    assert f"is a {kind}, not a flow" in str(caught.value)
    assert "Decorate it with @flow" in str(caught.value)


def test_an_import_that_raises_names_the_file_and_line_and_chains_the_error(tmp_path):
    path = write(tmp_path / "broken.py", "import os\n\nvalue = 1 / 0\n")

    with pytest.raises(EntrypointError) as caught:
        load_flow_from_entrypoint("broken.py:f", tmp_path)

    message = str(caught.value)
    assert "ZeroDivisionError: division by zero" in message
    assert f"{path}, line 3" in message
    assert isinstance(caught.value.__cause__, ZeroDivisionError)
    assert not [name for name in sys.modules if name.startswith("__legato_entrypoint__broken")]


def test_a_syntax_error_names_the_line(tmp_path):
    write(tmp_path / "bad_syntax.py", "x = 1\ndef f(:\n")

    with pytest.raises(EntrypointError, match=r"SyntaxError.*line 2"):
        load_flow_from_entrypoint("bad_syntax.py:f", tmp_path)


def test_an_error_raised_in_an_imported_module_names_both_places(tmp_path):
    write(tmp_path / "dependency.py", "raise RuntimeError('no config')\n")
    path = write(tmp_path / "uses_it.py", "import os\nimport dependency\n")

    with pytest.raises(EntrypointError) as caught:
        load_flow_from_entrypoint("uses_it.py:f", tmp_path)

    message = str(caught.value)
    assert f"{path}, line 2" in message
    assert "dependency.py, line 1" in message
    assert "RuntimeError: no config" in message


def test_a_missing_module(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    with pytest.raises(EntrypointError, match=r"no module named 'no_such_module_x'"):
        load_flow_from_entrypoint("no_such_module_x.flows:f")


def test_find_flow_functions_reads_decorators_without_importing(project, tmp_path):
    found = find_flow_functions(project / "flows" / "etl.py")

    assert [(item.function_name, item.flow_name) for item in found] == [
        ("etl", "extract-load"),
        ("other_flow", "other-flow"),
    ]
    assert found[0].entrypoint(project) == "flows/etl.py:etl"
    write(tmp_path / "broken.py", "def (:\n")
    assert find_flow_functions(tmp_path / "broken.py") == []
