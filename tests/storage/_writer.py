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
    now = time.time()
    flow_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"legato-flow:writer-{writer}"))
    run_id = str(uuid.uuid4())
    run = {
        "id": run_id, "flow_id": flow_id, "name": f"w{writer}-{number}", "flow_version": None,
        "parameters": "{}", "tags": "[]", "run_count": 1, "parent_flow_run_id": None,
        "parent_task_run_id": None, "state_type": "COMPLETED", "state_name": "Completed",
        "state_message": None, "state_timestamp": now, "expected_start_time": now,
        "start_time": now, "end_time": now, "total_run_time": 0.0, "created": now,
    }  # fmt: skip
    batch = RecordBatch(flows=[(flow_id, f"writer-{writer}")], flow_runs=[run])
    for index in range(task_runs):
        task_id = str(uuid.uuid4())
        batch.task_runs.append({
            **{key: run[key] for key in run if key in {"tags", "run_count", "state_type", "state_name",
               "state_message", "state_timestamp", "expected_start_time", "start_time", "end_time",
               "total_run_time", "created"}},
            "id": task_id, "flow_run_id": run_id, "name": f"t-{index}", "task_key": "t",
            "dynamic_key": str(index), "task_version": None, "cache_key": None, "task_inputs": "{}",
        })  # fmt: skip
        batch.states.append((str(uuid.uuid4()), None, task_id, "COMPLETED", "Completed", None, now))
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
