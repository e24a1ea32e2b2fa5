"""``legato config``: view the settings in effect, set and unset them in the active profile."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, Any

import typer

from legato.cli._output import command_group, exits_on_error

if TYPE_CHECKING:
    from legato.settings import SettingSource

app = command_group("View and change settings (stored in the active profile).")


@app.command("view")
@exits_on_error
def view(
    show_sources: Annotated[
        bool, typer.Option("--show-sources", help="Say where each value comes from.")
    ] = False,
    show_defaults: Annotated[
        bool, typer.Option("--show-defaults", help="Also list settings left at their default.")
    ] = False,
    show_secrets: Annotated[
        bool, typer.Option("--show-secrets", help="Print secrets instead of ********.")
    ] = False,
) -> None:
    """Print the settings in effect (by default, those not at their default)."""
    from legato.cli._output import info
    from legato.settings import get_current_settings, settings_sources

    settings = get_current_settings()
    info(f"PROFILE = {settings.profile!r}", style="bold")
    for source in settings_sources(settings).values():
        if source.source != "default" or show_defaults:
            info(_line(source, show_sources=show_sources, show_secrets=show_secrets))


def _line(source: SettingSource, *, show_sources: bool, show_secrets: bool) -> str:
    from legato.cli._output import mask_secret
    from legato.settings import format_value

    value = format_value(source.value)
    if not show_secrets:
        value = mask_secret(source.name, value)
    line = f"{source.name}={value!r}"
    if show_sources:
        line += f" (from {source.source}{': ' + source.location if source.location else ''})"
    return line


@app.command("set")
@exits_on_error
def set_(
    assignments: Annotated[
        list[str], typer.Argument(help="KEY=VALUE pairs, e.g. LEGATO_LOGGING_LEVEL=DEBUG.")
    ],
) -> None:
    """Validate settings and store them in the active profile."""
    from legato.cli._output import fail, info, warn
    from legato.settings import active_profile_name, load_profiles, set_profile_values

    values: dict[str, Any] = {}
    for assignment in assignments:
        name, equals, value = assignment.partition("=")
        if not equals:
            fail(f"{assignment!r} is not KEY=VALUE. Write it like LEGATO_LOGGING_LEVEL=DEBUG.")
        values[name] = value
    written = set_profile_values(values)
    for name, value in written.items():
        info(f"Set {name!r} to {value!r}.")
        if name in os.environ:
            warn(f"{name} is also set in the environment, which takes precedence over the profile.")
    info(f"Updated profile {active_profile_name(load_profiles())!r}.")


@app.command("unset")
@exits_on_error
def unset(
    names: Annotated[list[str], typer.Argument(help="Setting names, e.g. LEGATO_LOGGING_LEVEL.")],
) -> None:
    """Remove settings from the active profile (they fall back to the next source)."""
    from legato.cli._output import info
    from legato.settings import active_profile_name, unset_profile_values

    profiles = unset_profile_values(names)
    for name in names:
        info(f"Unset {name!r}.")
    info(f"Updated profile {active_profile_name(profiles)!r}.")
