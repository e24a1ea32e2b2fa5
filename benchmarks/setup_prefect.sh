#!/usr/bin/env bash
# Create the benchmark-only Prefect 3 virtualenv in benchmarks/.work/prefect-venv.
# Prefect is never a dependency of legato itself; it is only used for comparison.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.work/prefect-venv"
python="${PYTHON:-python3.11}"
mkdir -p "$here/.work"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
# Prefect 3.9 does not install here and its scheduler fails on SQLAlchemy 2.1.
"$venv/bin/python" -m pip install --quiet "prefect==3.8.8" "fastapi<0.151" "sqlalchemy<2.1"
"$venv/bin/python" -c "import prefect; print('prefect', prefect.__version__)"
