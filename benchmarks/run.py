"""legato vs Prefect 3 benchmark driver.

Runs the same workloads (``benchmarks/workloads.py``: plain Prefect 3 user
code) on legato and on Prefect 3 in one run, each case in a fresh child
process with default configuration, and prints a comparison table::

    python benchmarks/run.py                      # everything (~17 minutes on 2 cores)
    python benchmarks/run.py --only submit,map    # some cases
    python benchmarks/run.py --n 1000             # N for every scalable case, both engines
    python benchmarks/run.py --skip-prefect       # legato only (seconds)
    python benchmarks/run.py --json out.json      # also write all results as JSON
    python benchmarks/run.py --profile --only map --skip-prefect   # cProfile the legato child

Each child gets its own temporary home: ``LEGATO_HOME`` (legato records every
run in its embedded SQLite database there) or ``PREFECT_HOME`` (Prefect records
through its ephemeral local API server into SQLite there). The ``first_run``
case runs in empty homes (for Prefect that includes its ~20 s database
migration); its first home is then the template that every later case starts
from a copy of. Each case reports the time until its workload returned and
the time until all its runs were in the database (``records.py``).
See docs/benchmarks.md.

Prefect lives in its own virtualenv (``benchmarks/setup_prefect.sh``) and is
never a dependency of legato. This driver only uses the standard library, so
any Python 3.11+ can run it; the children run in the legato and Prefect
virtualenvs.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import pstats
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

from cases import (  # noqa: E402
    REGISTRY,
    TEMPLATE_CASE,
    Case,
    Database,
    Home,
    Kind,
    Metric,
    Target,
)

ENGINES = ("legato", "prefect")
DEFAULT_LEGATO_PYTHON = REPO / ".venv" / "bin" / "python"
DEFAULT_PREFECT_PYTHON = BENCH_DIR / ".work" / "prefect-venv" / "bin" / "python"
PROFILE_DIR = BENCH_DIR / ".work" / "profiles"


# --------------------------------------------------------------------------- engines


@dataclass(frozen=True)
class Engine:
    name: str
    python: Path
    home_var: str
    env: dict[str, str] = field(default_factory=dict)
    version: str = ""
    unavailable: str = ""  # why this engine cannot run, if it cannot


def probe_engine(name: str, python: Path) -> Engine:
    home_var = "LEGATO_HOME" if name == "legato" else "PREFECT_HOME"
    env = {"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"} if name == "prefect" else {}
    if not python.exists():
        hint = " (run benchmarks/setup_prefect.sh)" if name == "prefect" else ""
        return Engine(name, python, home_var, env, unavailable=f"no interpreter at {python}{hint}")
    probe = (
        f"from {name} import flow, task; import importlib.metadata as m; print(m.version({name!r}))"
    )
    if name == "legato":
        # Also run one flow, so every module of the run path has its bytecode cached
        # (Prefect's import already loads nearly all of its modules).
        probe += "\nflow(lambda: task(lambda: 1)())()"
    with tempfile.TemporaryDirectory(prefix=f"bench-probe-{name}-") as home:
        proc = subprocess.run(
            [str(python), "-c", probe],
            capture_output=True,
            text=True,
            timeout=120,
            env=child_env({home_var: home, **env}),
            cwd=home,
        )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return Engine(
            name,
            python,
            home_var,
            env,
            unavailable=f"`from {name} import flow, task` failed: {last}",
        )
    return Engine(name, python, home_var, env, version=proc.stdout.strip())


def child_env(overrides: dict[str, str]) -> dict[str, str]:
    """The parent's environment minus any engine settings, plus ``overrides``.

    Stripping inherited ``PREFECT_*`` / ``LEGATO_*`` variables keeps both engines
    on their default configuration (e.g. no stray PREFECT_API_URL).
    """
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LEGATO_", "BENCH_"))
    }
    env.pop("PYTHONPATH", None)
    # Both engines run from their bytecode caches (written by the probe), as
    # installed packages do; without caches every child would recompile.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(overrides)
    return env


# --------------------------------------------------------------------------- running children


@dataclass
class ChildResult:
    """What one child process reported (or what went wrong with it)."""

    status: str  # ok | error | timeout | skipped
    n: int = 0
    seconds: float = 0.0
    recorded_seconds: float | None = None
    samples: list[float] = field(default_factory=list)  # in-process repeats
    extra: dict[str, float] = field(default_factory=dict)
    error: str = ""
    wall_s: float = 0.0
    log: str = ""
    profile: str = ""

    @classmethod
    def parse(cls, data: dict[str, Any], **kw: Any) -> ChildResult:
        if not data.get("ok"):
            return cls("error", error=str(data.get("error", "?")), **kw)
        recorded = data.get("recorded_seconds")
        return cls(
            "ok",
            n=int(data["n"]),
            seconds=float(data["seconds"]),
            recorded_seconds=None if recorded is None else float(recorded),
            samples=[float(x) for x in data.get("samples", [data["seconds"]])],
            extra={k: float(v) for k, v in data.get("extra", {}).items()},
            **kw,
        )


@dataclass
class Run:
    """One case on one engine (over ``processes`` fresh processes: the median)."""

    case: str
    engine: str
    n: int
    status: str  # ok | error | timeout | skipped
    seconds: float | None = None  # until the workload returned
    recorded_seconds: float | None = None  # until all its runs were in the database
    per_item_us: float | None = None
    recorded_per_item_us: float | None = None
    peak_rss_mb: float | None = None
    samples: list[float] = field(default_factory=list)  # per process, or per in-process repeat
    extra: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0  # driver-side wall time of the child processes, incl. startup/exit
    home_mb: float | None = None  # size of the home after the run (the recorded runs)
    error: str = ""
    log: str = ""
    profile: str = ""


class Postgres:
    """A throwaway PostgreSQL server for the PostgreSQL cases (``pg_server.py``).

    It runs in legato's interpreter (the repository's ``tests/pg.py`` needs
    psycopg); this driver talks to it over a pipe, one line at a time.
    """

    START_TIMEOUT_S = 120.0

    def __init__(self, python: Path, log_path: Path) -> None:
        self.url = ""
        self.unavailable = ""
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self._proc = subprocess.Popen(
            [str(python), str(BENCH_DIR / "pg_server.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            cwd=REPO,
        )
        word, rest = self._answer(self.START_TIMEOUT_S)
        if word == "READY":
            self.url = rest
        else:
            self.unavailable = rest or f"pg_server.py said {word!r} (log: {log_path})"
            self.stop()

    def _answer(self, timeout: float) -> tuple[str, str]:
        stdout = self._proc.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], timeout)
        line = stdout.readline() if ready else ""
        if not line:
            state = "exited" if self._proc.poll() is not None else f"no answer in {timeout:.0f} s"
            return "ERROR", f"PostgreSQL helper: {state} (log: {self._log.name})"
        word, _, rest = line.strip().partition(" ")
        return word, rest

    def create_database(self, prefix: str) -> str:
        """A new empty database on the server: its ``postgresql+psycopg://`` URL."""
        stdin = self._proc.stdin
        assert stdin is not None
        stdin.write(f"create {prefix}\n")
        stdin.flush()
        word, rest = self._answer(60.0)
        if word != "URL":
            raise RuntimeError(f"could not create a PostgreSQL database: {rest}")
        return rest

    def stop(self) -> None:
        """Close the pipe: the helper stops the server and deletes its data."""
        with contextlib.suppress(OSError):
            if self._proc.stdin:
                self._proc.stdin.close()
        try:
            self._proc.wait(60)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._log.close()


