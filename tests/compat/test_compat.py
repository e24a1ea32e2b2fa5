"""The same Prefect 3 user code runs under ``import prefect`` through legato.compat."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

PREFECT_STYLE_SCRIPT = textwrap.dedent(
    """
    from prefect import flow, task, get_run_logger, tags
    from prefect.futures import wait
    from prefect.states import Completed
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect.utilities.annotations import unmapped
    from prefect.tasks import exponential_backoff
    from prefect import runtime

    attempts = []

    @task(retries=2, retry_delay_seconds=exponential_backoff(backoff_factor=0))
    def flaky(x):
        attempts.append(x)
        if len(attempts) < 2:
            raise ValueError("first try fails")
        return x

    @task
    def scale(x, factor):
        return x * factor

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=4), log_prints=True)
    def pipeline(n: int = 4):
        get_run_logger().info("running %s", runtime.flow_run.name)
        first = flaky(1)
        futures = scale.map(range(n), unmapped(10))
        done, not_done = wait(futures)
        assert not not_done
        with tags("compat"):
            total = sum(f.result() for f in futures) + first
        print("total", total)
        return total

    if __name__ == "__main__":
        state = pipeline(return_state=True)
        assert isinstance(state, type(Completed())), state
        print("RESULT", state.result())
    """
)


def test_prefect_names_resolve_to_legato_objects():
    import legato
    import legato.compat

    legato.compat.install()
    try:
        import prefect
        from prefect.states import State

        assert prefect.flow is legato.flow
        assert State is legato.State
    finally:
        legato.compat.uninstall()
    assert "prefect" not in sys.modules or not sys.modules["prefect"].__name__.startswith("legato")


def test_unknown_prefect_module_names_the_missing_counterpart():
    import legato.compat

    legato.compat.install()
    try:
        try:
            import prefect.no_such_module  # noqa: F401
        except ModuleNotFoundError as exc:
            assert "legato.no_such_module" in str(exc)
        else:
            raise AssertionError("expected ModuleNotFoundError")
    finally:
        legato.compat.uninstall()


def test_unmodified_prefect_script_runs_and_is_recorded(tmp_path: Path, legato_home: Path):
    script = tmp_path / "prefect_flow.py"
    script.write_text(PREFECT_STYLE_SCRIPT)
    result = subprocess.run(
        [sys.executable, "-m", "legato.compat", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "RESULT 61" in result.stdout
    with sqlite3.connect(legato_home / "legato.db") as connection:
        (state,) = connection.execute("SELECT state_name FROM flow_runs").fetchone()
        task_runs = connection.execute("SELECT count(*) FROM task_runs").fetchone()[0]
    connection.close()
    assert state == "Completed"
    assert task_runs == 5


DURABLE_SCRIPT = textwrap.dedent(
    """
    from prefect import flow, task
    from prefect.artifacts import create_markdown_artifact, Artifact
    from prefect.cache_policies import INPUTS
    from prefect.transactions import transaction, get_transaction
    from prefect.variables import Variable

    calls = []

    @task(cache_policy=INPUTS)
    def fetch(day):
        calls.append(day)
        return {"day": day, "rows": 3}

    @task
    def load(data):
        get_transaction().set("table", "sales")
        return data["rows"]

    @load.on_rollback
    def drop(txn):
        print("rolled back", txn.get("table"))

    @flow
    def nightly(day: str = "mon"):
        Variable.set("last_day", day, overwrite=True)
        with transaction(key=f"nightly-{day}"):
            rows = load(fetch(day))
        fetch(day)
        create_markdown_artifact(f"# {rows} rows", key="nightly-report")
        return rows

    if __name__ == "__main__":
        print("ROWS", nightly(), nightly())
        print("CALLS", len(calls))
        print("VARIABLE", Variable.get("last_day"))
        print("ARTIFACT", Artifact.get("nightly-report").data)
    """
)


def test_prefect_caching_transactions_artifacts_and_variables(tmp_path: Path, legato_home: Path):
    script = tmp_path / "nightly.py"
    script.write_text(DURABLE_SCRIPT)
    result = subprocess.run(
        [sys.executable, "-m", "legato.compat", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "ROWS 3 3" in result.stdout
    assert "CALLS 1" in result.stdout  # every later fetch("mon") is a cache hit
    assert "VARIABLE mon" in result.stdout
    assert "ARTIFACT # 3 rows" in result.stdout
