"""legato's settings: one typed, immutable value resolved from six sources.

Precedence, highest first: ``temporary_settings`` overrides, ``LEGATO_*``
environment variables, ``.env`` in the current directory, the active profile
of ``$LEGATO_HOME/profiles.toml``, ``[tool.legato]`` in ``pyproject.toml``, and
the defaults. See docs/settings.md.

    >>> from legato.settings import get_current_settings
    >>> get_current_settings().logging.level
    'INFO'
"""

from __future__ import annotations

from legato.settings.context import (
    clear_settings_cache,
    get_current_settings,
    settings_sources,
    temporary_settings,
)
from legato.settings.models import (
    SETTINGS,
    ApiSettings,
    ConcurrencySettings,
    DatabaseSettings,
    FlowsSettings,
    LoggingSettings,
    RecorderSettings,
    ResultsSettings,
    Settings,
    SettingSource,
    SettingSpec,
    TaskRunnerSettings,
    TasksSettings,
    closest_setting,
    format_value,
    resolve_setting_name,
)
from legato.settings.profiles import (
    DEFAULT_PROFILE,
    Profiles,
    active_profile_name,
    create_profile,
    delete_profile,
    load_profiles,
    profiles_path,
    rename_profile,
    save_profiles,
    set_profile_values,
    unset_profile_values,
    use_profile,
)
from legato.settings.sources import SOURCES, load_settings

__all__ = [
    "DEFAULT_PROFILE",
    "SETTINGS",
    "SOURCES",
    "ApiSettings",
    "ConcurrencySettings",
    "DatabaseSettings",
    "FlowsSettings",
    "LoggingSettings",
    "Profiles",
    "RecorderSettings",
    "ResultsSettings",
    "SettingSource",
    "SettingSpec",
    "Settings",
    "TaskRunnerSettings",
    "TasksSettings",
    "active_profile_name",
    "closest_setting",
    "clear_settings_cache",
    "create_profile",
    "delete_profile",
    "format_value",
    "get_current_settings",
    "load_profiles",
    "load_settings",
    "profiles_path",
    "rename_profile",
    "resolve_setting_name",
    "save_profiles",
    "set_profile_values",
    "settings_sources",
    "temporary_settings",
    "unset_profile_values",
    "use_profile",
]
