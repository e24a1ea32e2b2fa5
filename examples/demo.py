"""legato's demo: a small ETL flow with retries, mapping, caching, a subflow and an artifact.

Run it with `scripts/demo` (or `python examples/demo.py`), then look at what
was recorded with `legato flow-run ls`, `legato flow-run inspect <id>` and
`legato artifact ls`. Run it twice: `extract` answers from its cache (state
Cached) the second time.
"""

from __future__ import annotations

from legato import flow, get_run_logger, runtime, task, unmapped
from legato.artifacts import create_markdown_artifact
from legato.cache_policies import INPUTS


@task(retries=2, retry_delay_seconds=0, cache_policy=INPUTS)
def extract(day: int) -> list[int]:
    if day == 1 and runtime.task_run.run_count == 1:
        raise ConnectionError("source briefly unavailable")  # the retry shows in the logs
    return [day * 10 + i for i in range(5)]


@task
def transform(value: int, factor: int) -> int:
    return value * factor


@task
def load(values: list[int]) -> int:
    return sum(values)


@flow(log_prints=True)
def report(total: int) -> str:
    print(f"Loaded a total of {total}")
    create_markdown_artifact(f"# Demo ETL\n\nLoaded a total of **{total}**.", key="demo-report")
    return f"total={total}"


@flow(name="demo-etl")
def etl(days: int = 3, factor: int = 2) -> str:
    logger = get_run_logger()
    totals = []
    for day in range(days):
        rows = extract(day)
        scaled = transform.map(rows, unmapped(factor))
        totals.append(load(scaled))
    logger.info("Loaded %d days", days)
    return report(sum(totals))


if __name__ == "__main__":
    print(etl())
