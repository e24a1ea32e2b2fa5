"""The typed settings tree and the registry of every setting derived from it.

Each section is an immutable ``Section`` record; each leaf field is one setting whose
environment variable is its path joined by ``_`` under ``LEGATO_``:
``settings.logging.level`` <-> ``LEGATO_LOGGING_LEVEL``. Values are parsed
and checked by a small table keyed by the field's annotation, so loading
needs no pydantic (see docs/settings.md for the measured cost).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from legato.exceptions import ConfigurationError
from legato.settings._fields import Check, FieldSpec, Section, section, setting

ENV_PREFIX = "LEGATO_"
DEFAULT_HOME = Path("~/.legato")

# -- parsers: raw value (str from env/.env, TOML scalar, Python value) -> typed value


def _to_str(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    raise ValueError("is not a string (quote it)")


def _to_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
    raise ValueError("is not a boolean (use true/false, 1/0, yes/no or on/off)")


def _to_int(raw: Any) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        try:
            return int(raw.strip())
        except ValueError:
            pass
    raise ValueError("is not an integer")


def _to_float(raw: Any) -> float:
    value: float | None = None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            value = None
    if value is None or math.isnan(value):
        raise ValueError("is not a number")
    return value


def _to_path(raw: Any) -> Path:
    if isinstance(raw, str | os.PathLike) and os.fspath(raw):
        return Path(raw).expanduser()
    raise ValueError("is not a path")


def _optional(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def parse_optional(raw: Any) -> Any:
        return None if raw is None or raw == "" else parse(raw)

    return parse_optional


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "str": _to_str,
    "str | None": _optional(_to_str),
    "bool": _to_bool,
    "int": _to_int,
    "int | None": _optional(_to_int),
    "float": _to_float,
    "Path": _to_path,
    "Path | None": _optional(_to_path),
}


# -- checks: typed value -> typed value (maybe normalised), ValueError naming the rule


def greater_than(bound: float) -> Check:
    """A check that refuses values <= ``bound``."""

    def check(value: float) -> float:
        if not value > bound:
            raise ValueError(f"must be greater than {bound}")
        return value

    return check


def at_least(bound: float) -> Check:
    """A check that refuses values < ``bound``."""

    def check(value: float) -> float:
        if value < bound:
            raise ValueError(f"must be at least {bound}")
        return value

    return check


def _logging_level(value: str) -> str:
    name = value.strip().upper()
    if name not in logging.getLevelNamesMapping():
        raise ValueError("is not a logging level; use DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return name


def _http_url(value: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            "is not an http(s) URL; set it like 'http://127.0.0.1:4200/api', "
            "or unset it to use the embedded database"
        )
    return value.rstrip("/")


def _database_url(value: str) -> str:
    if "://" not in value:
        raise ValueError(
            "is not a database URL; set it like 'sqlite:////abs/path/legato.db' or "
            "'postgresql+psycopg://user:pass@host/db', or unset it for the embedded SQLite file"
        )
    return value


# -- the tree


class DatabaseSettings(Section):
    """Where runs are recorded."""

    url: str | None = setting(
        default=None,
        doc="SQLAlchemy URL of the database. Unset: the embedded SQLite file at database_path.",
        check=_database_url,
    )


class ApiSettings(Section):
    """How the client reaches a legato server."""

    url: str | None = setting(
        default=None,
        doc="URL of a legato server's API, e.g. http://127.0.0.1:4200/api. Unset: embedded mode.",
        check=_http_url,
    )
    auth_string: str | None = setting(
        default=None,
        doc="'user:password' for the server's basic auth; unset when the server has none.",
    )


class LoggingSettings(Section):
    """Console output and run logs."""

    level: str = setting(default="INFO", doc="Level of the 'legato' logger.", check=_logging_level)
    setup: bool = setting(
        default=True,
        doc="Install legato's console handler on the first run; false leaves logging to you.",
    )
    log_prints: bool = setting(
        default=False, doc="Record print() calls inside flows and tasks as run logs."
    )


class RecorderSettings(Section):
    """The background writer that batches states and logs."""

    flush_interval_seconds: float = setting(
        default=0.5,
        doc="Longest time a record waits in memory before it is written.",
        check=greater_than(0),
    )
    max_batch_size: int = setting(
        default=10_000, doc="Most records written in one transaction.", check=at_least(1)
    )


class FlowsSettings(Section):
    """Defaults for @flow options."""

    default_retries: int = setting(
        default=0, doc="Retries of a flow run that fails.", check=at_least(0)
    )
    default_retry_delay_seconds: float = setting(
        default=0.0, doc="Seconds between a flow run's retries.", check=at_least(0)
    )


class TasksSettings(Section):
    """Defaults for @task options."""

    default_retries: int = setting(
        default=0, doc="Retries of a task run that fails.", check=at_least(0)
    )
    default_retry_delay_seconds: float = setting(
        default=0.0, doc="Seconds between a task run's retries.", check=at_least(0)
    )


class TaskRunnerSettings(Section):
    """The default ThreadPoolTaskRunner."""

    thread_pool_max_workers: int | None = setting(
        default=None,
        doc="Threads of the default task runner. Unset: Python's default.",
        check=at_least(1),
    )


class ResultsSettings(Section):
    """Where and whether results are persisted."""

    persist_by_default: bool = setting(
        default=False, doc="Persist every task's result unless it says not to."
    )
    local_storage_path: Path | None = setting(
        default=None, doc="Folder for persisted results. Unset: home/storage."
    )
    default_serializer: str = setting(
        default="pickle",
        doc="Serializer of persisted results: pickle, json, compressed/pickle, compressed/json.",
    )
    default_storage_block: str | None = setting(
        default=None,
        doc="A saved storage block ('block-type/name') for persisted results. Unset: local_storage_path.",
    )


class ConcurrencySettings(Section):
    """Concurrency and rate limits shared by every process recording to one store."""

    lease_duration_seconds: float = setting(
        default=30.0,
        doc="How long a held concurrency slot outlives a holder that stops renewing it (dies).",
        check=greater_than(0),
    )


class ServerApiSettings(Section):
    """Where ``legato server start`` listens, and who may call it."""

    host: str = setting(default="127.0.0.1", doc="Address the server listens on.")
    port: int = setting(default=4200, doc="Port the server listens on (0: any free one).")
    auth_string: str | None = setting(
        default=None,
        doc="'user:password' the server requires (HTTP basic auth); unset: no auth.",
    )


class ServerLogsSettings(Section):
    """Run logs sent to the server."""

    max_batch_size: int = setting(
        default=1000, doc="Most log lines one POST /api/logs/ may carry.", check=at_least(1)
    )


class SchedulerServiceSettings(Section):
    """The scheduler: deployment schedules -> scheduled flow runs, ahead of time."""

    enabled: bool = setting(default=True, doc="Run the scheduler service in the server.")
    loop_seconds: float = setting(
        default=10.0, doc="Seconds between two passes of the scheduler.", check=greater_than(0)
    )
    horizon_seconds: float = setting(
        default=100 * 24 * 3600.0,
        doc="How far ahead runs are created, in seconds (default 100 days).",
        check=greater_than(0),
    )
    min_runs: int = setting(
        default=3,
        doc="Runs kept ahead per schedule even beyond the horizon.",
        check=at_least(0),
    )
    max_runs: int = setting(
        default=100, doc="Most runs kept ahead per schedule.", check=at_least(1)
    )


class LateRunsServiceSettings(Section):
    """The late-runs service: scheduled runs that did not start in time become Late."""

    enabled: bool = setting(default=True, doc="Run the late-runs service in the server.")
    loop_seconds: float = setting(
        default=5.0,
        doc="Seconds between two passes of the late-runs service.",
        check=greater_than(0),
    )
    grace_seconds: float = setting(
        default=15.0,
        doc="Seconds after its scheduled time before a run that has not started is Late.",
        check=at_least(0),
    )


class ExpiredPausesServiceSettings(Section):
    """The expired-pauses service: paused runs whose pause timed out become Failed."""

    enabled: bool = setting(default=True, doc="Run the expired-pauses service in the server.")
    loop_seconds: float = setting(
        default=5.0,
        doc="Seconds between two passes of the expired-pauses service.",
        check=greater_than(0),
    )
    grace_seconds: float = setting(
        default=60.0,
        doc="Seconds after its timeout before a run paused in a process (not suspended) is "
        "failed by the service: until then its own process fails it.",
        check=at_least(0),
    )


class ServerServicesSettings(Section):
    """The server's background services."""

    scheduler: SchedulerServiceSettings = section(default_factory=SchedulerServiceSettings)
    late_runs: LateRunsServiceSettings = section(default_factory=LateRunsServiceSettings)
    expired_pauses: ExpiredPausesServiceSettings = section(
        default_factory=ExpiredPausesServiceSettings
    )


