"""``legato deploy ENTRYPOINT -n NAME --pool POOL``: one deployment of one flow, no project file."""

from __future__ import annotations

from typing import Any

__all__ = ["deploy_entrypoint"]


def deploy_entrypoint(
    entrypoint: str, names: list[str] | None, options: dict[str, Any]
) -> tuple[str, str | None]:
    """Create the deployment; its full name and work pool (exits with one line on bad input)."""
    from legato.cli import _output, _parsing
    from legato.deployments._flow_methods import deploy_flow
    from legato.flows import load_flow_from_entrypoint

    if not names or len(names) != 1:
        _output.fail(
            f"Name the deployment of {entrypoint!r}: legato deploy {entrypoint} -n NAME --pool POOL."
        )
    if not options["pool"]:
        _output.fail(
            f"Give the work pool of {entrypoint!r} with --pool POOL "
            "(create one with `legato work-pool create POOL --type process`)."
        )
    flow = load_flow_from_entrypoint(entrypoint)
    parameters = {
        **_parsing.parse_json_object(options["params"], "--params"),
        **_parsing.parse_key_values(options["param"], "--param"),
    }
    deployment_id = deploy_flow(
        flow,
        names[0],
        work_pool_name=options["pool"],
        work_queue_name=options["work_queue"],
        job_variables=_parsing.parse_key_values(options["job_variable"], "--job-variable") or None,
        schedules=_schedules(options),
        parameters=parameters or None,
        tags=options["tag"],
        version=options["version"],
        description=options["description"],
        print_next_steps=False,
    )
    full_name = f"{flow.name}/{names[0]}"
    _output.info(f"Deployed {full_name!r} ({deployment_id}) to work pool {options['pool']!r}.")
    return full_name, options["pool"]


def _schedules(options: dict[str, Any]) -> list[Any] | None:
    """The one schedule --cron/--interval/--rrule (with --timezone) describe, or None."""
    from legato.cli import _output

    kinds = [flag for flag in ("cron", "interval", "rrule") if options[flag] is not None]
    if not kinds:
        if options["timezone"]:
            _output.fail("--timezone goes with --cron, --interval or --rrule.")
        return None
    if len(kinds) > 1:
        _output.fail(
            f"Give one of --cron, --interval or --rrule, not {' and '.join('--' + k for k in kinds)}."
        )
    from legato.cli.deployment_schedule import build_schedule

    return [
        build_schedule(
            options["cron"],
            options["interval"],
            options["rrule"],
            options["timezone"],
            None,
            True,
            True,
        )
    ]
