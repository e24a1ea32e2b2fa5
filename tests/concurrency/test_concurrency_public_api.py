"""Where Prefect 3 users look for the concurrency API: names, signatures, the compat alias."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
import textwrap

import pytest

MODULES = ["legato.concurrency.sync", "legato.concurrency.asyncio", "legato.concurrency.local"]


@pytest.mark.parametrize("module_name", MODULES)
def test_every_listed_name_exists(module_name):
    module = importlib.import_module(module_name)
    assert module.__all__
    assert [name for name in module.__all__ if not hasattr(module, name)] == []


@pytest.mark.parametrize("module_name", ["legato.concurrency.sync", "legato.concurrency.asyncio"])
def test_prefect_3_signatures(module_name):
    module = importlib.import_module(module_name)
    concurrency = inspect.signature(module.concurrency).parameters
    assert list(concurrency)[:7] == [
        "names",
        "occupy",
        "timeout_seconds",
        "max_retries",
        "lease_duration",
        "strict",
        "holder",
    ]
    assert concurrency["occupy"].default == 1 and concurrency["strict"].default is False
    assert list(inspect.signature(module.rate_limit).parameters) == [
        "names",
        "occupy",
        "timeout_seconds",
        "strict",
    ]


def test_the_errors_are_where_prefect_has_them():
    from legato.concurrency import asyncio as concurrency_asyncio
    from legato.exceptions import AcquireConcurrencySlotTimeoutError

    assert (
        concurrency_asyncio.AcquireConcurrencySlotTimeoutError is AcquireConcurrencySlotTimeoutError
    )
    assert issubclass(AcquireConcurrencySlotTimeoutError, TimeoutError)


def test_prefect_imports_resolve_through_the_compat_alias(tmp_path):
    script = textwrap.dedent(
        """
        import legato.compat
        legato.compat.install()
        from prefect.concurrency.sync import concurrency, rate_limit
        from prefect.concurrency.asyncio import concurrency as aconcurrency, ConcurrencySlotAcquisitionError
        import legato.concurrency.sync, legato.concurrency.asyncio
        assert concurrency is legato.concurrency.sync.concurrency
        assert aconcurrency is legato.concurrency.asyncio.concurrency
        with concurrency("not-created-here"):   # missing, not strict: runs without waiting
            print("ran")
        """
    )
    env = {"LEGATO_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "PYTHONPATH": ":".join(sys.path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ran"
    assert "not-created-here" in done.stderr  # the warning


def test_importing_legato_does_not_import_the_concurrency_client_path():
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, legato; import legato.concurrency.sync, legato.concurrency.local; "
            "print(sorted(m for m in ('sqlalchemy', 'httpx', 'pydantic', 'asyncio') "
            "if m in sys.modules))",
        ],
        env={"PYTHONPATH": ":".join(sys.path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