@dataclass
class Context:
    workdir: Path
    deadline: float
    profile: bool
    repeat: dict[str, int]  # timed runs per process for per-item cases, by engine
    legato_python: Path = DEFAULT_LEGATO_PYTHON  # runs the PostgreSQL helper
    templates: dict[str, Path] = field(default_factory=dict)
    template_runs: dict[str, Run] = field(default_factory=dict)
    postgres: Postgres | None = None

    def database_env(self, case: Case, engine: str) -> dict[str, str]:
        """``BENCH_DATABASE_URL`` for a PostgreSQL case: a new database per engine run.

        Raises PostgresUnavailable when PostgreSQL cannot run here.
        """
        if case.database is Database.SQLITE:
            return {}
        if self.postgres is None:
            progress("starting PostgreSQL for the PostgreSQL cases (tests/pg.py) ...")
            self.postgres = Postgres(self.legato_python, self.workdir / "postgres.log")
        if self.postgres.unavailable:
            raise PostgresUnavailable(self.postgres.unavailable)
        return {"BENCH_DATABASE_URL": self.postgres.create_database(f"bench_{engine}")}

    def close(self) -> None:
        if self.postgres is not None:
            self.postgres.stop()


class PostgresUnavailable(RuntimeError):
    pass


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def kill_group(pgid: int) -> None:
    """Stop what is left of a child's own process group (e.g. Prefect's API server)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def settle(pause: float = 1.0) -> None:
    """Isolate children: flush the previous child's dirty pages, let its exit finish.

    Without this, a Prefect child's database writeback and teardown overlap the
    next (legato) child's start on a 2-core machine and slow its fsyncs.
    """
    os.sync()
    time.sleep(pause)


def run_child(
    ctx: Context,
    engine: Engine,
    case: Case,
    n: int,
    home: Path,
    tag: str,
    extra_env: dict[str, str] | None = None,
) -> ChildResult:
    """Run ``case`` once in a fresh process with ``home`` as the engine's home."""
    result_path = ctx.workdir / f"{tag}.result.json"
    log_path = ctx.workdir / f"{tag}.log"
    env = child_env(
        {
            "BENCH_ENGINE": engine.name,
            "BENCH_REPEAT": str(ctx.repeat[engine.name]),
            engine.home_var: str(home),
            **engine.env,
            **(extra_env or {}),
        }
    )
    profile = ""
    if ctx.profile and engine.name == "legato":
        PROFILE_DIR.mkdir(parents=True, exist_ok=True)
        profile = str(PROFILE_DIR / f"{tag}.prof")
        env["BENCH_PROFILE"] = profile
    timeout = min(case.timeout_s, ctx.deadline - time.monotonic())
    if timeout <= 5:
        return ChildResult("skipped", error="over the total time budget")
    cmd = [str(engine.python), str(BENCH_DIR / "child.py"), case.name, str(n), str(result_path)]
    settle()
    start = time.monotonic()
    with open(log_path, "wb") as log:
        # The child's output goes to a file, so terminal printing costs the same on both sides.
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=home.parent,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc.pid)
            proc.wait()
            return ChildResult(
                "timeout",
                error=f"timed out after {timeout:.0f} s",
                wall_s=time.monotonic() - start,
                log=str(log_path),
            )
        finally:
            kill_group(proc.pid)
    wall = time.monotonic() - start
    if result_path.exists():
        data: dict[str, Any] = json.loads(result_path.read_text())
    else:
        data = {"ok": False, "error": f"child exited with {proc.returncode} and no result"}
    return ChildResult.parse(data, wall_s=wall, log=str(log_path), profile=profile)