class ServerSettings(Section):
    """The REST server (``legato server start``)."""

    api: ServerApiSettings = section(default_factory=ServerApiSettings)
    logs: ServerLogsSettings = section(default_factory=ServerLogsSettings)
    services: ServerServicesSettings = section(default_factory=ServerServicesSettings)


class WorkerSettings(Section):
    """Workers (``legato worker start``): polling, heartbeats, cancellation."""

    query_seconds: float = setting(
        default=1.0,
        doc="Seconds between two polls of a worker for scheduled runs (and cancellations).",
        check=greater_than(0),
    )
    prefetch_seconds: float = setting(
        default=10.0,
        doc="How far ahead a worker reads scheduled runs; each is claimed at its scheduled time.",
        check=at_least(0),
    )
    heartbeat_seconds: float = setting(
        default=30.0, doc="Seconds between two heartbeats of a worker.", check=greater_than(0)
    )
    cancellation_grace_seconds: float = setting(
        default=30.0,
        doc="Seconds a cancelled run's process gets after SIGTERM before SIGKILL.",
        check=at_least(0),
    )
    backoff_max_seconds: float = setting(
        default=30.0,
        doc="Longest wait between two tries of a worker whose server is unreachable.",
        check=greater_than(0),
    )


class Settings(Section):
    """All of legato's settings: one immutable value (build it with ``load_settings``)."""

    home: Path = setting(
        default=DEFAULT_HOME,
        doc="Folder of legato's database, profiles.toml and stored results. Environment only.",
        bootstrap=True,
    )
    profile: str = setting(
        default="default",
        doc="Name of the active profile in home/profiles.toml. Environment only.",
        bootstrap=True,
    )
    database: DatabaseSettings = section(default_factory=DatabaseSettings)
    api: ApiSettings = section(default_factory=ApiSettings)
    logging: LoggingSettings = section(default_factory=LoggingSettings)
    recorder: RecorderSettings = section(default_factory=RecorderSettings)
    flows: FlowsSettings = section(default_factory=FlowsSettings)
    tasks: TasksSettings = section(default_factory=TasksSettings)
    task_runner: TaskRunnerSettings = section(default_factory=TaskRunnerSettings)
    results: ResultsSettings = section(default_factory=ResultsSettings)
    concurrency: ConcurrencySettings = section(default_factory=ConcurrencySettings)
    server: ServerSettings = section(default_factory=ServerSettings)
    worker: WorkerSettings = section(default_factory=WorkerSettings)
    # Where each value came from; internal (no doc), so not part of equality or repr.
    sources: Mapping[str, SettingSource] = section(default_factory=lambda: MappingProxyType({}))

    @property
    def database_path(self) -> Path:
        """The embedded SQLite file: ``home / "legato.db"``."""
        return self.home / "legato.db"

    def to_dict(self) -> dict[str, Any]:
        """The settings as nested plain dicts (Paths kept as Paths)."""
        return _section_to_dict(self)

    def to_environment_variables(self) -> dict[str, str]:
        """Every setting as ``LEGATO_*`` strings, e.g. for a child process."""
        return {name: format_value(spec.get(self)) for name, spec in SETTINGS.items()}


