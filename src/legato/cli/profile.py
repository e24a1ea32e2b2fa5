"""``legato profile``: named sets of settings in ``$LEGATO_HOME/profiles.toml``."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from legato.cli._output import command_group, exits_on_error

app = command_group("Manage profiles: named sets of settings.")


def _warn_if_environment_overrides(name: str) -> None:
    from legato.cli._output import warn

    chosen = os.environ.get("LEGATO_PROFILE")
    if chosen and chosen != name:
        warn(f"LEGATO_PROFILE={chosen!r} is set in the environment and takes precedence.")


@app.command("ls")
@exits_on_error
def list_profiles() -> None:
    """List profiles; the active one is marked with *."""
    from legato.cli._output import info
    from legato.settings import active_profile_name, load_profiles

    profiles = load_profiles()
    active = active_profile_name(profiles)
    for name in sorted({*profiles.profiles, active}):
        info(
            f"* {name}" if name == active else f"  {name}",
            style="green" if name == active else None,
        )


@app.command("create")
@exits_on_error
def create(
    name: Annotated[str, typer.Argument(help="The new profile's name.")],
    from_: Annotated[
        str | None, typer.Option("--from", help="Copy the settings of this profile.")
    ] = None,
) -> None:
    """Create a profile, empty or copied from another."""
    from legato.cli._output import info
    from legato.settings import create_profile

    create_profile(name, from_=from_)
    info(f"Created profile {name!r}. Switch to it with `legato profile use {name}`.")


@app.command("use")
@exits_on_error
def use(name: Annotated[str, typer.Argument(help="The profile to make active.")]) -> None:
    """Make a profile the active one."""
    from legato.cli._output import info
    from legato.settings import use_profile

    use_profile(name)
    info(f"Now using profile {name!r}.")
    _warn_if_environment_overrides(name)


@app.command("inspect")
@exits_on_error
def inspect(
    name: Annotated[
        str | None, typer.Argument(help="The profile (default: the active one).")
    ] = None,
) -> None:
    """Print the settings stored in a profile."""
    from legato.cli._output import info
    from legato.settings import active_profile_name, load_profiles

    profiles = load_profiles()
    chosen = name if name is not None else active_profile_name(profiles)
    values = profiles.get(chosen)
    if not values:
        info(f"Profile {chosen!r} is empty.")
    for key, value in values.items():
        info(f"{key}={value!r}")


@app.command("delete")
@exits_on_error
def delete(name: Annotated[str, typer.Argument(help="The profile to delete.")]) -> None:
    """Delete a profile (not the active one)."""
    from legato.cli._output import info
    from legato.settings import delete_profile

    delete_profile(name)
    info(f"Deleted profile {name!r}.")


@app.command("rename")
@exits_on_error
def rename(
    old: Annotated[str, typer.Argument(help="The profile's current name.")],
    new: Annotated[str, typer.Argument(help="Its new name.")],
) -> None:
    """Rename a profile (it stays active if it was)."""
    from legato.cli._output import info
    from legato.settings import rename_profile

    rename_profile(old, new)
    info(f"Renamed profile {old!r} to {new!r}.")