def per_item(seconds: float | None, n: int) -> float | None:
    return None if seconds is None else seconds / n * 1e6


def run_case(ctx: Context, engine: Engine, case: Case, n: int) -> Run:
    children: list[ChildResult] = []
    home_mb: float | None = None
    for i in range(case.processes):
        tag = f"{case.name}-{engine.name}-{i}"
        home = ctx.workdir / f"{tag}.home"
        if case.home is Home.TEMPLATE:
            shutil.copytree(ctx.templates[engine.name], home)
        else:
            home.mkdir()
        try:
            extra_env = ctx.database_env(case, engine.name)
        except PostgresUnavailable as exc:
            shutil.rmtree(home, ignore_errors=True)
            return Run(
                case.name, engine.name, n, "skipped", error=f"PostgreSQL not available: {exc}"
            )
        except RuntimeError as exc:
            return Run(case.name, engine.name, n, "error", error=str(exc))
        child = run_child(ctx, engine, case, n, home, tag, extra_env)
        children.append(child)
        home_mb = dir_mb(home)
        if child.status != "ok":
            wall = sum(c.wall_s for c in children)
            return Run(
                case.name,
                engine.name,
                n,
                child.status,
                wall_s=wall,
                error=child.error,
                log=child.log,
            )
        if case.name == TEMPLATE_CASE and engine.name not in ctx.templates:
            ctx.templates[engine.name] = home  # left untouched from here on; cases copy it
    samples = [c.seconds for c in children]
    chosen = children[samples.index(statistics.median_low(samples))]
    seconds = statistics.median(samples)
    recorded_samples = [c.recorded_seconds for c in children if c.recorded_seconds is not None]
    recorded = (
        statistics.median(recorded_samples) if len(recorded_samples) == len(children) else None
    )
    return Run(
        case=case.name,
        engine=engine.name,
        n=chosen.n,
        status="ok",
        seconds=seconds,
        recorded_seconds=recorded,
        per_item_us=per_item(seconds, chosen.n),
        recorded_per_item_us=per_item(recorded, chosen.n),
        peak_rss_mb=chosen.extra.get("peak_rss_mb"),
        samples=samples if len(children) > 1 else chosen.samples,
        extra=chosen.extra,
        wall_s=sum(c.wall_s for c in children),
        home_mb=home_mb,
        log=chosen.log,
        profile=chosen.profile,
    )


