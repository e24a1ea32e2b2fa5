"""A writer process for test_concurrency: records batches into one database.

Usage: python _writer.py TARGET WRITER_INDEX BATCHES TASK_RUNS_PER_BATCH [SHARED_RUNS]

TARGET is a SQLite file path (written through ``EmbeddedClient``, the
recorder's stdlib path) or a database URL (``batches.write_batch`` in one
SQLAlchemy transaction per batch). With SHARED_RUNS, every batch also
upserts that many flow runs that all writers share, in a random order, and
the flow that all writers share.
Waits for a line on stdin before writing, so that all writers start together.
"""

from __future__ import annotations

import random
import sys
import time
import uuid
from pathlib import Path

from legato.storage.records import RecordBatch

SHARED_FLOW = "shared"


def shared_run_ids(count: int) -> list[str]:
    return [str(uuid.uuid5(uuid.NAMESPACE_URL, f"legato-shared-run:{i}")) for i in range(count)]


def flow(name: str) -> tuple[str, str]:
    return (str(uuid.uuid5(uuid.NAMESPACE_URL, f"legato-flow:{name}")), name)


def flow_run(run_id: str, flow_id: str, name: str, now: float) -> tuple[object, ...]:
    # id, flow_id, name, flow_version, parameters, tags, run_count, parent_flow_run_id,
    # parent_task_run_id, state_type, state_name, state_message, state_timestamp,
    # expected_start_time, start_time, end_time, total_run_time, created, updated
    return (
        run_id, flow_id, name, None, "{}", "[]", 1, None, None,
        "COMPLETED", "Completed", None, now, now, now, now, 0.0, now, now,
    )  # fmt: skip


def make_batch(writer: int, number: int, task_runs: int, shared: int = 0) -> RecordBatch:
    """Plain tuples in field order, like the recorder's rows."""
    now = time.time()
    flow_id, flow_name = flow(f"writer-{writer}")
    run_id = str(uuid.uuid4())
    batch = RecordBatch(
        flows=[(flow_id, flow_name)],
        flow_runs=[flow_run(run_id, flow_id, f"w{writer}-{number}", now)],
    )
    for index in range(task_runs):
        task_id = str(uuid.uuid4())
        # id, flow_run_id, name, task_key, dynamic_key, task_version, cache_key, tags,
        # task_inputs, run_count, state_type, state_name, state_message, state_timestamp,
        # expected_start_time, start_time, end_time, total_run_time, created, updated
        batch.task_runs.append((
            task_id, run_id, f"t-{index}", "t", str(index), None, None, "[]", "{}", 1,
            "COMPLETED", "Completed", None, now, now, now, now, 0.0, now, now,
        ))  # fmt: skip
        batch.states.append(
            (str(uuid.uuid4()), None, task_id, "COMPLETED", "Completed", None, now, None)
        )
        batch.logs.append((str(uuid.uuid4()), run_id, task_id, "legato.task_runs", 20, "done", now))
    if shared:
        shared_flow_id, _ = flow(SHARED_FLOW)
        batch.flows.insert(random.randrange(2), flow(SHARED_FLOW))
        ids = shared_run_ids(shared)
        random.shuffle(ids)
        batch.flow_runs += [flow_run(id_, shared_flow_id, f"s{writer}", now) for id_ in ids]
    return batch


def main() -> None:
    target, writer, batches, task_runs = sys.argv[1], *map(int, sys.argv[2:5])
    shared = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    sys.stdin.readline()  # the start signal
    if "://" in target:
        write_through_sqlalchemy(target, writer, batches, task_runs, shared)
    else:
        write_through_the_client(Path(target), writer, batches, task_runs)
    print("ok")


def write_through_the_client(path: Path, writer: int, batches: int, task_runs: int) -> None:
    from legato.client.embedded import EmbeddedClient

    client = EmbeddedClient(path)  # all writers may create the file at once
    try:
        for number in range(batches):
            client.record(make_batch(writer, number, task_runs))
    finally:
        client.close()


def write_through_sqlalchemy(
    url: str, writer: int, batches: int, task_runs: int, shared: int
) -> None:
    from legato.storage.batches import write_batch
    from legato.storage.engine import create_store_engine

    engine = create_store_engine(url, is_writer=True)
    try:
        for number in range(batches):
            batch = make_batch(writer, number, task_runs, shared)
            with engine.begin() as connection:
                write_batch(connection, batch)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
