"""A writer process for test_concurrency: records batches into one database.

Usage: python _writer.py DATABASE WRITER_INDEX BATCHES TASK_RUNS_PER_BATCH
Waits for a line on stdin before writing, so that all writers start together.
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

from legato.client.embedded import EmbeddedClient
from legato.storage.records import RecordBatch


def make_batch(writer: int, number: int, task_runs: int) -> RecordBatch:
    """Plain tuples in field order, like the recorder's rows."""
    now = time.time()
    flow_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"legato-flow:writer-{writer}"))
    run_id = str(uuid.uuid4())
    # id, flow_id, name, flow_version, parameters, tags, run_count, parent_flow_run_id,
    # parent_task_run_id, state_type, state_name, state_message, state_timestamp,
    # expected_start_time, start_time, end_time, total_run_time, created, updated
    run = (
        run_id, flow_id, f"w{writer}-{number}", None, "{}", "[]", 1, None, None,
        "COMPLETED", "Completed", None, now, now, now, now, 0.0, now, now,
    )  # fmt: skip
    batch = RecordBatch(flows=[(flow_id, f"writer-{writer}")], flow_runs=[run])
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
    return batch


def main() -> None:
    path, writer, batches, task_runs = Path(sys.argv[1]), *map(int, sys.argv[2:5])
    sys.stdin.readline()  # the start signal
    client = EmbeddedClient(path)  # all writers may create the file at once
    try:
        for number in range(batches):
            client.record(make_batch(writer, number, task_runs))
    finally:
        client.close()
    print("ok")


if __name__ == "__main__":
    main()
