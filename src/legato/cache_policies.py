"""Cache policies: how a task run's cache key is computed (Prefect 3's names).

A policy's ``compute_key(task_ctx, inputs, flow_parameters)`` returns a key,
or None for "do not cache". Policies combine with ``+`` (every part must be
computable) and ``INPUTS - "name"`` leaves an argument out of the key.

The engine stores a task's policy; looking results up by key arrives with the
results and caching work (see docs/engine.md).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

from legato.engine.hashing import hash_objects
from legato.exceptions import ParameterError


@dataclasses.dataclass(frozen=True)
class CachePolicy:
    """Base class: a rule that turns a task call into a cache key."""

    key_storage: Any = None
    lock_manager: Any = None
    isolation_level: Any = None

    def compute_key(
        self, task_ctx: Any, inputs: dict[str, Any], flow_parameters: dict[str, Any], **kwargs: Any
    ) -> str | None:
        raise NotImplementedError

    def configure(
        self, key_storage: Any = None, lock_manager: Any = None, isolation_level: Any = None
    ) -> CachePolicy:
        """A copy with its own key storage, lock manager or isolation level."""
        return dataclasses.replace(
            self,
            key_storage=key_storage if key_storage is not None else self.key_storage,
            lock_manager=lock_manager if lock_manager is not None else self.lock_manager,
            isolation_level=isolation_level
            if isolation_level is not None
            else self.isolation_level,
        )

    def __add__(self, other: CachePolicy) -> CachePolicy:
        if not isinstance(other, CachePolicy):
            return NotImplemented
        parts = [*_parts(self), *_parts(other)]
        return CompoundCachePolicy(policies=tuple(p for p in parts if not isinstance(p, _NoCache)))

    def __sub__(self, name: str) -> CachePolicy:
        if not isinstance(name, str):
            raise ParameterError(
                f"Remove an input from a cache policy by name, e.g. INPUTS - 'debug'; got {name!r}."
            )
        return self


def _parts(policy: CachePolicy) -> tuple[CachePolicy, ...]:
    return policy.policies if isinstance(policy, CompoundCachePolicy) else (policy,)


@dataclasses.dataclass(frozen=True)
class _NoCache(CachePolicy):
    """Never cache: the key is always None."""

    def compute_key(
        self, task_ctx: Any, inputs: dict[str, Any], flow_parameters: dict[str, Any], **kwargs: Any
    ) -> str | None:
        return None


@dataclasses.dataclass(frozen=True)
class Inputs(CachePolicy):
    """The key is a hash of the task's arguments (minus ``exclude``)."""

    exclude: tuple[str, ...] = ()

    def compute_key(
        self, task_ctx: Any, inputs: dict[str, Any], flow_parameters: dict[str, Any], **kwargs: Any
    ) -> str | None:
        kept = {name: value for name, value in sorted(inputs.items()) if name not in self.exclude}
        return hash_objects(kept)

    def __sub__(self, name: str) -> CachePolicy:
        super().__sub__(name)
        return dataclasses.replace(self, exclude=(*self.exclude, name))


@dataclasses.dataclass(frozen=True)
class TaskSource(CachePolicy):
    """The key is a hash of the task function's source code."""

    def compute_key(
        self, task_ctx: Any, inputs: dict[str, Any], flow_parameters: dict[str, Any], **kwargs: Any
    ) -> str | None:
        fn = getattr(getattr(task_ctx, "task", None), "fn", None)
        if fn is None:
            return None
        try:
            source: Any = inspect.getsource(fn)
        except (OSError, TypeError):
            source = getattr(getattr(fn, "__code__", None), "co_code", b"").hex()
        return hash_objects(source)


@dataclasses.dataclass(frozen=True)
class FlowParameters(CachePolicy):
    """The key is a hash of the flow run's parameters."""

    def compute_key(
        self, task_ctx: Any, inputs: dict[str, Any], flow_parameters: dict[str, Any], **kwargs: Any
    ) -> str | None:
        return hash_objects(flow_parameters)


@dataclasses.dataclass(frozen=True)
class RunId(CachePolicy):
    """The key is the flow run's id: a cache within one flow run."""

    def compute_key(
        self, task_ctx: Any, inputs: dict[str, Any], flow_parameters: dict[str, Any], **kwargs: Any
    ) -> str | None:
        task_run = getattr(task_ctx, "task_run", None)
        run_id = getattr(task_run, "flow_run_id", None) or getattr(task_run, "id", None)
        return None if run_id is None else str(run_id)


@dataclasses.dataclass(frozen=True)
class CacheKeyFnPolicy(CachePolicy):
    """The key is whatever ``cache_key_fn(task_ctx, inputs)`` returns."""

    cache_key_fn: Callable[[Any, dict[str, Any]], str | None] | None = None

    def compute_key(
        self, task_ctx: Any, inputs: dict[str, Any], flow_parameters: dict[str, Any], **kwargs: Any
    ) -> str | None:
        if self.cache_key_fn is None:
            return None
        return self.cache_key_fn(task_ctx, inputs)


@dataclasses.dataclass(frozen=True)
class CompoundCachePolicy(CachePolicy):
    """Several policies at once; None if any part cannot produce a key."""

    policies: tuple[CachePolicy, ...] = ()

    def compute_key(
        self, task_ctx: Any, inputs: dict[str, Any], flow_parameters: dict[str, Any], **kwargs: Any
    ) -> str | None:
        keys = [
            policy.compute_key(task_ctx, inputs, flow_parameters, **kwargs)
            for policy in self.policies
        ]
        if not keys or any(key is None for key in keys):
            return None
        return hash_objects(keys)

    def __sub__(self, name: str) -> CachePolicy:
        super().__sub__(name)
        return dataclasses.replace(self, policies=tuple(p - name for p in self.policies))


NO_CACHE = _NoCache()
NONE = NO_CACHE
INPUTS = Inputs()
TASK_SOURCE = TaskSource()
FLOW_PARAMETERS = FlowParameters()
RUN_ID = RunId()
DEFAULT = INPUTS + TASK_SOURCE + RUN_ID

__all__ = [
    "DEFAULT",
    "FLOW_PARAMETERS",
    "INPUTS",
    "NONE",
    "NO_CACHE",
    "RUN_ID",
    "TASK_SOURCE",
    "CacheKeyFnPolicy",
    "CachePolicy",
    "CompoundCachePolicy",
    "FlowParameters",
    "Inputs",
    "RunId",
    "TaskSource",
]
