"""Run one benchmark case in this (fresh) process and write its result as JSON.

Usage (normally spawned by ``run.py``)::

    BENCH_ENGINE=legato|prefect python benchmarks/child.py CASE N RESULT_JSON

The engine's home (LEGATO_HOME / PREFECT_HOME) comes from the environment set
by the driver (and ``BENCH_DATABASE_URL``, for the PostgreSQL cases). A server
that a server case started (``servers.py``) is stopped before this exits. If ``BENCH_PROFILE`` names a file, the measure function runs
under cProfile and the stats are dumped there.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path


def main(argv: list[str]) -> int:
    case_name, n_text, result_path = argv
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from cases import REGISTRY, Kind, Sample, median_sample, peak_rss_mb

    case = REGISTRY[case_name]
    n = int(n_text)
    # Per-item cases may be measured several times in this process (each time
    # after its own warm-up); the median is reported. One-shot cases are cold.
    repeat = int(os.environ.get("BENCH_REPEAT", "1")) if case.kind is Kind.PER_ITEM else 1
    out: dict[str, object]
    try:
        profile_path = os.environ.get("BENCH_PROFILE")
        samples: list[Sample] = []
        if profile_path:
            import cProfile

            profiler = cProfile.Profile()
            for _ in range(repeat):
                samples.append(profiler.runcall(case.measure, n))
            profiler.dump_stats(profile_path)
        else:
            samples = [case.measure(n) for _ in range(repeat)]
        sample = median_sample(samples)
        out = {
            "ok": True,
            "seconds": sample.seconds,
            "n": sample.n,
            "recorded_seconds": sample.recorded_seconds,
            "samples": [s.seconds for s in samples],
            "recorded_samples": [s.recorded_seconds for s in samples],
            "extra": {**sample.extra, "peak_rss_mb": peak_rss_mb()},
        }
    except BaseException as exc:  # report anything, including SystemExit from imports
        traceback.print_exc()
        out = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:1500]}
    servers = sys.modules.get("servers")  # a server case started a server: stop it
    if servers is not None:
        try:
            servers.stop_all()
        except Exception:
            traceback.print_exc()
    Path(result_path).write_text(json.dumps(out))
    sys.stdout.flush()
    sys.stderr.flush()
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