def ensure_template(ctx: Context, engine: Engine) -> Run:
    """Run the template case in an empty home once; its home becomes the template."""
    if engine.name not in ctx.template_runs:
        template_case = REGISTRY[TEMPLATE_CASE]
        progress(
            f"[{engine.name}] {TEMPLATE_CASE} in an empty home (its home becomes the template) ..."
        )
        ctx.template_runs[engine.name] = run_case(
            ctx, engine, template_case, template_case.n_legato
        )
    return ctx.template_runs[engine.name]


# --------------------------------------------------------------------------- reporting


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_us(us: float | None) -> str:
    if us is None:
        return "—"
    if us < 10:
        return f"{us:.2f} µs"
    if us < 1000:
        return f"{us:.1f} µs"
    return f"{us:,.0f} µs"


def fmt_ratio(ratio: float) -> str:
    return f"{ratio:,.0f}x" if ratio >= 100 else f"{ratio:.1f}x"


def best(run: Run) -> tuple[float | None, float | None]:
    """(total, per item): until recorded when that was measured, else until returned."""
    if run.recorded_seconds is not None:
        return run.recorded_seconds, run.recorded_per_item_us
    return run.seconds, run.per_item_us


def rate(run: Run) -> float | None:
    """Operations per second of a rate case."""
    return run.n / run.seconds if run.seconds else None


def fmt_rate(per_second: float | None, per_minute: bool = False) -> str:
    if per_second is None:
        return "—"
    value, unit = (per_second * 60, "/min") if per_minute else (per_second, "/s")
    return f"{value:,.0f}{unit}" if value >= 100 else f"{value:.1f}{unit}"


def engine_cells(case: Case, run: Run | None) -> tuple[str, str, str, str]:
    """N, total, per item (returned), per item (recorded) for one engine."""
    if run is None:
        return "—", "—", "—", "—"
    n = f"{run.n:,}"
    if run.status != "ok":
        return n, run.status, "—", "—"
    if case.kind is Kind.TOTAL:
        return n, "", fmt_seconds(run.seconds), fmt_seconds(run.recorded_seconds)
    if case.kind is Kind.RATE:
        per_minute = case.rate_per_minute
        return n, f"{run.n:,} in {fmt_seconds(run.seconds)}", fmt_rate(rate(run), per_minute), "—"
    total = fmt_seconds(run.seconds)
    if case.kind is Kind.MEMORY:
        total = f"{run.peak_rss_mb:.0f} MB peak, {total}"
    return n, total, fmt_us(run.per_item_us), fmt_us(run.recorded_per_item_us)


def both_ok(legato: Run | None, prefect: Run | None) -> bool:
    return bool(legato and prefect and legato.status == prefect.status == "ok")


def ratio_value(case: Case, legato: Run | None, prefect: Run | None) -> float | None:
    """Prefect's cost / legato's: higher always means legato is better.

    Times and memory: prefect / legato. Rates: legato / prefect (the same as
    Prefect's time per operation / legato's).
    """
    if not (both_ok(legato, prefect) and legato and prefect):
        return None
    if case.kind is Kind.MEMORY:
        if legato.n != prefect.n or not legato.peak_rss_mb or prefect.peak_rss_mb is None:
            return None
        return prefect.peak_rss_mb / legato.peak_rss_mb
    if case.kind is Kind.RATE:
        a, b = rate(legato), rate(prefect)
        return a / b if a is not None and b else None
    both_recorded = legato.recorded_seconds is not None and prefect.recorded_seconds is not None
    pick = 0 if case.kind is Kind.TOTAL else 1
    x = (best(legato) if both_recorded else (legato.seconds, legato.per_item_us))[pick]
    y = (best(prefect) if both_recorded else (prefect.seconds, prefect.per_item_us))[pick]
    return y / x if x and y is not None else None


