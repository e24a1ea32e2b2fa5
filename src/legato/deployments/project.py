"""Project files: ``legato.yaml`` and ``prefect.yaml`` as Prefect 3 writes it.

``load_project(path)`` reads the file, substitutes ``{{ $ENV_VAR }}`` in the
deployments' fields (pull/build/push steps keep their placeholders: they are
resolved where the steps run), and validates everything with pydantic
models that refuse unknown keys. Every problem is reported at once, each as
``file:line: key: what is wrong``.

Top-level keys: ``name``, ``prefect-version`` / ``legato-version`` (accepted,
ignored), ``build`` and ``push`` (accepted; steps there are not run by legato,
a warning says so), ``pull`` (steps run by the worker before loading the
flow), ``deployments`` and ``definitions`` (anything: a place for YAML
anchors). Each deployment may override ``pull`` (and ``build``/``push``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from legato.deployments._yaml_lines import YamlLines, format_path
from legato.exceptions import ConfigurationError, ProjectFileError

if TYPE_CHECKING:
    from legato.schedules import Cron, Interval, RRule

__all__ = [
    "PROJECT_FILE_NAMES",
    "ConcurrencyLimitSpec",
    "DeploymentSpec",
    "ProjectFile",
    "ScheduleSpec",
    "WorkPoolSpec",
    "find_project_file",
    "load_project",
]

logger = logging.getLogger(__name__)

# Looked for in this order by find_project_file.
PROJECT_FILE_NAMES = ("legato.yaml", "legato.yml", "prefect.yaml", "prefect.yml")


def _one_key_step(step: dict[str, Any]) -> dict[str, Any]:
    if len(step) != 1:
        raise ValueError(
            "a step is a mapping with exactly one key, the step's name "
            f"(e.g. legato.deployments.steps.git_clone), got keys {sorted(step)}"
        )
    return step


Step = Annotated[dict[str, dict[str, Any] | None], AfterValidator(_one_key_step)]


def _empty_to_none(value: Any) -> Any:
    return None if value == {} else value


def _none_to_list(value: Any) -> Any:
    return [] if value is None else value


def _limit_to_spec(value: Any) -> Any:
    return {"limit": value} if isinstance(value, int) and not isinstance(value, bool) else value


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class WorkPoolSpec(_Spec):
    """``work_pool:`` of a deployment."""

    name: str | None = None
    work_queue_name: str | None = None
    job_variables: dict[str, Any] = Field(default_factory=dict)


class ScheduleSpec(_Spec):
    """One entry of ``schedules:`` (exactly one of cron, interval, rrule)."""

    cron: str | None = None
    interval: float | None = Field(default=None, gt=0)
    rrule: str | None = None
    timezone: str | None = None
    anchor_date: datetime | None = None
    day_or: bool | None = None
    active: bool = True
    parameters: dict[str, Any] = Field(default_factory=dict)
    slug: str | None = None
    # Written by some Prefect versions; accepted and ignored.
    max_active_runs: int | None = None
    catchup: bool | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ScheduleSpec:
        kinds = [name for name in ("cron", "interval", "rrule") if getattr(self, name) is not None]
        if len(kinds) != 1:
            raise ValueError(
                "a schedule has exactly one of cron, interval or rrule"
                + (f" (this one has {', '.join(kinds)})" if kinds else "")
            )
        if self.day_or is not None and self.cron is None:
            raise ValueError("day_or goes with cron only")
        if self.anchor_date is not None and self.interval is None:
            raise ValueError("anchor_date goes with interval only")
        try:
            self.to_schedule()
        except ImportError:
            pass  # legato.schedules missing: checked when the deployment is created
        except Exception as exc:
            raise ValueError(str(exc)) from None
        return self

    def to_schedule(self) -> Cron | Interval | RRule:
        """The ``legato.schedules`` object this entry describes."""
        from legato import schedules

        common: dict[str, Any] = {
            "timezone": self.timezone,
            "active": self.active,
            "parameters": dict(self.parameters) or None,
        }
        if self.cron is not None:
            day_or = True if self.day_or is None else self.day_or
            return schedules.Cron(self.cron, day_or=day_or, **common)
        if self.interval is not None:
            return schedules.Interval(self.interval, anchor_date=self.anchor_date, **common)
        return schedules.RRule(str(self.rrule), **common)


class ConcurrencyLimitSpec(_Spec):
    """``concurrency_limit:`` as a mapping (a bare integer means ``limit``)."""

    limit: int = Field(ge=1)
    collision_strategy: Literal["ENQUEUE", "CANCEL_NEW"] = "ENQUEUE"


class DeploymentSpec(_Spec):
    """One entry of ``deployments:``."""

    name: str | None = None
    version: str | None = None
    tags: list[str] = Field(default_factory=list)
    description: str | None = None
    entrypoint: str | None = None
    flow_name: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    work_pool: WorkPoolSpec | None = None
    schedules: list[ScheduleSpec] = Field(default_factory=list)
    schedule: Annotated[ScheduleSpec | None, BeforeValidator(_empty_to_none)] = None
    concurrency_limit: Annotated[ConcurrencyLimitSpec | None, BeforeValidator(_limit_to_spec)] = (
        None
    )
    paused: bool = False
    enforce_parameter_schema: bool = True
    build: list[Step] | None = None
    push: list[Step] | None = None
    pull: list[Step] | None = None
    triggers: list[dict[str, Any]] | None = None  # accepted; automations are not wired yet

    def all_schedules(self) -> list[ScheduleSpec]:
        """``schedules`` plus the single ``schedule`` of older files, if any."""
        return [*self.schedules, *([self.schedule] if self.schedule is not None else [])]


class ProjectFile(_Spec):
    """A whole project file."""

    name: str | None = None
    prefect_version: str | float | None = Field(default=None, alias="prefect-version")
    legato_version: str | float | None = Field(default=None, alias="legato-version")
    build: list[Step] | None = None
    push: list[Step] | None = None
    pull: list[Step] | None = None
    deployments: Annotated[list[DeploymentSpec], BeforeValidator(_none_to_list)] = Field(
        default_factory=list
    )
    definitions: Any = None
    _path: Path | None = PrivateAttr(default=None)
    _lines: YamlLines | None = PrivateAttr(default=None)

    @property
    def path(self) -> Path | None:
        """The file it was read from (None when built in code)."""
        return self._path

    @property
    def folder(self) -> Path:
        """The project's folder: entrypoints are relative to it."""
        return self._path.parent if self._path is not None else Path.cwd()

    def line_of(self, *path: int | str) -> int:
        """The line of a key in the file, e.g. ``line_of("deployments", 0, "entrypoint")``."""
        return self._lines.line_of(path) if self._lines is not None else 0

    def pull_steps_for(self, deployment: DeploymentSpec) -> list[dict[str, Any]] | None:
        """The deployment's own pull steps, else the project's (None: no pull section)."""
        steps = deployment.pull if deployment.pull is not None else self.pull
        return None if steps is None else [dict(step) for step in steps]

    def select(self, names: list[str] | None = None) -> list[DeploymentSpec]:
        """Deployments whose name matches one of ``names`` (shell patterns); all when None."""
        import fnmatch

        if not names:
            return list(self.deployments)
        return [
            spec
            for spec in self.deployments
            if spec.name is not None
            and any(fnmatch.fnmatchcase(spec.name, pattern.rpartition("/")[2]) for pattern in names)
        ]

    def deployment_arguments(self, deployment: DeploymentSpec) -> dict[str, Any]:
        """``create_deployment`` keyword arguments for ``deployment`` (all but ``flow_id``)."""
        pool = deployment.work_pool or WorkPoolSpec()
        limit = deployment.concurrency_limit
        return {
            "name": deployment.name,
            "version": deployment.version,
            "description": deployment.description,
            "tags": list(deployment.tags),
            "parameters": dict(deployment.parameters),
            "enforce_parameter_schema": deployment.enforce_parameter_schema,
            "entrypoint": deployment.entrypoint,
            "path": str(self.folder),
            "pull_steps": self.pull_steps_for(deployment),
            "work_pool_name": pool.name,
            "work_queue_name": pool.work_queue_name,
            "job_variables": dict(pool.job_variables),
            "schedules": [spec.to_schedule() for spec in deployment.all_schedules()],
            "paused": deployment.paused,
            "concurrency_limit": None if limit is None else limit.limit,
        }


