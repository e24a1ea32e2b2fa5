"""The README's demo runs on a fresh home, retries, caches on a second run."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).parents[1] / "examples" / "demo.py"


def test_the_demo_runs_twice_and_caches(legato_home: Path):
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, str(DEMO)], capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == 0, result.stderr
        assert "total=360" in result.stdout
    with sqlite3.connect(legato_home / "legato.db") as connection:
        names = [
            name
            for (name,) in connection.execute(
                "SELECT state_name FROM task_runs WHERE name LIKE 'extract-%'"
            )
        ]
        artifacts = connection.execute("SELECT count(*) FROM artifacts").fetchone()[0]
    connection.close()
    assert names.count("Completed") == 3 and names.count("Cached") == 3
    assert artifacts == 2
