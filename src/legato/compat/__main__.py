"""``python -m legato.compat script.py [args]``: run a Prefect 3 script on legato."""

from __future__ import annotations

import runpy
import sys

from legato.compat import install


def main() -> None:
    if len(sys.argv) < 2:
        print("usage: python -m legato.compat SCRIPT.py [ARGS...]", file=sys.stderr)
        raise SystemExit(2)
    install()
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
