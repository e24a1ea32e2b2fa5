"""``legato init``: a starter legato.yaml that loads, with an example from the folder's flows."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from legato.cli.app import app
from legato.deployments.project import DeploymentSpec, load_project


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = tmp_path / "shop"
    project.mkdir()
    monkeypatch.chdir(project)
    return project


def invoke(*arguments: str):
    return CliRunner().invoke(app, list(arguments))


def write_flows(folder: Path) -> None:
    (folder / "flows").mkdir()
    (folder / "flows" / "etl.py").write_text(
        textwrap.dedent(
            """
            from legato import flow

            @flow(name="nightly-etl")
            def etl():
                return 1

            @flow
            async def refresh_cache():
                return 2
            """
        )
    )
    (folder / ".venv" / "lib").mkdir(parents=True)
    (folder / ".venv" / "lib" / "hidden.py").write_text(
        "from legato import flow\n@flow\ndef x(): ...\n"
    )


def uncommented(text: str) -> str:
    """The file with its example deployment uncommented."""
    head, _, example = text.partition("deployments:\n")
    lines = [line for line in example.splitlines() if line.startswith(("# -", "#  "))]
    body = "\n".join(line[2:] for line in lines if not line.startswith("#   flows/"))
    return f"{head}deployments:\n{body}\n"


def test_init_writes_a_file_that_loads_with_an_example_from_the_flows(folder):
    write_flows(folder)

    result = invoke("init")

    assert result.exit_code == 0, result.output
    text = (folder / "legato.yaml").read_text()
    project = load_project(folder / "legato.yaml")
    assert project.name == "shop"
    assert project.deployments == []
    assert project.pull_steps_for(DeploymentSpec()) == [
        {"legato.deployments.steps.set_working_directory": {"directory": str(folder.resolve())}}
    ]
    assert 'entrypoint: "flows/etl.py:etl"' in text
    assert "#   flows/etl.py:refresh_cache" in text
    assert "hidden" not in text
    # Uncommented, the example is a valid deployment.
    (folder / "uncommented.yaml").write_text(uncommented(text))
    example = load_project(folder / "uncommented.yaml").deployments
    assert [(spec.name, spec.entrypoint) for spec in example] == [
        ("nightly-etl-deployment", "flows/etl.py:etl")
    ]
    assert example[0].schedules[0].cron == "0 6 * * *"


def test_init_without_flows_and_with_a_name(folder):
    result = invoke("init", "--name", "my project")

    assert result.exit_code == 0, result.output
    assert load_project(folder / "legato.yaml").name == "my project"
    assert "No @flow found" in (folder / "legato.yaml").read_text()


def test_init_refuses_to_overwrite_without_force(folder):
    (folder / "legato.yaml").write_text("name: mine\n")

    refused = invoke("init")

    assert refused.exit_code == 1
    assert "exists already. Pass --force" in refused.output
    assert (folder / "legato.yaml").read_text() == "name: mine\n"
    assert invoke("init", "--force").exit_code == 0
    assert load_project(folder / "legato.yaml").name == "shop"


def test_init_next_to_a_prefect_yaml_warns(folder):
    (folder / "prefect.yaml").write_text("name: theirs\n")

    result = invoke("init")

    assert result.exit_code == 0
    assert "prefect.yaml is here too" in result.output
