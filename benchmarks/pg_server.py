"""A throwaway PostgreSQL server for the benchmark driver's PostgreSQL cases.

Run by ``run.py`` with legato's interpreter (it uses the repository's test
helper ``tests/pg.py``: ``initdb``/``pg_ctl`` as the ``postgres`` OS user when
run as root, data in memory when ``/dev/shm`` exists, durability off)::

    python benchmarks/pg_server.py

It prints one line, ``READY <url>`` or ``UNAVAILABLE <reason>``, then reads
commands from stdin, one per line:

* ``create <prefix>``: create an empty database and print ``URL <url>``
  (``postgresql+psycopg://...``), or ``ERROR <reason>``.

At end of input (the driver closes stdin, or exits) it stops the server and
deletes its folder.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def say(line: str) -> None:
    print(line.replace("\n", " | "), flush=True)


def main() -> int:
    sys.path.insert(0, str(REPO / "tests"))
    try:
        import pg  # the repository's test helper (needs pytest, psycopg, sqlalchemy)
    except ImportError as exc:
        say(f"UNAVAILABLE cannot import tests/pg.py: {exc}")
        return 0
    try:
        server = pg.running_postgres()
        url = server.__enter__()
    except pg.PostgresUnavailable as exc:
        say(f"UNAVAILABLE {exc}")
        return 0
    except Exception as exc:
        traceback.print_exc()
        say(f"UNAVAILABLE PostgreSQL did not start: {type(exc).__name__}: {exc}")
        return 0
    try:
        say(f"READY {url}")
        for line in sys.stdin:
            command, _, argument = line.strip().partition(" ")
            if command == "create":
                try:
                    say(f"URL {pg.empty_database(url, prefix=argument or 'bench')}")
                except Exception as exc:
                    say(f"ERROR {type(exc).__name__}: {exc}")
            elif command:
                say(f"ERROR unknown command {command!r}")
    finally:
        server.__exit__(None, None, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
