"""A small thread pool: worker threads taking calls from one queue.

``ThreadPoolTaskRunner`` submits one call per task run, and the cost of
``ThreadPoolExecutor.submit`` (a Condition-backed future, a work item and a
semaphore check per call) was a large share of a trivial task run. Here a
submit is one ``SimpleQueue.put`` and, when no worker is free, starting one.
Each queued call has either reserved an idle worker or started a new one (up
to ``max_workers``), as in ``ThreadPoolExecutor``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any

logger = logging.getLogger(__name__)


class WorkerPool:
    """Runs ``fn(*args)`` calls on up to ``max_workers`` daemon threads."""

    def __init__(self, max_workers: int, name_prefix: str = "legato-worker") -> None:
        self._max_workers = max_workers
        self._name_prefix = name_prefix
        self._queue: SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]] | None] = SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Queue one call; start a worker if none is free."""
        with self._lock:
            if self._closed:
                raise RuntimeError(
                    "This task runner has shut down; submit from inside its flow run."
                )
            if self._idle:
                self._idle -= 1
                start = False
            else:
                start = len(self._threads) < self._max_workers
                if start:
                    thread = threading.Thread(
                        target=self._work,
                        name=f"{self._name_prefix}-{len(self._threads)}",
                        daemon=True,
                    )
                    self._threads.append(thread)
        self._queue.put((fn, args))
        if start:
            thread.start()

    def _work(self) -> None:
        get = self._queue.get
        while True:
            item = get()
            if item is None:
                return
            fn, args = item
            try:
                fn(*args)
            except BaseException:
                logger.exception("A task runner call raised outside the engine")
            del item, fn, args
            with self._lock:
                self._idle += 1

    def shutdown(self, wait: bool = True) -> None:
        """Let queued calls finish, then stop the workers."""
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        for _ in threads:
            self._queue.put(None)
        if wait:
            for thread in threads:
                thread.join()