def find_project_file(folder: str | Path | None = None) -> Path | None:
    """``legato.yaml`` (or ``.yml``), else ``prefect.yaml`` (or ``.yml``), in ``folder``; or None."""
    base = Path(folder) if folder is not None else Path.cwd()
    for name in PROJECT_FILE_NAMES:
        candidate = base / name
        if candidate.is_file():
            return candidate
    return None


def load_project(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> ProjectFile:
    """Read and validate a project file (default: the one ``find_project_file`` finds).

    ``environ`` is where ``{{ $NAME }}`` placeholders are looked up (default:
    ``os.environ``). Raises ProjectFileError listing every problem with its
    line, or ConfigurationError when there is no such file.
    """
    file_path = _locate(path)
    text = _read(file_path)
    shown = str(file_path)
    data, lines = _parse(text, shown)
    problems: list[tuple[int, str, str]] = []
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problems.append((1, "(top level)", "the file must be a mapping (name:, deployments:, ...)"))
        _raise(shown, problems)
    data = _substitute_environment(data, lines, environ, problems)
    try:
        project = ProjectFile.model_validate(data)
    except ValidationError as exc:
        problems.extend(_problems(exc, lines))
    _raise(shown, problems)
    project._path = file_path.resolve()
    project._lines = lines
    _warn_unsupported(project, shown)
    return project


def _locate(path: str | Path | None) -> Path:
    if path is not None:
        return Path(path)
    found = find_project_file()
    if found is None:
        raise ConfigurationError(
            f"No project file in {str(Path.cwd())!r} (looked for {', '.join(PROJECT_FILE_NAMES)}). "
            "Create one with `legato init`, or pass its path."
        )
    return found


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(
            f"Project file {str(path)!r} does not exist. Create one with `legato init`, "
            "or pass the path of an existing legato.yaml / prefect.yaml."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"Cannot read project file {str(path)!r}: {exc}") from exc


def _parse(text: str, shown: str) -> tuple[Any, YamlLines]:
    import yaml

    try:
        return yaml.safe_load(text), YamlLines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = getattr(exc, "problem", None) or str(exc)
        raise ProjectFileError(
            f"{shown}:{line}: not valid YAML: {problem}. Fix the syntax at that line.",
            shown,
            [(line, "(syntax)", str(problem))],
        ) from None


_STEP_SECTIONS = frozenset({"pull", "build", "push"})


def _substitute_environment(
    data: dict[str, Any],
    lines: YamlLines,
    environ: Mapping[str, str] | None,
    problems: list[tuple[int, str, str]],
) -> dict[str, Any]:
    """``{{ $NAME }}`` resolved in ``name`` and the deployments' fields (not in steps)."""
    from legato.deployments.templates import MISSING, render

    source = os.environ if environ is None else environ

    def walk(value: Any, path: tuple[int | str, ...]) -> Any:
        if isinstance(value, dict):
            return {
                key: item
                if (len(path) == 2 and key in _STEP_SECTIONS)
                else walk(item, (*path, key))
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [walk(item, (*path, index)) for index, item in enumerate(value)]
        if not isinstance(value, str) or "{{" not in value:
            return value

        def lookup(name: str) -> Any:
            if not name.startswith("$"):
                return MISSING
            if name[1:] not in source:
                problems.append(
                    (
                        lines.line_of(path),
                        format_path(path),
                        f"the environment variable {name[1:]} is not set "
                        f"('{{{{ {name} }}}}'); set it, or write the value instead",
                    )
                )
                return MISSING
            return source[name[1:]]

        return render(value, lookup)

    result = dict(data)
    if "name" in result:
        result["name"] = walk(result["name"], ("name",))
    if isinstance(result.get("deployments"), list):
        result["deployments"] = walk(result["deployments"], ("deployments",))
    return result


def _problems(exc: ValidationError, lines: YamlLines) -> list[tuple[int, str, str]]:
    found: list[tuple[int, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for error in exc.errors(include_url=False):
        location = _data_path(error.get("loc", ()), lines, error["type"] == "extra_forbidden")
        key = format_path(location)
        message = _message(error, location)
        if (key, message) not in seen:
            seen.add((key, message))
            found.append((lines.line_of(location), key, message))
    return sorted(found, key=lambda problem: problem[0])


def _data_path(loc: tuple[Any, ...], lines: YamlLines, is_extra: bool) -> tuple[int | str, ...]:
    """``loc`` without the parts pydantic adds (union members, validator names)."""
    path: list[int | str] = []
    for part in loc:
        candidate = [*path, part]
        if lines.has(candidate) or isinstance(part, int) or (is_extra and part == loc[-1]):
            path = candidate
    return tuple(path)


def _message(error: Mapping[str, Any], location: tuple[int | str, ...]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        valid = _valid_keys(location[:-1])
        return "unknown key" + (f" (valid keys here: {', '.join(valid)})" if valid else "")
    if kind == "missing":
        return "required, missing"
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    value = error.get("input")
    if kind not in ("value_error", "assertion_error") and not isinstance(value, dict | list):
        message += f", got {value!r}"
    return message


def _valid_keys(path: tuple[int | str, ...]) -> list[str]:
    """The keys the model at ``path`` accepts (walking ProjectFile's fields)."""
    import typing

    model: Any = ProjectFile
    for part in path:
        if isinstance(part, int):
            continue
        fields = getattr(model, "model_fields", {})
        field = fields.get(part) or next(
            (item for item in fields.values() if item.alias == part), None
        )
        if field is None:
            return []
        model = _model_in(field.annotation, typing)
        if model is None:
            return []
    if not hasattr(model, "model_fields"):
        return []
    return [field.alias or name for name, field in model.model_fields.items()]


def _model_in(annotation: Any, typing: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = _model_in(argument, typing)
        if found is not None:
            return found
    return None


def _raise(shown: str, problems: list[tuple[int, str, str]]) -> None:
    if not problems:
        return
    body = "\n".join(f"  {shown}:{line}: {key}: {message}" for line, key, message in problems)
    raise ProjectFileError(
        f"{shown} has {len(problems)} problem(s):\n{body}\n"
        "Fix them (see docs/workers.md for the keys a project file accepts).",
        shown,
        problems,
    )


def _warn_unsupported(project: ProjectFile, shown: str) -> None:
    sections = [("build", project.build), ("push", project.push)]
    for index, deployment in enumerate(project.deployments):
        sections += [
            (f"deployments[{index}].build", deployment.build),
            (f"deployments[{index}].push", deployment.push),
        ]
        if deployment.triggers:
            logger.warning(
                "%s: deployments[%d].triggers are not supported by legato yet; ignored.",
                shown,
                index,
            )
    for name, steps in sections:
        if steps:
            logger.warning(
                "%s: the %s steps are not run by legato (it deploys from the project folder "
                "or the pull steps); ignored.",
                shown,
                name,
            )