def _section_to_dict(obj: Section) -> dict[str, Any]:
    return {
        field.name: _section_to_dict(value) if isinstance(value, Section) else value
        for field in obj.__fields__
        if field.doc or field.is_section
        for value in (getattr(obj, field.name),)
    }


class SettingSource(NamedTuple):
    """One setting's value and where it came from."""

    name: str
    value: Any
    source: str  # "override" | "environment" | "dotenv" | "profile" | "pyproject" | "default"
    location: str | None  # the file (and profile) it was read from, if any


# -- the registry


class SettingSpec:
    """One setting: its env-var name, its path in the tree, its type, default and docs."""

    __slots__ = ("_field", "name", "path")

    def __init__(self, path: tuple[str, ...], field: FieldSpec) -> None:
        if field.type_name not in _PARSERS:
            raise TypeError(f"Setting {'.'.join(path)} has an unsupported type {field.type_name!r}")
        self.path = path
        self.name = ENV_PREFIX + "_".join(path).upper()
        self._field = field

    def __repr__(self) -> str:
        return f"SettingSpec({self.name!r}, {self.type_name}, default={self.default!r})"

    @property
    def dotted_path(self) -> str:
        """The attribute path, e.g. ``logging.level``."""
        return ".".join(self.path)

    @property
    def type_name(self) -> str:
        """The annotation, e.g. ``int | None``."""
        return self._field.type_name

    @property
    def default(self) -> Any:
        """The value when no source sets it."""
        return self._field.default

    @property
    def doc(self) -> str:
        """One line saying what the setting does."""
        return self._field.doc

    @property
    def is_bootstrap(self) -> bool:
        """Read from the environment only (it locates the profiles file)."""
        return self._field.bootstrap

    @property
    def is_optional(self) -> bool:
        """Whether None (an empty string in the environment) is a valid value."""
        return self.type_name.endswith("| None")

    def parse(self, raw: Any) -> Any:
        """Turn a raw value into this setting's type; ValueError says what is wrong."""
        value = _PARSERS[self.type_name](raw)
        check = self._field.check
        return value if value is None or check is None else check(value)

    def get(self, settings: Settings) -> Any:
        """This setting's value in ``settings``."""
        value: Any = settings
        for attribute in self.path:
            value = getattr(value, attribute)
        return value


