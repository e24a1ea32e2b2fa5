"""Small helpers of the deployment CLI tests."""

from __future__ import annotations

import json
import uuid
from typing import Any


def unique(name: str) -> str:
    """A name no other test uses (the server's database is shared by the session)."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def ok(result: Any) -> str:
    """The command's stdout; fails showing its output when it did not exit 0."""
    assert result.exit_code == 0, result.output
    return str(result.stdout)


def failed(result: Any) -> str:
    """The command's stderr; fails when it did not exit 1."""
    assert result.exit_code == 1, result.output
    return str(result.stderr)


def as_json(result: Any) -> Any:
    return json.loads(ok(result))
