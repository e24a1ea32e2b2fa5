"""Profiles: named sets of settings in ``$LEGATO_HOME/profiles.toml``.

The file looks like this (a missing file means one empty "default" profile)::

    active = "default"

    [profiles.default]
    LEGATO_LOGGING_LEVEL = "DEBUG"

    [profiles.dev]
    LEGATO_API_URL = "http://127.0.0.1:4200/api"

``LEGATO_PROFILE`` in the environment beats ``active``. The file is written
by a small writer of this one format (no TOML-writing dependency).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from legato.exceptions import ConfigurationError
from legato.settings import _overrides
from legato.settings.models import DEFAULT_HOME, SETTINGS, format_value, resolve_setting_name

PROFILES_FILENAME = "profiles.toml"
DEFAULT_PROFILE = "default"


class Profiles:
    """The content of one profiles file: the active name and each profile's settings."""

    __slots__ = ("active", "path", "profiles")

    def __init__(
        self,
        path: Path,
        active: str = DEFAULT_PROFILE,
        profiles: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.path = path
        self.active = active
        self.profiles = profiles if profiles is not None else {DEFAULT_PROFILE: {}}

    def __repr__(self) -> str:
        return f"Profiles({str(self.path)!r}, active={self.active!r}, profiles={self.profiles!r})"

    def get(self, name: str) -> dict[str, Any]:
        """The settings of profile ``name``; ConfigurationError if there is none."""
        if name in self.profiles:
            return self.profiles[name]
        if name == DEFAULT_PROFILE:
            return {}
        raise self.not_found(name)

    def not_found(self, name: str) -> ConfigurationError:
        """The error for a profile name that is not in the file."""
        return ConfigurationError(
            f"Profile {name!r} not found in {self.path}.{_closest(name, self.profiles)} "
            f"Create it with `legato profile create {name}`, or list profiles with `legato profile ls`."
        )


def _closest(name: str, names: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(names), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


# -- locating and reading


def default_home(environ: Mapping[str, str] | None = None) -> Path:
    """``LEGATO_HOME`` from the active overrides or the environment, else ``~/.legato``."""
    found = _overrides.bootstrap_raw("LEGATO_HOME", environ, _overrides.current.get())
    return Path(found[0] if found else DEFAULT_HOME).expanduser()


def profiles_path(home: Path | None = None) -> Path:
    """Where the profiles file of ``home`` (default: the current home) lives."""
    return (home if home is not None else default_home()) / PROFILES_FILENAME


def load_profiles(home: Path | None = None) -> Profiles:
    """Read the profiles file of ``home``; a missing file gives the implicit default."""
    return read_profiles(profiles_path(home))


def read_profiles(path: Path) -> Profiles:
    """Read one profiles file; ConfigurationError names the file and line if it is corrupt."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Profiles(path)
    except NotADirectoryError as exc:
        raise ConfigurationError(
            f"LEGATO_HOME={str(path.parent)!r} is not a folder (it, or a folder above it, is a file), "
            "so legato cannot keep its profiles and database there. "
            "Point LEGATO_HOME at a folder (it is created if missing)."
        ) from exc
    except OSError as exc:
        raise ConfigurationError(f"Cannot read {path}: {exc}. Check its permissions.") from exc
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(
            f"{path} is not valid TOML: {exc}. Fix that line, or delete the file "
            "to start again from an empty 'default' profile."
        ) from exc
    return _profiles_from_toml(path, data)


def _profiles_from_toml(path: Path, data: dict[str, Any]) -> Profiles:
    active = data.get("active", DEFAULT_PROFILE)
    tables = data.get("profiles", {})
    if not isinstance(active, str) or not isinstance(tables, dict):
        raise ConfigurationError(
            f'{path} must hold `active = "name"` and [profiles.<name>] tables. Fix or delete it.'
        )
    for name, values in tables.items():
        if not isinstance(values, dict) or any(isinstance(v, dict | list) for v in values.values()):
            raise ConfigurationError(
                f"Profile {name!r} in {path} must be a table of LEGATO_* = value lines. Fix or delete it."
            )
    return Profiles(path, active, {name: dict(values) for name, values in tables.items()})


def active_profile_name(profiles: Profiles, environ: Mapping[str, str] | None = None) -> str:
    """``LEGATO_PROFILE`` (override or environment) if set, else the file's ``active``."""
    found = _overrides.bootstrap_raw("LEGATO_PROFILE", environ, _overrides.current.get())
    return str(found[0]) if found else profiles.active


# -- writing


def save_profiles(profiles: Profiles) -> None:
    """Write ``profiles`` to its file atomically, creating the home folder if needed."""
    profiles.path.parent.mkdir(parents=True, exist_ok=True)
    temporary = profiles.path.with_name(profiles.path.name + ".tmp")
    temporary.write_text(dump_profiles(profiles), encoding="utf-8")
    os.replace(temporary, profiles.path)


def dump_profiles(profiles: Profiles) -> str:
    """The TOML text of ``profiles``."""
    lines = [f"active = {_toml_string(profiles.active)}"]
    for name, values in profiles.profiles.items():
        lines += ["", f"[profiles.{_toml_key(name)}]"]
        lines += [f"{_toml_key(key)} = {_toml_value(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


_ESCAPES = {
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
    '"': '\\"',
    "\\": "\\\\",
}


def _toml_string(text: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char < " " or char == "\x7f":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    is_bare = key != "" and all(c.isascii() and (c.isalnum() or c in "_-") for c in key)
    return key if is_bare else _toml_string(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    raise TypeError(f"Cannot write {value!r} ({type(value).__name__}) to a profile")


# -- operations


def use_profile(name: str, home: Path | None = None) -> Profiles:
    """Make ``name`` the active profile of the file."""
    profiles = load_profiles(home)
    profiles.get(name)
    profiles.active = name
    profiles.profiles.setdefault(name, {})
    save_profiles(profiles)
    return profiles


def create_profile(name: str, from_: str | None = None, home: Path | None = None) -> Profiles:
    """Add profile ``name``, empty or a copy of profile ``from_``."""
    _check_profile_name(name)
    profiles = load_profiles(home)
    if name in profiles.profiles:
        raise ConfigurationError(
            f"Profile {name!r} already exists in {profiles.path}. "
            f"Pick another name, or remove it with `legato profile delete {name}`."
        )
    profiles.profiles[name] = dict(profiles.get(from_)) if from_ is not None else {}
    save_profiles(profiles)
    return profiles


def delete_profile(name: str, home: Path | None = None) -> Profiles:
    """Remove profile ``name``; the active profile cannot be removed."""
    profiles = load_profiles(home)
    if name not in profiles.profiles:
        raise profiles.not_found(name)
    if name == active_profile_name(profiles):
        raise ConfigurationError(
            f"Profile {name!r} is active. Switch first with `legato profile use <other>`."
        )
    del profiles.profiles[name]
    save_profiles(profiles)
    return profiles


def rename_profile(old: str, new: str, home: Path | None = None) -> Profiles:
    """Rename profile ``old`` to ``new`` (keeping it active if it was)."""
    _check_profile_name(new)
    profiles = load_profiles(home)
    values = profiles.get(old)
    if new in profiles.profiles:
        raise ConfigurationError(
            f"Profile {new!r} already exists in {profiles.path}. Pick another name."
        )
    profiles.profiles = {
        (new if key == old else key): value for key, value in profiles.profiles.items()
    }
    profiles.profiles.setdefault(new, values)
    if profiles.active == old:
        profiles.active = new
    save_profiles(profiles)
    return profiles


def _check_profile_name(name: str) -> None:
    if not name.strip() or name != name.strip() or not name.isprintable():
        raise ConfigurationError(
            f"{name!r} is not a usable profile name. Use letters, digits, '-' or '_'."
        )


def set_profile_values(
    values: Mapping[str, Any], profile: str | None = None, home: Path | None = None
) -> dict[str, Any]:
    """Validate ``values`` (keyed by setting name) and store them in a profile.

    ``profile`` defaults to the active one. Returns what was written, keyed by
    env-var name, in profile form (strings, numbers, booleans).
    """
    written = {name: _profile_value(name, raw) for name, raw in _resolved(values).items()}
    profiles = load_profiles(home)
    name = profile if profile is not None else active_profile_name(profiles)
    profiles.profiles[name] = {**profiles.get(name), **written}
    save_profiles(profiles)
    return written


def _resolved(values: Mapping[str, Any]) -> dict[str, Any]:
    return {resolve_setting_name(name): raw for name, raw in values.items()}


def _profile_value(name: str, raw: Any) -> Any:
    spec = SETTINGS[name]
    if spec.is_bootstrap:
        raise ConfigurationError(
            f"{name} cannot be stored in a profile: it locates the profiles file. "
            f"Set the environment variable instead (export {name}=...)."
        )
    try:
        value = spec.parse(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name}={raw!r} {exc}.") from exc
    if isinstance(value, bool | int | float | str):
        return value
    return format_value(value)


def unset_profile_values(
    names: Iterable[str], profile: str | None = None, home: Path | None = None
) -> Profiles:
    """Remove settings from a profile (default: the active one).

    A name that is not in the profile raises ConfigurationError.
    """
    profiles = load_profiles(home)
    name = profile if profile is not None else active_profile_name(profiles)
    values = dict(profiles.get(name))
    for raw_name in names:
        key = raw_name if raw_name in values else resolve_setting_name(raw_name)
        if key not in values:
            raise ConfigurationError(f"{key} is not set in profile {name!r}; nothing to unset.")
        del values[key]
    profiles.profiles[name] = values
    save_profiles(profiles)
    return profiles
