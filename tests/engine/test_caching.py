"""Caching and persisted results in the task and flow engines."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from legato import flow, task
from legato.cache_policies import INPUTS, NO_CACHE, TASK_SOURCE, UnhashableInputsWarning
from legato.exceptions import MissingResult
from legato.tasks import task_input_hash


def storage_files(home: Path) -> list[Path]:
    root = home / "storage"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def run_in_flow(fn, *args, **kwargs):
    """Call a task inside a flow; its State (a flow returning a State would take it on)."""
    seen: list[object] = []

    @flow
    def wrapper() -> None:
        seen.append(fn(*args, return_state=True, **kwargs))

    wrapper()
    return seen[0]


def test_a_cache_hit_ends_cached_without_calling_the_function():
    calls: list[int] = []

    @task(cache_policy=INPUTS)
    def double(x: int) -> int:
        calls.append(x)
        return 2 * x

    first, second, other = (run_in_flow(double, x) for x in (3, 3, 4))
    assert calls == [3, 4]
    assert (first.name, second.name, other.name) == ("Completed", "Cached", "Completed")
    assert second.is_completed() and second.result() == 6


def test_cache_survives_the_process(legato_home: Path, tmp_path: Path):
    marker = tmp_path / "calls.txt"
    script = tmp_path / "job.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from legato import flow, task
            from legato.cache_policies import INPUTS

            @task(cache_policy=INPUTS)
            def slow(x):
                with open({str(marker)!r}, "a") as f:
                    f.write("called\\n")
                return {{"x": x}}

            @flow
            def job():
                state = slow(7, return_state=True)
                print(state.name, state.result())

            job()
            """
        )
    )
    outputs = [
        subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, check=True, timeout=60
        ).stdout
        for _ in range(2)
    ]
    assert marker.read_text().count("called") == 1
    assert "Completed {'x': 7}" in outputs[0]
    assert "Cached {'x': 7}" in outputs[1]


def test_cache_key_fn_and_task_input_hash():
    calls: list[str] = []

    @task(cache_key_fn=lambda ctx, args: args["name"].lower())
    def greet(name: str) -> str:
        calls.append(name)
        return f"hi {name}"

    @task(cache_key_fn=task_input_hash)
    def shout(name: str) -> str:
        calls.append(name.upper())
        return name.upper()

    @flow
    def pipeline() -> tuple[str, str, str, str]:
        return greet("Ann"), greet("ANN"), shout("x"), shout("x")

    assert pipeline() == ("hi Ann", "hi Ann", "X", "X")
    assert calls == ["Ann", "X"]


def test_expired_and_refreshed_caches_run_again():
    calls: list[int] = []

    @task(cache_policy=INPUTS, cache_expiration=dt.timedelta(seconds=-1))
    def expired(x: int) -> int:
        calls.append(x)
        return x

    @task(cache_policy=INPUTS, refresh_cache=True)
    def refreshed(x: int) -> int:
        calls.append(-x)
        return x

    @flow
    def pipeline() -> None:
        expired(1)
        expired(1)
        refreshed(2)
        refreshed(2)

    pipeline()
    assert calls == [1, 1, -2, -2]


def test_removing_an_input_from_the_key():
    calls: list[bool] = []

    @task(cache_policy=INPUTS - "debug")
    def load(path: str, debug: bool = False) -> str:
        calls.append(debug)
        return path

    @flow
    def pipeline() -> None:
        load("a", debug=False)
        load("a", debug=True)

    pipeline()
    assert calls == [False]


def test_compound_policy_changes_key_with_source():
    @task(cache_policy=INPUTS + TASK_SOURCE)
    def first(x: int) -> int:
        return x

    @task(cache_policy=INPUTS + TASK_SOURCE)
    def second(x: int) -> int:
        return x + 0

    assert run_in_flow(first, 1).name == "Completed"
    assert run_in_flow(second, 1).name == "Completed"


def test_unhashable_input_warns_naming_the_argument_and_is_not_cached():
    import threading

    calls: list[int] = []

    @task(cache_policy=INPUTS)
    def use(lock: object, n: int) -> int:
        calls.append(n)
        return n

    @flow
    def pipeline() -> None:
        lock = threading.Lock()
        use(lock, 1)
        use(lock, 1)

    with pytest.warns(UnhashableInputsWarning, match=r"'lock' \(lock\).*INPUTS - 'lock'"):
        pipeline()
    assert calls == [1, 1]


def test_no_cache_policy_and_persist_false_never_hit():
    calls: list[int] = []

    @task(cache_policy=NO_CACHE, persist_result=True)
    def a(x: int) -> int:
        calls.append(x)
        return x

    @task(cache_policy=INPUTS, persist_result=False)
    def b(x: int) -> int:
        calls.append(-x)
        return x

    @flow
    def pipeline() -> None:
        a(1)
        a(1)
        b(2)
        b(2)

    pipeline()
    assert calls == [1, 1, -2, -2]