def ratio_cell(case: Case, legato: Run | None, prefect: Run | None) -> str:
    ratio = ratio_value(case, legato, prefect)
    if ratio is not None:
        return fmt_ratio(ratio)
    if case.kind is Kind.MEMORY and both_ok(legato, prefect):
        return "n/a (N differs)"
    return "—"


def target_value(target: Target, run: Run) -> float | None:
    total, item = best(run)
    if target.unit == "/s":
        return rate(run)
    if target.unit == "us/item":
        return item
    if target.unit == "ms":
        return None if total is None else total * 1e3
    return run.peak_rss_mb


def judge(target: Target, value: float | None, ratio: float | None) -> str:
    if value is None:
        return "?"
    ok = target.met(value)
    if target.min_ratio is None:
        return "PASS" if ok else "FAIL"
    if ratio is None:
        return "no ratio" if target.limit is None else ("PASS" if ok else "FAIL") + " (no ratio)"
    return "PASS" if ok and ratio >= target.min_ratio else "FAIL"


def verdict(case: Case, legato: Run | None, prefect: Run | None = None) -> str:
    if case.target is None:
        return ""
    if legato is None or legato.status != "ok":
        return "not run" if legato is None else legato.status
    mark = judge(case.target, target_value(case.target, legato), ratio_value(case, legato, prefect))
    if case.target.at_n and legato.n != case.target.at_n:
        mark += "*"
    return mark


def metric_row(
    case: Case, metric: Metric, legato: Run | None, prefect: Run | None
) -> tuple[str, ...]:
    """A row for a value the case reported besides its time (e.g. the server's RSS)."""

    def value(run: Run | None) -> float | None:
        return run.extra.get(metric.key) if run is not None and run.status == "ok" else None

    def cells(run: Run | None) -> tuple[str, str, str, str]:
        v = value(run)
        if run is None:
            return "—", "—", "—", "—"
        if v is None:
            return "", "—" if run.status == "ok" else run.status, "", ""
        return "", f"{v:,.0f} {metric.unit}", "", ""

    a, b = value(legato), value(prefect)
    ratio = b / a if a and b is not None else None
    mark = ""
    if metric.target is not None:
        mark = judge(metric.target, a, ratio) if legato and legato.status == "ok" else "not run"
    return (
        f"{case.name} {metric.label}",
        *cells(legato),
        *cells(prefect),
        "—" if ratio is None else fmt_ratio(ratio),
        metric.target.describe() if metric.target else "",
        mark,
    )


HEADERS = (
    "case",
    "N legato",
    "legato total",
    "legato returned",
    "legato recorded",
    "N prefect",
    "prefect total",
    "prefect returned",
    "prefect recorded",
    "prefect/legato",
    "legato target",
    "result",
)
RIGHT_ALIGNED = set(range(1, 10))


