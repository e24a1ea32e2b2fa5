"""Pull steps: what a worker's flow process does before it loads the entrypoint.

A deployment's ``pull`` section is a list of steps; each step is a mapping
with one key, the step's name, whose value holds the step's keyword
arguments, plus an optional ``id`` (later steps refer to its output as
``{{ step-id.key }}``) and ``requires`` (a package spec, named in the error
when a custom step cannot be imported; legato never installs it)::

    pull:
    - legato.deployments.steps.git_clone:
        id: clone
        repository: https://github.com/org/repo.git
        branch: main
    - legato.deployments.steps.set_working_directory:
        directory: "{{ clone.directory }}"

The built-in steps answer to their legato names and to Prefect 3's
(``prefect.deployments.steps.git_clone``...). Any other dotted name is
imported and called (a custom step), as in Prefect.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

from legato.exceptions import ConfigurationError, StepExecutionError

__all__ = [
    "BUILT_IN_STEPS",
    "git_clone",
    "pip_install_requirements",
    "resolve_step",
    "run_shell_script",
    "run_steps",
    "set_working_directory",
]

_PREFIXES = (
    "legato.deployments.steps.",
    "legato.deployments.steps.pull.",
    "legato.deployments.steps.utility.",
    "prefect.deployments.steps.",
    "prefect.deployments.steps.pull.",
    "prefect.deployments.steps.utility.",
)


# -- the built-in steps --------------------------------------------------------------


def set_working_directory(directory: str) -> dict[str, str]:
    """Change the current folder to ``directory`` (absolute, or relative to the current one)."""
    try:
        os.chdir(Path(directory).expanduser())
    except OSError as exc:
        raise StepExecutionError(
            f"set_working_directory: cannot change to {directory!r} ({exc.strerror}); "
            f"the current folder is {os.getcwd()!r}. Fix 'directory' in the pull step.",
            "set_working_directory",
        ) from exc
    return {"directory": os.getcwd()}


def git_clone(
    repository: str,
    branch: str | None = None,
    include_submodules: bool = False,
    access_token: str | None = None,
    commit_sha: str | None = None,
    clone_directory_name: str | None = None,
) -> dict[str, str]:
    """Clone ``repository`` into a folder of the current one; ``{"directory": its path}``.

    The folder is ``clone_directory_name``, else the repository's name (with
    ``-branch`` when a branch is given). When that folder already holds a
    clone of the same repository it is updated to the latest commit of the
    branch (or to ``commit_sha``) instead, with local changes discarded.
    ``access_token`` is put in the URL for HTTPS clones and masked in errors.
    """
    url = _url_with_token(repository, access_token)
    name = clone_directory_name or _clone_name(repository, branch)
    target = Path.cwd() / name
    secrets = [access_token] if access_token else []
    if (target / ".git").exists():
        _update_clone(target, url, branch, commit_sha, include_submodules, secrets)
    elif target.exists() and any(target.iterdir()):
        raise StepExecutionError(
            f"git_clone: {str(target)!r} exists and is not a clone of {repository!r}. "
            "Remove it, or set clone_directory_name to another folder.",
            "git_clone",
        )
    else:
        _fresh_clone(target, url, branch, commit_sha, include_submodules, secrets)
    return {"directory": str(target)}


def _clone_name(repository: str, branch: str | None) -> str:
    base = repository.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git")
    return f"{base}-{branch}" if branch else base


def _url_with_token(repository: str, access_token: str | None) -> str:
    if not access_token:
        return repository
    parts = urlsplit(repository)
    if parts.scheme not in ("http", "https"):
        raise StepExecutionError(
            f"git_clone: access_token works with https:// repositories, not {repository!r}. "
            "Use an https URL, or configure SSH credentials and drop access_token.",
            "git_clone",
        )
    host = parts.hostname or ""
    if "gitlab" in host:
        user = f"oauth2:{access_token}"
    elif "bitbucket" in host:
        user = f"x-token-auth:{access_token}"
    else:
        user = access_token
    netloc = f"{user}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _fresh_clone(
    target: Path,
    url: str,
    branch: str | None,
    commit_sha: str | None,
    include_submodules: bool,
    secrets: list[str],
) -> None:
    if commit_sha:
        target.mkdir(parents=True, exist_ok=True)
        _git(["init", "--quiet"], target, secrets)
        _git(["remote", "add", "origin", url], target, secrets)
        _git(["fetch", "--quiet", "--depth", "1", "origin", commit_sha], target, secrets)
        _git(["checkout", "--quiet", "--force", "FETCH_HEAD"], target, secrets)
        if include_submodules:
            _git(["submodule", "update", "--init", "--recursive"], target, secrets)
        return
    command = ["clone", "--quiet", "--depth", "1"]
    if _is_local(url):
        command = ["clone", "--quiet"]  # git ignores --depth for local paths, with a warning
    if branch:
        command += ["--branch", branch]
    if include_submodules:
        command.append("--recurse-submodules")
    _git([*command, url, str(target)], Path.cwd(), secrets)


def _update_clone(
    target: Path,
    url: str,
    branch: str | None,
    commit_sha: str | None,
    include_submodules: bool,
    secrets: list[str],
) -> None:
    _git(["remote", "set-url", "origin", url], target, secrets)
    ref = commit_sha or branch or "HEAD"
    fetch = ["fetch", "--quiet", "origin", ref]
    if not _is_local(url):
        fetch[2:2] = ["--depth", "1"]
    _git(fetch, target, secrets)
    _git(["checkout", "--quiet", "--force", "FETCH_HEAD"], target, secrets)
    if include_submodules:
        _git(["submodule", "update", "--init", "--recursive"], target, secrets)


def _is_local(url: str) -> bool:
    return "://" not in url and not url.split("/", 1)[0].count(":")


def _git(arguments: list[str], cwd: Path, secrets: list[str]) -> str:
    environment = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    try:
        completed = subprocess.run(
            ["git", *arguments], cwd=cwd, env=environment, capture_output=True, text=True
        )
    except FileNotFoundError as exc:
        raise StepExecutionError(
            "git_clone: the `git` command was not found. Install git on the worker's machine.",
            "git_clone",
        ) from exc
    if completed.returncode != 0:
        shown = _mask(" ".join(["git", *arguments]), secrets)
        detail = _mask(completed.stderr.strip() or completed.stdout.strip(), secrets)
        raise StepExecutionError(
            f"git_clone: `{shown}` failed with exit code {completed.returncode}: {detail}",
            "git_clone",
        )
    return completed.stdout


def _mask(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "********")
    return text


def run_shell_script(
    script: str,
    directory: str | None = None,
    env: Mapping[str, str] | None = None,
    stream_output: bool = True,
    expand_env_vars: bool = False,
) -> dict[str, str]:
    """Run each line of ``script`` as one command (split like a shell, not run by one).

    ``{"stdout": ..., "stderr": ...}`` of all the commands, stripped. A command
    that exits non-zero stops the script with StepExecutionError.
    ``expand_env_vars`` expands ``$NAME`` and ``${NAME}`` in each command first,
    from the environment with ``env`` applied.
    """
    environment = {**os.environ, **(env or {})}
    stdout: list[str] = []
    stderr: list[str] = []
    for line in script.splitlines():
        if not line.strip():
            continue
        command_line = _expand(line, environment) if expand_env_vars else line
        arguments = shlex.split(command_line)
        code = _run_streaming(arguments, directory, environment, stream_output, stdout, stderr)
        if code != 0:
            raise StepExecutionError(
                f"run_shell_script: `{line.strip()}` exited with code {code}: "
                f"{''.join(stderr[-20:]).strip() or 'no error output'}",
                "run_shell_script",
            )
    return {"stdout": "".join(stdout).strip(), "stderr": "".join(stderr).strip()}


_VARIABLE = re.compile(r"\$(?:(\w+)|\{(\w+)\})")


def _expand(line: str, environment: Mapping[str, str]) -> str:
    """``$NAME`` and ``${NAME}`` replaced from ``environment`` (unknown names are kept)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return environment.get(name, match.group(0))

    return _VARIABLE.sub(value, line)


