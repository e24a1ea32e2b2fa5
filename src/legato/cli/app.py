"""The root of the ``legato`` command: its groups and ``legato version``.

Command modules import only typer at the top; settings, storage and rich are
imported inside the commands, so ``legato --help`` stays fast.
"""

from __future__ import annotations

from legato.cli import (
    artifact,
    concurrency_limit,
    config,
    flow,
    flow_run,
    global_concurrency_limit,
    profile,
    server,
    task_run,
    variable,
)
from legato.cli._output import command_group, configure_logging, exits_on_error

app = command_group("legato: workflows with Prefect 3's API, recorded in a local database.")
app.add_typer(config.app, name="config")
app.add_typer(profile.app, name="profile")
app.add_typer(flow.app, name="flow")
app.add_typer(flow_run.app, name="flow-run")
app.add_typer(task_run.app, name="task-run")
app.add_typer(artifact.app, name="artifact")
app.add_typer(variable.app, name="variable")
app.add_typer(concurrency_limit.app, name="concurrency-limit")
app.add_typer(global_concurrency_limit.app, name="global-concurrency-limit")
app.add_typer(server.app, name="server")

# Deployments, work pools and work queues (cli/deployment.py, work_pool.py, work_queue.py, deploy.py).
from legato.cli import deploy, deployment, work_pool, work_queue  # noqa: E402

app.add_typer(deployment.app, name="deployment")
app.add_typer(work_pool.app, name="work-pool")
app.add_typer(work_queue.app, name="work-queue")
app.command("deploy")(deploy.deploy)

# Workers and `legato init` (cli/worker.py, cli/init.py).
from legato.cli import init, worker  # noqa: E402

app.add_typer(worker.app, name="worker")
app.command("init")(init.init)


@app.command("version")
@exits_on_error
def version() -> None:
    """Print legato's version, Python, the platform, the database and the API URL."""
    import platform
    import sys

    from legato import __version__
    from legato.cli._output import mask_secret, print_fields
    from legato.settings import get_current_settings

    settings = get_current_settings()
    print_fields(
        "legato",
        [
            ("Version", __version__),
            ("Python", sys.version.split()[0]),
            ("Platform", platform.platform()),
            ("Profile", settings.profile),
            (
                "Database",
                mask_secret(
                    "LEGATO_DATABASE_URL", settings.database.url or str(settings.database_path)
                ),
            ),
            ("API URL", settings.api.url or "embedded"),
        ],
    )


def main() -> None:
    """Entry point of the ``legato`` script: configure logging, then run the command."""
    configure_logging()
    app()