def table_rows(results: dict[str, dict[str, Run]]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for name, by_engine in results.items():
        case = REGISTRY[name]
        legato, prefect = by_engine.get("legato"), by_engine.get("prefect")
        rows.append(
            (
                name,
                *engine_cells(case, legato),
                *engine_cells(case, prefect),
                ratio_cell(case, legato, prefect),
                case.target.describe() if case.target else "",
                verdict(case, legato, prefect),
            )
        )
        rows.extend(metric_row(case, metric, legato, prefect) for metric in case.metrics)
    return rows


def render_text(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [HEADERS, *rows]) for i in range(len(HEADERS))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in RIGHT_ALIGNED else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(HEADERS), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def render_markdown(rows: Sequence[Sequence[str]]) -> str:
    head = "| " + " | ".join(HEADERS) + " |"
    sep = "|" + "|".join("---:" if i in RIGHT_ALIGNED else "---" for i in range(len(HEADERS))) + "|"
    return "\n".join([head, sep, *("| " + " | ".join(r) + " |" for r in rows)])


def notes(
    results: dict[str, dict[str, Run]],
    engines: dict[str, Engine],
    prefect_n_overridden: bool,
    repeat: dict[str, int],
) -> list[str]:
    out = [
        "returned / recorded: time per item (total / N), or the one time of a one-shot case; "
        "'returned' = until the workload call returned, 'recorded' = until every run it started "
        "was in the engine's database in a terminal state. The ratio and the targets use "
        "'recorded' when both sides have it. N-item cases: median of "
        + ", ".join(f"{repeat[e]} ({e})" for e in engines)
        + " timed runs in the case's process, each after its own warm-up.",
    ]
    for name, by_engine in results.items():
        case = REGISTRY[name]
        for run in by_engine.values():
            if run.status not in ("ok", "skipped"):
                out.append(f"{name} [{run.engine}] {run.status}: {run.error} (log: {run.log})")
            elif run.status == "skipped" and run.error:
                out.append(f"{name} [{run.engine}] skipped: {run.error}")
            elif (
                run.status == "ok"
                and run.recorded_seconds is None
                and case.kind not in (Kind.TOTAL, Kind.RATE)
            ):
                out.append(f"{name} [{run.engine}]: its runs did not all show up in the database")
        if case.note and "prefect" in by_engine and not prefect_n_overridden:
            out.append(f"{name}: {case.note}")
        legato = by_engine.get("legato")
        if case.target and case.target.at_n and legato and legato.n != case.target.at_n:
            out.append(
                f"{name}: * legato measured at N={legato.n:,}; "
                f"the target is specified at N={case.target.at_n:,}"
            )
    for engine in engines.values():
        if engine.unavailable:
            out.append(f"{engine.name} not run: {engine.unavailable}")
    return out


def report(case: Case, run: Run) -> Run:
    if run.status != "ok":
        progress(f"[{run.engine}] {case.name}: {run.status} {run.error} (log: {run.log})")
    elif case.kind is Kind.TOTAL:
        progress(
            f"[{run.engine}] {case.name}: {fmt_seconds(run.seconds)}, "
            f"recorded {fmt_seconds(run.recorded_seconds)} (wall {run.wall_s:.1f} s)"
        )
    elif case.kind is Kind.RATE:
        extras = ", ".join(f"{k} {v:,.1f}" for k, v in run.extra.items())
        progress(
            f"[{run.engine}] {case.name}: {run.n:,} in {fmt_seconds(run.seconds)} = "
            f"{fmt_rate(rate(run), case.rate_per_minute)} ({extras}; wall {run.wall_s:.1f} s)"
        )
    else:
        progress(
            f"[{run.engine}] {case.name}: {fmt_seconds(run.seconds)} = {fmt_us(run.per_item_us)}/item, "
            f"recorded {fmt_us(run.recorded_per_item_us)}/item (wall {run.wall_s:.1f} s)"
        )
    return run


def print_profile(run: Run, limit: int = 25) -> None:
    if not run.profile or not Path(run.profile).exists():
        return
    progress(
        f"\n--- cProfile of {run.case} [{run.engine}]: top {limit} by own time ({run.profile}) ---"
    )
    stats = pstats.Stats(run.profile, stream=sys.stderr)
    stats.sort_stats("tottime").print_stats(limit)


# --------------------------------------------------------------------------- main


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def git_revision() -> str:
    """The repository's commit, with ``+dirty`` when src/ has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return ""
    return (head or "no commit") + ("+dirty" if dirty else "")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="CASE",
        help="case(s) to run; repeat or comma-separate (default: all)",
    )
    parser.add_argument(
        "--n", type=int, metavar="N", help="N for every scalable case, on both engines"
    )
    parser.add_argument(
        "--prefect-n",
        type=int,
        metavar="N",
        help="N for every scalable case on Prefect (overrides --n there)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        metavar="R",
        help="legato: timed runs per per-item case, in its process; the median is reported (default 3)",
    )
    parser.add_argument(
        "--prefect-repeat",
        type=int,
        default=1,
        metavar="R",
        help="the same for Prefect (default 1: each of its runs takes ~30 s)",
    )
    parser.add_argument("--skip-prefect", action="store_true", help="run legato only")
    parser.add_argument("--skip-legato", action="store_true", help="run Prefect only")
    parser.add_argument(
        "--json", type=Path, metavar="PATH", help="write all results and metadata as JSON"
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument(
        "--budget",
        type=float,
        default=1800.0,
        metavar="SECONDS",
        help="cap on the whole run (default 1800); later cases are skipped",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the legato children and print their hot functions",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary homes and logs")
    parser.add_argument(
        "--legato-python",
        type=Path,
        default=DEFAULT_LEGATO_PYTHON if DEFAULT_LEGATO_PYTHON.exists() else Path(sys.executable),
    )
    parser.add_argument("--prefect-python", type=Path, default=DEFAULT_PREFECT_PYTHON)
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    return parser.parse_args(argv)


def selected_cases(only: Iterable[str]) -> list[Case]:
    names = [n.strip() for item in only for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise SystemExit(f"unknown case(s): {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    return [REGISTRY[n] for n in names] if names else list(REGISTRY.values())


def case_n(case: Case, engine: str, args: argparse.Namespace) -> int | None:
    default = case.n_legato if engine == "legato" else case.n_prefect
    if not case.scalable:
        return case.n_legato if engine == "legato" or case.n_prefect is not None else None
    prefect_n: int | None = args.prefect_n
    n: int | None = args.n
    if engine == "prefect" and prefect_n:
        return prefect_n
    return n or default


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for case in REGISTRY.values():
            targets = [case.target.describe()] if case.target else []
            targets += [f"{m.label} {m.target.describe()}" for m in case.metrics if m.target]
            target = f"  [target {'; '.join(targets)}]" if targets else ""
            if case.kind is Kind.RATE and not case.rate_per_minute:
                size = f"{case.n_legato} s"
            else:
                size = f"N={case.n_legato:,}/{case.n_prefect or '-'}"
            print(f"{case.name:27} {size:15} {case.title}{target}")
        return 0
    cases = selected_cases(args.only)
    started = time.monotonic()

    wanted = [
        e
        for e in ENGINES
        if not (e == "prefect" and args.skip_prefect) and not (e == "legato" and args.skip_legato)
    ]
    engines = {
        e: probe_engine(e, args.legato_python if e == "legato" else args.prefect_python)
        for e in wanted
    }
    for engine in engines.values():
        progress(f"{engine.name}: {engine.version or 'unavailable - ' + engine.unavailable}")

    workdir = Path(tempfile.mkdtemp(prefix="legato-bench-"))
    ctx = Context(
        workdir=workdir,
        deadline=started + args.budget,
        profile=args.profile,
        repeat={"legato": args.repeat, "prefect": args.prefect_repeat},
        legato_python=args.legato_python,
    )
    results: dict[str, dict[str, Run]] = {}
    try:
        for case in cases:
            results[case.name] = {}
            for engine in engines.values():
                n = case_n(case, engine.name, args)
                if engine.unavailable or n is None:
                    continue
                if case.home is Home.TEMPLATE or case.name == TEMPLATE_CASE:
                    template_run = ensure_template(ctx, engine)
                    if case.name == TEMPLATE_CASE:
                        results[case.name][engine.name] = report(case, template_run)
                        continue
                    if template_run.status != "ok":
                        results[case.name][engine.name] = Run(
                            case.name, engine.name, n, "skipped", error="no template home"
                        )
                        continue
                in_seconds = case.kind is Kind.RATE and not case.rate_per_minute
                size = f"for {n} s" if in_seconds else f"N={n:,}"
                progress(f"[{engine.name}] {case.name} {size} ...")
                results[case.name][engine.name] = report(case, run_case(ctx, engine, case, n))
                if args.profile:
                    print_profile(results[case.name][engine.name])
    finally:
        ctx.close()
        if args.keep:
            progress(f"kept homes and logs in {workdir}")
        else:
            errors = any(
                r.status in ("error", "timeout") for by in results.values() for r in by.values()
            )
            if errors:
                progress(f"logs of failed runs kept in {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)

    elapsed = time.monotonic() - started
    rows = table_rows(results)
    print(render_markdown(rows) if args.markdown else render_text(rows))
    prefect_n_overridden = bool(args.prefect_n or args.n)
    for note in notes(results, engines, prefect_n_overridden, ctx.repeat):
        print(f"note: {note}")
    meta = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "versions": {e.name: e.version for e in engines.values()},
        "legato_revision": git_revision(),
        "total_seconds": round(elapsed, 1),
    }
    print(
        f"{meta['date']}  {meta['machine']}  versions: {meta['versions']}  "
        f"legato revision: {meta['legato_revision']}  total {elapsed:.0f} s"
    )
    if args.json:
        payload = {
            "meta": meta,
            "cases": {
                name: {"title": REGISTRY[name].title, "kind": REGISTRY[name].kind.value}
                for name in results
            },
            "results": [asdict(run) for by in results.values() for run in by.values()],
            "table": {"headers": HEADERS, "rows": rows},
        }
        args.json.write_text(json.dumps(payload, indent=2))
    failed = any(r.status in ("error", "timeout") for by in results.values() for r in by.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
