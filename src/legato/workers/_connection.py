"""Riding out an unreachable server: exponential back-off and one log line per outage."""

from __future__ import annotations

import logging
import random
import time

from legato.exceptions import ServerUnavailable, StorageError

logger = logging.getLogger("legato.workers")

__all__ = ["Outage", "is_unreachable"]


def is_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` means the server (or store) could not be reached, not a bug."""
    if isinstance(exc, ServerUnavailable | StorageError | ConnectionError | TimeoutError):
        return True
    return any(cls.__name__ in ("TransportError", "OperationalError") for cls in type(exc).__mro__)


class Outage:
    """Counts consecutive failures of one worker's calls; the wait before the next try.

    The first failure of an outage is logged (one line when the server is
    unreachable, with the traceback for anything else); the following ones
    only at DEBUG; the first success after it says how long it lasted.
    """

    def __init__(
        self, worker_name: str, target: str, base_seconds: float, max_seconds: float
    ) -> None:
        self._worker_name = worker_name
        self._target = target
        self._base = base_seconds
        self._max = max_seconds
        self.failures = 0
        self._since = 0.0

    def failed(self, exc: BaseException) -> float:
        """Note one failure; the seconds to wait before trying again."""
        if self.failures == 0:
            self._since = time.monotonic()
            if is_unreachable(exc):
                logger.warning(
                    "Worker %r cannot reach %s (%s); retrying with back-off up to %g s.",
                    self._worker_name,
                    self._target,
                    _first_line(exc),
                    self._max,
                )
            else:
                logger.error(
                    "Worker %r failed an iteration; retrying with back-off up to %g s.",
                    self._worker_name,
                    self._max,
                    exc_info=exc,
                )
        else:
            logger.debug("Worker %r: still failing (%s)", self._worker_name, _first_line(exc))
        self.failures += 1
        delay: float = min(self._max, self._base * 2.0 ** min(self.failures, 30))
        return delay * (0.8 + 0.4 * random.random())

    def succeeded(self) -> None:
        """Note a success; ends the outage (logged once)."""
        if self.failures:
            logger.info(
                "Worker %r reached %s again after %.1f s.",
                self._worker_name,
                self._target,
                time.monotonic() - self._since,
            )
            self.failures = 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