def _run_streaming(
    arguments: list[str],
    directory: str | None,
    environment: dict[str, str],
    stream_output: bool,
    stdout: list[str],
    stderr: list[str],
) -> int:
    try:
        process = subprocess.Popen(
            arguments,
            cwd=directory,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    except OSError as exc:
        raise StepExecutionError(
            f"run_shell_script: cannot run {arguments[0]!r}: {exc.strerror or exc}.",
            "run_shell_script",
        ) from exc
    assert process.stdout is not None and process.stderr is not None  # PIPEs above
    echo_err = sys.stderr if stream_output else None
    reader = threading.Thread(target=_collect, args=(process.stderr, stderr, echo_err))
    reader.start()
    _collect(process.stdout, stdout, sys.stdout if stream_output else None)
    reader.join()
    return process.wait()


def _collect(stream: IO[str], lines: list[str], echo: IO[str] | None) -> None:
    with stream:
        for line in stream:
            lines.append(line)
            if echo is not None:
                echo.write(line)
                echo.flush()


def pip_install_requirements(
    directory: str | None = None,
    requirements_file: str = "requirements.txt",
    stream_output: bool = True,
) -> dict[str, str]:
    """``pip install -r requirements_file`` (in ``directory``) with the running Python."""
    path = Path(directory or ".") / requirements_file
    if not path.is_file():
        raise StepExecutionError(
            f"pip_install_requirements: {str(path.resolve())!r} does not exist. "
            "Fix 'directory' or 'requirements_file' in the step.",
            "pip_install_requirements",
        )
    command = f"{shlex.quote(sys.executable)} -m pip install -r {shlex.quote(str(path))}"
    return run_shell_script(command, stream_output=stream_output)


BUILT_IN_STEPS: dict[str, Callable[..., Any]] = {
    "set_working_directory": set_working_directory,
    "git_clone": git_clone,
    "run_shell_script": run_shell_script,
    "pip_install_requirements": pip_install_requirements,
}


# -- running steps -------------------------------------------------------------------


def resolve_step(name: str, requires: str | None = None) -> Callable[..., Any]:
    """The function a step name stands for: built in, or an importable ``module.function``."""
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            function = BUILT_IN_STEPS.get(name[len(prefix) :])
            if function is not None:
                return function
            raise StepExecutionError(_unknown_step(name, None), name)
    module_name, _, attribute = name.rpartition(".")
    if not module_name:
        raise StepExecutionError(_unknown_step(name, None), name)
    try:
        function = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise StepExecutionError(_unknown_step(name, exc, requires), name) from exc
    if not callable(function):
        raise StepExecutionError(f"Step {name!r} is not a function.", name)
    return function  # type: ignore[no-any-return]


def _unknown_step(name: str, exc: BaseException | None, requires: str | None = None) -> str:
    supported = ", ".join(f"legato.deployments.steps.{step}" for step in BUILT_IN_STEPS)
    text = f"Unknown step {name!r}. The built-in steps are: {supported} (Prefect's names work too)."
    if exc is not None:
        text += f" As a custom step it cannot be imported: {exc}."
        if requires:
            text += f" It requires {requires!r}: pip install it where the worker runs."
    return text


def run_steps(
    steps: Sequence[Mapping[str, Any]] | None,
    outputs: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    read_variable: Callable[[str], Any] | None = None,
) -> dict[str, Any]:
    """Run ``steps`` in order; their outputs merged into one dict (later steps win).

    ``outputs`` are values already known (they are in the result too); each
    step's arguments are resolved (``{{ step-id.key }}``, ``{{ $ENV }}``,
    ``{{ legato.variables.name }}``) just before it runs.
    """
    merged: dict[str, Any] = dict(outputs or {})
    by_id: dict[str, Mapping[str, Any]] = {}
    for index, step in enumerate(steps or []):
        name, arguments, step_id, requires = _parse_step(step, index)
        function = resolve_step(name, requires)
        from legato.deployments.templates import resolve_templates

        try:
            resolved = resolve_templates(arguments, by_id, environ, read_variable)
        except ConfigurationError as exc:
            raise StepExecutionError(f"Step {index + 1} ({name}): {exc}", name) from exc
        output = _call_step(name, function, resolved)
        if step_id:
            by_id[step_id] = output
        merged.update(output)
    return merged


def _parse_step(step: Any, index: int) -> tuple[str, dict[str, Any], str | None, str | None]:
    if not isinstance(step, Mapping) or len(step) != 1:
        raise StepExecutionError(
            f"Step {index + 1} must be a mapping with exactly one key, the step's name "
            f"(e.g. {{'legato.deployments.steps.git_clone': {{'repository': ...}}}}); got {step!r}.",
            repr(step),
        )
    ((name, arguments),) = step.items()
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, Mapping):
        raise StepExecutionError(
            f"Step {index + 1} ({name}): its arguments must be a mapping, got {arguments!r}.", name
        )
    arguments = dict(arguments)
    step_id = arguments.pop("id", None)
    requires = arguments.pop("requires", None)
    return str(name), arguments, step_id, requires


def _call_step(
    name: str, function: Callable[..., Any], arguments: dict[str, Any]
) -> dict[str, Any]:
    try:
        inspect.signature(function).bind(**arguments)
    except TypeError as exc:
        accepted = ", ".join(inspect.signature(function).parameters)
        raise StepExecutionError(
            f"Step {name!r} got arguments it does not accept ({exc}). Its arguments: {accepted}.",
            name,
        ) from None
    except ValueError:
        pass  # no signature (a builtin): let the call decide
    try:
        result = function(**arguments)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
    except StepExecutionError:
        raise
    except Exception as exc:
        raise StepExecutionError(
            f"Step {name!r} failed: {type(exc).__name__}: {exc}", name
        ) from exc
    if result is None:
        return {}
    if not isinstance(result, Mapping):
        raise StepExecutionError(
            f"Step {name!r} returned {type(result).__name__}; a step returns a dict (or None).",
            name,
        )
    return dict(result)
