"""The source layer: raw values from six places, in one precedence order.

Highest first:

1. ``temporary_settings(...)`` overrides (this context only)
2. environment variables ``LEGATO_*``
3. ``.env`` in the current directory
4. the active profile in ``$LEGATO_HOME/profiles.toml``
5. ``[tool.legato]`` (nested tables) in ``pyproject.toml`` of the current directory
6. defaults

``LEGATO_HOME`` and ``LEGATO_PROFILE`` locate the profiles file, so only 1 and 2
may set them. Every value goes through its setting's parser and checks;
a bad one raises ConfigurationError naming the value, where it came from and
the fix.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from legato.exceptions import ConfigurationError
from legato.settings import _overrides
from legato.settings.models import (
    ENV_PREFIX,
    SETTINGS,
    Settings,
    SettingSource,
    SettingSpec,
    build_settings,
    closest_setting,
    resolve_setting_name,
)
from legato.settings.profiles import DEFAULT_PROFILE, Profiles, read_profiles

SOURCES = ("override", "environment", "dotenv", "profile", "pyproject", "default")
"""Source names, highest precedence first."""


class _Raw(NamedTuple):
    value: Any
    source: str
    location: str | None = None


def load_settings(
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    restore_defaults: Iterable[str] = (),
) -> Settings:
    """Resolve every setting from its sources and return the settings value.

    ``environ`` defaults to ``os.environ`` and ``cwd`` to the current directory.
    ``overrides`` (keyed by setting name) beat every source; names in
    ``restore_defaults`` take their default whatever the sources say.
    """
    given = _overrides.Overrides(
        updates={resolve_setting_name(name): value for name, value in (overrides or {}).items()},
        restore_defaults=frozenset(resolve_setting_name(name) for name in restore_defaults),
    )
    raws = _collect(
        os.environ if environ is None else environ, Path.cwd() if cwd is None else cwd, given
    )
    picked = {
        name: raws.get(name) or _Raw(spec.default, "default") for name, spec in SETTINGS.items()
    }
    values = {name: _parse(SETTINGS[name], raw) for name, raw in picked.items()}
    if values["LEGATO_RESULTS_LOCAL_STORAGE_PATH"] is None:
        values["LEGATO_RESULTS_LOCAL_STORAGE_PATH"] = values["LEGATO_HOME"] / "storage"
    sources = {
        name: SettingSource(name, values[name], raw.source, raw.location)
        for name, raw in picked.items()
    }
    return build_settings(values, sources)


def _collect(environ: Mapping[str, str], cwd: Path, given: _overrides.Overrides) -> dict[str, _Raw]:
    found: dict[str, _Raw] = {}
    _add(found, _override_layer(given), given)
    _add(found, _environment_layer(environ), given)
    home = _parse(
        SETTINGS["LEGATO_HOME"],
        found.get("LEGATO_HOME") or _Raw(SETTINGS["LEGATO_HOME"].default, "default"),
    )
    profiles = read_profiles(home / "profiles.toml")
    is_free = "LEGATO_PROFILE" not in found and "LEGATO_PROFILE" not in given.restore_defaults
    if is_free and profiles.path.exists():
        found["LEGATO_PROFILE"] = _Raw(profiles.active, "profile", f"{profiles.path} (active)")
    profile = str(found["LEGATO_PROFILE"].value) if "LEGATO_PROFILE" in found else DEFAULT_PROFILE
    _add(found, _dotenv_layer(cwd / ".env"), given)
    _add(found, _profile_layer(profiles, profile), given)
    _add(found, _pyproject_layer(cwd / "pyproject.toml"), given)
    return found


def _add(
    found: dict[str, _Raw], layer: Iterable[tuple[str, _Raw]], given: _overrides.Overrides
) -> None:
    for name, raw in layer:
        if name not in found and (raw.source == "override" or name not in given.restore_defaults):
            found[name] = raw


def _override_layer(given: _overrides.Overrides) -> Iterator[tuple[str, _Raw]]:
    for name, value in given.updates.items():
        if name not in given.restore_defaults:
            yield name, _Raw(value, "override")


# Other environment names a setting answers to (the canonical name wins when both are set).
ENV_ALIASES = {"LEGATO_LOCAL_STORAGE_PATH": "LEGATO_RESULTS_LOCAL_STORAGE_PATH"}


def _environment_layer(environ: Mapping[str, str]) -> Iterator[tuple[str, _Raw]]:
    for name, value in environ.items():
        if name.startswith(ENV_PREFIX) and _is_set(name, value):
            yield name, _Raw(value, "environment")
    for alias, name in ENV_ALIASES.items():
        aliased = environ.get(alias)
        if name not in environ and _is_set(name, aliased):
            yield name, _Raw(aliased, "environment", alias)


def _is_set(name: str, value: str | None) -> bool:
    """Known settings only; an empty value means None for optional settings, unset otherwise."""
    spec = SETTINGS.get(name)
    return spec is not None and value is not None and (value != "" or spec.is_optional)


def _dotenv_layer(path: Path) -> Iterator[tuple[str, _Raw]]:
    if not path.is_file():
        return
    from dotenv import dotenv_values

    for name, value in dotenv_values(path).items():
        if name.startswith(ENV_PREFIX) and _is_set(name, value):
            _refuse_bootstrap(SETTINGS[name], str(path))
            yield name, _Raw(value, "dotenv", str(path))


def _profile_layer(profiles: Profiles, profile: str) -> Iterator[tuple[str, _Raw]]:
    location = f"{profile} ({profiles.path})"
    for name, value in profiles.get(profile).items():
        spec = SETTINGS.get(name)
        if spec is None:
            raise ConfigurationError(
                f"Unknown setting {name!r} in profile {location}.{_did_you_mean(name)} "
                f"Remove it with `legato config unset {name}`."
            )
        _refuse_bootstrap(spec, f"profile {location}")
        yield name, _Raw(value, "profile", location)


def _pyproject_layer(path: Path) -> Iterator[tuple[str, _Raw]]:
    table = _read_tool_table(path)
    for dotted, value in _flatten(table, ()):
        spec = SETTINGS.get(ENV_PREFIX + dotted.replace(".", "_").upper())
        if spec is None:
            close = closest_setting(dotted)
            hint = f" Did you mean {close.dotted_path!r}?" if close else ""
            raise ConfigurationError(
                f"Unknown setting {dotted!r} in [tool.legato] of {path}.{hint}"
            )
        _refuse_bootstrap(spec, f"[tool.legato] of {path}")
        yield spec.name, _Raw(value, "pyproject", str(path))


def _read_tool_table(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return {}
    if "legato" not in text:  # skip parsing (and importing tomllib) for other projects
        return {}
    import tomllib

    try:
        table = tomllib.loads(text).get("tool", {}).get("legato", {})
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path} is not valid TOML: {exc}. Fix that line.") from exc
    if not isinstance(table, dict):
        raise ConfigurationError(f"[tool.legato] in {path} must be a table. Fix it.")
    return table


def _flatten(table: Mapping[str, Any], prefix: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    for key, value in table.items():
        path = (*prefix, key)
        if isinstance(value, dict):
            yield from _flatten(value, path)
        else:
            yield ".".join(path), value


def _did_you_mean(name: str) -> str:
    close = closest_setting(name)
    return f" Did you mean {close.name!r}?" if close else ""


def _refuse_bootstrap(spec: SettingSpec, where: str) -> None:
    if spec.is_bootstrap:
        raise ConfigurationError(
            f"{spec.name} is set in {where}, but it is read from the environment only "
            f"(it locates the profiles file). Remove it there and export {spec.name} instead."
        )


def _parse(spec: SettingSpec, raw: _Raw) -> Any:
    try:
        return spec.parse(raw.value)
    except ValueError as exc:
        raise ConfigurationError(
            f"{spec.name}={raw.value!r} (from {_describe(raw)}) {exc}. {_fix(spec, raw)}"
        ) from exc


def _describe(raw: _Raw) -> str:
    if raw.source == "profile":
        return f"profile {raw.location}"
    return {"override": "temporary_settings()", "environment": "the environment"}.get(
        raw.source, str(raw.location)
    )


def _fix(spec: SettingSpec, raw: _Raw) -> str:
    return {
        "override": "Pass a valid value to temporary_settings().",
        "environment": f"Fix or unset the environment variable {spec.name}.",
        "dotenv": f"Fix or remove that line of {raw.location}.",
        "profile": f"Change it with `legato config set {spec.name}=...` "
        f"or remove it with `legato config unset {spec.name}`.",
        "pyproject": f"Fix {spec.dotted_path} in [tool.legato] of {raw.location}.",
    }.get(raw.source, "")