def test_result_storage_key_template(legato_home: Path):
    @task(result_storage_key="report-{parameters[day]}.pickle")
    def report(day: str) -> str:
        return f"report for {day}"

    @flow
    def pipeline() -> str:
        return report("monday")

    assert pipeline() == "report for monday"
    names = [p.name for p in storage_files(legato_home)]
    assert "report-monday.pickle" in names


def test_unknown_template_field_fails_the_run_with_the_field_named():
    @task(result_storage_key="out-{parameters[missing]}")
    def produce(x: int) -> int:
        return x

    state = run_in_flow(produce, 1)
    assert state.is_failed()
    assert "missing" in (state.message or "")


def test_unknown_serializer_fails_the_run_naming_the_value():
    @task(persist_result=True, result_serializer="yaml-please")
    def produce() -> int:
        return 1

    state = run_in_flow(produce)
    assert state.is_failed()
    assert "yaml-please" in (state.message or "")


def test_result_not_kept_in_memory_is_read_back_from_storage():
    @task(persist_result=True, cache_result_in_memory=False)
    def big() -> list[int]:
        return list(range(5))

    state = run_in_flow(big)
    assert state.data is None and state.result_ref is not None
    assert state.result() == [0, 1, 2, 3, 4]


def test_persisted_flow_result_is_readable_in_a_later_process(legato_home: Path, tmp_path: Path):
    from legato.client import get_client

    @flow(persist_result=True, result_serializer="json")
    def compute(n: int) -> dict[str, int]:
        return {"n": n, "square": n * n}

    state = compute(4, return_state=True)
    run_id = str(state.state_details.flow_run_id)
    with get_client(sync_client=True) as client:
        final = client.read_states(flow_run_id=run_id)[-1]
    assert final["type"] == "COMPLETED" and final["data"]["storage_key"]
    script = textwrap.dedent(
        f"""
        import json
        from legato.client import get_client
        from legato.states import State, StateType
        with get_client(sync_client=True) as client:
            row = client.read_states(flow_run_id={run_id!r})[-1]
        state = State(StateType.COMPLETED)
        state.result_ref = row["data"]
        print(json.dumps(state.result()))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert json.loads(out) == {"n": 4, "square": 16}


def test_a_missing_result_file_is_a_clear_error(legato_home: Path):
    @task(persist_result=True, cache_result_in_memory=False)
    def produce() -> int:
        return 5

    state = run_in_flow(produce)
    for path in storage_files(legato_home):
        path.unlink()
    with pytest.raises(MissingResult) as info:
        state.result()
    assert state.result_ref is not None
    assert str(state.result_ref["storage_key"]) in str(info.value)


def test_persist_by_default_setting_and_flow_option(legato_home: Path):
    from legato.settings import temporary_settings

    @task
    def plain(x: int) -> int:
        return x

    assert run_in_flow(plain, 1).result_ref is None
    with temporary_settings({"LEGATO_RESULTS_PERSIST_BY_DEFAULT": True}):
        assert run_in_flow(plain, 1).result_ref is not None

    seen: list[object] = []

    @flow(persist_result=True)
    def persisting() -> None:
        seen.append(plain(2, return_state=True))

    persisting()
    assert seen[0].result_ref is not None


def test_async_tasks_cache_too():
    calls: list[int] = []

    @task(cache_policy=INPUTS)
    async def fetch(x: int) -> int:
        calls.append(x)
        return x * 10

    @flow
    async def pipeline() -> list[int]:
        return [await fetch(1), await fetch(1)]

    assert asyncio.run(pipeline()) == [10, 10]
    assert calls == [1]


def test_bad_cache_options_are_refused_at_decoration():
    from legato.exceptions import ParameterError

    with pytest.raises(ParameterError, match="cache_policy="):
        task(cache_policy="inputs")(lambda: 1)
    with pytest.raises(ParameterError, match="cache_expiration="):
        task(cache_expiration=60)(lambda: 1)


def test_a_policy_with_serializable_isolation_runs_one_key_once_across_threads(tmp_path: Path):
    import threading
    import time as _time

    from legato.locking import FileSystemLockManager

    calls: list[int] = []
    guard = threading.Lock()
    policy = INPUTS.configure(
        lock_manager=FileSystemLockManager(tmp_path / "locks"), isolation_level="SERIALIZABLE"
    )

    @task(cache_policy=policy)
    def slow(x: int) -> int:
        with guard:
            calls.append(x)
        _time.sleep(0.05)
        return x * 2

    @flow
    def pipeline() -> list[int]:
        return [future.result() for future in slow.map([3, 3, 3, 3])]

    assert pipeline() == [6, 6, 6, 6]
    assert calls == [3]


def test_a_policy_key_storage_holds_the_records(tmp_path: Path):
    from legato.filesystems import LocalFileSystem

    keys = LocalFileSystem(basepath=tmp_path / "keys")

    @task(cache_policy=INPUTS.configure(key_storage=keys))
    def compute(x: int) -> int:
        return x + 1

    assert run_in_flow(compute, 1).name == "Completed"
    assert run_in_flow(compute, 1).name == "Cached"
    assert any((tmp_path / "keys").iterdir())
