"""Pull steps: set_working_directory, git_clone (a local bare repository), run_shell_script, ids."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from legato.deployments.steps import (
    git_clone,
    resolve_step,
    run_shell_script,
    run_steps,
    set_working_directory,
)
from legato.deployments.templates import resolve_templates
from legato.exceptions import ConfigurationError, StepExecutionError

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(*arguments: str, cwd: Path) -> str:
    completed = subprocess.run(
        ["git", *arguments],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip()


class Repository:
    """A bare repository in a temp folder, with a working copy to commit from."""

    def __init__(self, root: Path) -> None:
        self.bare = root / "remote" / "flows.git"
        self.work = root / "authoring"
        self.bare.mkdir(parents=True)
        git("init", "--quiet", "--bare", "--initial-branch=main", str(self.bare), cwd=root)
        git("clone", "--quiet", str(self.bare), str(self.work), cwd=root)
        git("checkout", "--quiet", "-b", "main", cwd=self.work)

    def commit(self, files: dict[str, str], branch: str = "main") -> str:
        current = git("symbolic-ref", "--short", "HEAD", cwd=self.work)
        if current != branch:
            existing = git("branch", "--list", branch, cwd=self.work)
            git("checkout", "--quiet", *([] if existing else ["-b"]), branch, cwd=self.work)
        for name, text in files.items():
            (self.work / name).write_text(text)
        git("add", ".", cwd=self.work)
        git("commit", "--quiet", "-m", "change", cwd=self.work)
        git("push", "--quiet", "origin", branch, cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)


@pytest.fixture
def repository(tmp_path: Path) -> Repository:
    return Repository(tmp_path)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "worker-dir"
    folder.mkdir()
    monkeypatch.chdir(folder)
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    return folder


def test_set_working_directory_changes_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()

    assert set_working_directory("sub") == {"directory": str(tmp_path / "sub")}
    assert Path.cwd() == tmp_path / "sub"
    with pytest.raises(StepExecutionError, match="cannot change to 'missing'"):
        set_working_directory("missing")


def test_git_clone_a_branch_then_update_it(repository, workdir):
    repository.commit({"flow.py": "VERSION = 1\n"})
    repository.commit({"flow.py": "VERSION = 'dev'\n"}, branch="dev")

    output = git_clone(str(repository.bare), branch="dev")

    clone = workdir / "flows-dev"
    assert output == {"directory": str(clone)}
    assert (clone / "flow.py").read_text() == "VERSION = 'dev'\n"

    # When the branch moves on, the next run updates the clone in place.
    repository.commit({"flow.py": "VERSION = 'dev2'\n"}, branch="dev")
    (clone / "flow.py").write_text("local edit\n")
    assert git_clone(str(repository.bare), branch="dev") == output
    assert (clone / "flow.py").read_text() == "VERSION = 'dev2'\n"


def test_git_clone_default_branch_commit_and_directory_name(repository, workdir):
    first = repository.commit({"flow.py": "VERSION = 1\n"})
    repository.commit({"flow.py": "VERSION = 2\n"})

    latest = git_clone(str(repository.bare))
    pinned = git_clone(f"file://{repository.bare}", commit_sha=first, clone_directory_name="pinned")

    assert (Path(latest["directory"]) / "flow.py").read_text() == "VERSION = 2\n"
    assert latest["directory"] == str(workdir / "flows")
    assert pinned["directory"] == str(workdir / "pinned")
    assert (workdir / "pinned" / "flow.py").read_text() == "VERSION = 1\n"


def test_git_clone_errors_are_clear(repository, workdir):
    repository.commit({"flow.py": "x\n"})
    (workdir / "flows").mkdir()
    (workdir / "flows" / "other.txt").write_text("not a clone")

    with pytest.raises(StepExecutionError, match="exists and is not a clone"):
        git_clone(str(repository.bare))
    with pytest.raises(StepExecutionError, match=r"failed with exit code \d+"):
        git_clone(str(workdir / "no-such-repo.git"), clone_directory_name="x")
    with pytest.raises(StepExecutionError, match="works with https://"):
        git_clone(str(repository.bare), access_token="secret")


def test_git_clone_masks_the_access_token(workdir):
    with pytest.raises(StepExecutionError) as caught:
        git_clone("https://127.0.0.1:9/org/repo.git", access_token="tok3n-s3cret")

    assert "tok3n-s3cret" not in str(caught.value)
    assert "********" in str(caught.value)


def test_run_shell_script_collects_output_and_fails_clearly(tmp_path, capsys):
    script = f"{sys.executable} -c 'print(\"one\")'\n\n{sys.executable} -c 'print(\"two\")'"

    output = run_shell_script(script, directory=str(tmp_path), stream_output=True)

    assert output == {"stdout": "one\ntwo", "stderr": ""}
    assert capsys.readouterr().out == "one\ntwo\n"
    failing = f"{sys.executable} -c 'import sys; sys.stderr.write(\"bad thing\"); sys.exit(3)'"
    with pytest.raises(StepExecutionError, match=r"exited with code 3: bad thing"):
        run_shell_script(failing, stream_output=False)


def test_env_vars_expand_only_when_asked(monkeypatch):
    monkeypatch.setenv("STEP_VALUE", "expanded")
    command = f"{sys.executable} -c 'import sys; print(sys.argv[1])' $STEP_VALUE"

    assert run_shell_script(command, stream_output=False)["stdout"] == "$STEP_VALUE"
    assert run_shell_script(command, stream_output=False, expand_env_vars=True) == {
        "stdout": "expanded",
        "stderr": "",
    }
    braces = f"{sys.executable} -c 'import sys; print(sys.argv[1:])' ${{OWN}} $UNKNOWN_X"
    output = run_shell_script(
        braces, env={"OWN": "mine"}, stream_output=False, expand_env_vars=True
    )
    assert output["stdout"] == "['mine', '$UNKNOWN_X']"


def test_steps_reference_earlier_outputs_by_id(repository, workdir, monkeypatch):
    repository.commit({"flow.py": "x\n"})
    monkeypatch.setenv("CLONE_NAME", "checkout")
    steps = [
        {
            "prefect.deployments.steps.git_clone": {
                "id": "clone",
                "requires": "prefect>=3",
                "repository": str(repository.bare),
                "clone_directory_name": "{{ $CLONE_NAME }}",
            }
        },
        {
            "legato.deployments.steps.run_shell_script": {
                "id": "listing",
                "script": f"{sys.executable} -c 'import os; print(sorted(os.listdir()))'",
                "directory": "{{ clone.directory }}",
                "stream_output": False,
            }
        },
        {"prefect.deployments.steps.set_working_directory": {"directory": "{{ clone.directory }}"}},
    ]

    output = run_steps(steps)

    assert output["directory"] == str(workdir / "checkout")
    assert output["stdout"] == "['.git', 'flow.py']"
    assert Path.cwd() == workdir / "checkout"


def test_an_unknown_step_names_the_supported_ones():
    with pytest.raises(StepExecutionError) as caught:
        run_steps([{"prefect.deployments.steps.pull_from_s3": {"bucket": "b"}}])
    message = str(caught.value)
    assert "Unknown step 'prefect.deployments.steps.pull_from_s3'" in message
    assert "legato.deployments.steps.git_clone" in message

    with pytest.raises(StepExecutionError, match=r"requires 'prefect-aws'.*pip install"):
        run_steps([{"prefect_aws.deployments.steps.pull_from_s3": {"requires": "prefect-aws"}}])


def test_bad_arguments_and_outputs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StepExecutionError, match=r"does not accept.*Its arguments: directory"):
        run_steps([{"legato.deployments.steps.set_working_directory": {"folder": "."}}])
    with pytest.raises(StepExecutionError, match=r"has no 'nope'"):
        run_steps(
            [
                {"legato.deployments.steps.set_working_directory": {"id": "a", "directory": "."}},
                {"legato.deployments.steps.set_working_directory": {"directory": "{{ a.nope }}"}},
            ]
        )
    with pytest.raises(StepExecutionError, match="exactly one key"):
        run_steps([{"a.b": {}, "c.d": {}}])


def test_a_custom_step_is_imported_and_called(tmp_path, monkeypatch):
    (tmp_path / "my_steps.py").write_text(
        "def fetch(token):\n    return {'access_token': token.upper()}\n"
        "def broken():\n    raise RuntimeError('boom')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    output = run_steps([{"my_steps.fetch": {"id": "secret", "token": "abc"}}])

    assert output == {"access_token": "ABC"}
    assert resolve_step("legato.deployments.steps.git_clone") is git_clone
    with pytest.raises(StepExecutionError, match=r"failed: RuntimeError: boom"):
        run_steps([{"my_steps.broken": None}])


def test_templates_resolve_values_and_refuse_blocks():
    outputs = {"build": {"image": {"name": "img", "tag": 3}}}

    assert resolve_templates("{{ build.image }}", outputs) == {"name": "img", "tag": 3}
    assert resolve_templates("x-{{ build.image.tag }}-{{ $HOME_X }}", outputs, {"HOME_X": "h"}) == (
        "x-3-h"
    )
    assert resolve_templates({"k": ["{{ other }}"]}, outputs, {}) == {"k": ["{{ other }}"]}
    assert resolve_templates(
        "{{ legato.variables.region }}", read_variable=lambda name: {"region": "eu"}[name]
    ) == ("eu")
    with pytest.raises(ConfigurationError, match="block references are not supported"):
        resolve_templates("{{ prefect.blocks.secret.token }}")
    with pytest.raises(ConfigurationError, match="MISSING_X, which is not set"):
        resolve_templates("{{ $MISSING_X }}", environ={})
    with pytest.raises(ConfigurationError, match="variable 'gone', which does not exist"):
        resolve_templates("{{ prefect.variables.gone }}", read_variable=lambda name: None)