def _walk(cls: type[Section], prefix: tuple[str, ...]) -> Iterator[SettingSpec]:
    for field in cls.__fields__:
        path = (*prefix, field.name)
        if field.is_section:
            yield from _walk(field.default_factory, path)  # type: ignore[arg-type]
        elif field.doc:
            yield SettingSpec(path, field)


def _build_registry() -> Mapping[str, SettingSpec]:
    registry: dict[str, SettingSpec] = {}
    for spec in _walk(Settings, ()):
        if spec.name in registry:
            raise TypeError(f"Two settings map to {spec.name}")
        registry[spec.name] = spec
    return MappingProxyType(registry)


SETTINGS: Mapping[str, SettingSpec] = _build_registry()
"""Every setting, by environment-variable name, in declaration order."""

_BY_PATH = {spec.dotted_path: spec for spec in SETTINGS.values()}


def resolve_setting_name(name: str) -> str:
    """The env-var name of a setting given as ``LEGATO_X_Y`` or ``x.y`` (any case).

    Raises ConfigurationError suggesting the closest valid name.
    """
    candidate = name.strip()
    upper = candidate.upper()
    if upper in SETTINGS:
        return upper
    if not upper.startswith(ENV_PREFIX) and ENV_PREFIX + upper in SETTINGS:
        return ENV_PREFIX + upper
    spec = _BY_PATH.get(candidate.lower())
    if spec is not None:
        return spec.name
    close = closest_setting(name)
    hint = (
        f" Did you mean {close.name!r}?"
        if close
        else " List the valid names with `legato config view --show-defaults`."
    )
    raise ConfigurationError(f"Unknown setting {name!r}.{hint}")


def closest_setting(name: str) -> SettingSpec | None:
    """The setting whose name is most like ``name`` (env-var or dotted form), if any is close."""
    import difflib

    upper = name.strip().upper().replace(".", "_")
    if not upper.startswith(ENV_PREFIX):
        upper = ENV_PREFIX + upper
    close = difflib.get_close_matches(upper, list(SETTINGS), n=1, cutoff=0.6)
    return SETTINGS[close[0]] if close else None


def format_value(value: Any) -> str:
    """A typed value as the string an environment variable would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def build_settings(values: Mapping[str, Any], sources: Mapping[str, SettingSource]) -> Settings:
    """Assemble the tree from parsed values keyed by env-var name."""
    by_path = {spec.path: values[name] for name, spec in SETTINGS.items()}
    settings: Settings = _build_section(
        Settings, (), by_path, sources=MappingProxyType(dict(sources))
    )
    return settings


def _build_section(
    cls: type[Section],
    prefix: tuple[str, ...],
    by_path: Mapping[tuple[str, ...], Any],
    **extra: Any,
) -> Any:
    kwargs = dict(extra)
    for field in cls.__fields__:
        path = (*prefix, field.name)
        if field.is_section:
            kwargs[field.name] = _build_section(field.default_factory, path, by_path)  # type: ignore[arg-type]
        elif path in by_path:
            kwargs[field.name] = by_path[path]
    return cls(**kwargs)
