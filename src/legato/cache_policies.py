"""Cache policies: how a task run's cache key is computed (Prefect 3's names).

A policy's ``compute_key(task_ctx, inputs, flow_parameters)`` returns a key,
or None for "do not cache". Policies combine with ``+`` (every part must be
computable) and ``INPUTS - "name"`` leaves an argument out of the key.

The engine computes a key only for runs that persist results; a hit ends the
run Cached (see docs/results-caching-transactions.md).
"""

from __future__ import annotations

import dataclasses
import inspect
import warnings
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


def _warn_unhashable(task_ctx: Any, inputs: dict[str, Any]) -> None:
    """Name the arguments that made a key impossible (the run is then not cached)."""
    bad = [name for name, value in inputs.items() if hash_objects(value) is None]
    task_name = getattr(getattr(task_ctx, "task", None), "name", "?")
    shown = ", ".join(f"{name!r} ({type(inputs[name]).__name__})" for name in bad) or "?"
    first = bad[0] if bad else "name"
    warnings.warn(
        f"Task {task_name!r}: argument(s) {shown} cannot be hashed (neither JSON nor "
        f"cloudpickle can serialize them), so this run is not cached. Leave them out of "
        f"the key with cache_policy=INPUTS - {first!r}, or give a cache_key_fn.",
        UnhashableInputsWarning,
        stacklevel=2,
    )


class UnhashableInputsWarning(UserWarning):
    """A task's inputs could not make a cache key; the run is not cached."""


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
        key = hash_objects(kept)
        if key is None:
            _warn_unhashable(task_ctx, kept)
        return key

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
        fn = getattr(fn, "__func__", fn)  # a bound method's function
        code = getattr(fn, "__code__", None)
        if code is None:
            return _source_hash(fn)
        key = _source_hashes.get(code)
        if key is None:
            key = _source_hashes[code] = _source_hash(fn)
        return key


# Reading and hashing source costs far more than a task call: once per code object.
_source_hashes: dict[Any, str | None] = {}


def _source_hash(fn: Any) -> str | None:
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
    "UnhashableInputsWarning",
]
