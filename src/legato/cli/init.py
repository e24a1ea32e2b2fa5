"""``legato init``: write a starter legato.yaml in the current folder."""

from __future__ import annotations

from typing import Annotated

import typer

from legato.cli._output import exits_on_error

FILE_NAME = "legato.yaml"


@exits_on_error
def init(
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing legato.yaml.")
    ] = False,
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="The project's name (default: the folder's).")
    ] = None,
) -> None:
    """Write a starter legato.yaml here, with an example deployment of a flow found in the folder."""
    from pathlib import Path

    from legato.cli._output import fail, info, warn
    from legato.deployments.starter import render_starter_project

    folder = Path.cwd()
    target = folder / FILE_NAME
    if target.exists() and not force:
        fail(f"{target} exists already. Pass --force to overwrite it.")
    for other in ("prefect.yaml", "prefect.yml"):
        if (folder / other).exists():
            warn(
                f"{other} is here too: legato reads it as it is. legato.yaml, once written, "
                f"takes precedence over it."
            )
    text = render_starter_project(folder, name)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"Cannot write {target}: {exc.strerror or exc}.")
    info(f"Wrote {target}. Edit its deployments, then run `legato deploy --all`.")
