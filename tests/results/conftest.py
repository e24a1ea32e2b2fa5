"""Fixtures for the results tests: a real S3 (moto's server on loopback), a unique
``memory://`` root, and ``run_python`` to run code in a new process.

``s3`` (session) starts ``moto.server.ThreadedMotoServer`` on ``127.0.0.1``
with a free port, creates one bucket with boto3 and yields where it is. Dummy
AWS credentials are set in the environment for the session (child processes
inherit them), so nothing ever reaches a real AWS endpoint. Without moto, s3fs
or boto3 the S3 tests skip, or fail on CI.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SUBPROCESS_TIMEOUT_SECONDS = 60
BUCKET = "legato-results"


def _in_ci(config: pytest.Config) -> bool:
    """``in_ci()`` of tests/conftest.py, fetched from pytest's registry: every
    conftest module is named 'conftest', so it cannot be imported by name."""
    root_conftest = config.pluginmanager.get_plugin(str(Path(__file__).parents[1] / "conftest.py"))
    if root_conftest is None:
        raise RuntimeError("tests/conftest.py is not loaded; run pytest from the project root")
    return bool(root_conftest.in_ci())


def _run_python(code: str, *args: str) -> str:
    """Run ``code`` with ``sys.executable -c`` in a new process; its stdout, stripped.

    The child inherits the environment, so the same LEGATO_HOME (and AWS variables).
    """
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        raise AssertionError(f"child process failed:\n{completed.stderr}")
    return completed.stdout.strip()


@dataclass(frozen=True)
class S3:
    """Where the test S3 is, and the RemoteFileSystem settings that reach it."""

    endpoint_url: str
    bucket: str

    def settings(self) -> dict[str, Any]:
        return {
            "key": "testing",
            "secret": "testing",
            "client_kwargs": {"endpoint_url": self.endpoint_url, "region_name": "us-east-1"},
        }

    def new_prefix(self) -> str:
        """A URL under the bucket that no other test uses."""
        return f"s3://{self.bucket}/{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def s3(pytestconfig: pytest.Config) -> Iterator[S3]:
    """A moto S3 server on loopback for the whole session, with one bucket."""
    missing = [name for name in ("moto", "boto3", "s3fs") if importlib.util.find_spec(name) is None]
    if missing:
        reason = f"S3 tests need {', '.join(missing)} (pip install 'moto[server]' s3fs boto3)"
        if _in_ci(pytestconfig):
            pytest.fail(f"{reason} (required on CI)")
        pytest.skip(reason)
    import boto3  # type: ignore[import-untyped]
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }.items():
            patch.setenv(name, value)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            endpoint_url = f"http://{host}:{port}"
            boto3.client("s3", endpoint_url=endpoint_url).create_bucket(Bucket=BUCKET)
            yield S3(endpoint_url=endpoint_url, bucket=BUCKET)
        finally:
            server.stop()


@pytest.fixture
def memory_url() -> str:
    """A ``memory://`` root no other test uses (fsspec's memory store is per process)."""
    return f"memory://legato-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def run_python() -> Callable[..., str]:
    """``run_python(code, *argv)``: run code in a new Python process, return its stdout."""
    return _run_python
