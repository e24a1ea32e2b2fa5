"""Regenerate src/legato/storage/sqlite_schema.sql from the Alembic head.

Runs every migration on a temporary SQLite file and writes the DDL that SQLite
stored (``sqlite_master``, in creation order). New databases are created from
that snapshot, which is much faster than running Alembic. Run after adding a
migration; ``tests/storage`` fails while the snapshot is stale.

    .venv/bin/python scripts/render_sqlite_schema.py [--check]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from pathlib import Path

from legato.storage import database
from legato.storage.sqlite import SNAPSHOT_PATH, render_snapshot


def dump_schema(path: Path) -> list[str]:
    """The DDL of every table and index in ``path``, in creation order."""
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
        ).fetchall()
    finally:
        connection.close()
    return [str(sql) for (sql,) in rows]


def render() -> str:
    """The snapshot text for the current Alembic head."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "head.db"
        database.upgrade(database.sqlite_url(path))
        return render_snapshot(database.head_revision(), dump_schema(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail if the snapshot is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        is_current = SNAPSHOT_PATH.exists() and SNAPSHOT_PATH.read_text(encoding="utf-8") == text
        print(f"{SNAPSHOT_PATH}: {'up to date' if is_current else 'STALE'}")
        return 0 if is_current else 1
    SNAPSHOT_PATH.write_text(text, encoding="utf-8")
    print(f"Wrote {SNAPSHOT_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
