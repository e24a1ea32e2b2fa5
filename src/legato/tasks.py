"""``@task`` and the ``Task`` object.

A task call inside a flow runs at once and returns its value; ``.submit()``
hands it to the flow's task runner and returns a future; ``.map()`` submits one
run per element. Everything that depends only on the function is computed
here, once, at decoration time; running is delegated to ``legato.engine``.
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import inspect
from collections.abc import Callable, Iterable
from types import MethodType
from typing import Any, Generic, ParamSpec, TypeVar, overload

from legato.annotations import allow_failure, quote, unmapped
from legato.engine.options import (
    check_cache_policy,
    check_callable,
    check_hooks,
    check_jitter,
    check_result_options,
    check_retries,
    check_retry_delays,
    check_run_name,
    check_timeout,
)
from legato.engine.persistence import explicit_persist
from legato.engine.signature import (
    ASYNC,
    ASYNC_GENERATOR,
    GENERATOR,
    ParameterBinder,
    function_kind,
)
from legato.exceptions import MappingLengthMismatch, MappingMissingIterable
from legato.futures import PrefectFuture, PrefectFutureList

P = ParamSpec("P")
R = TypeVar("R")


def exponential_backoff(backoff_factor: float) -> Callable[[int], list[float]]:
    """Retry delays ``factor * 2**n`` seconds, for ``retry_delay_seconds=``."""

    def delays(retries: int) -> list[float]:
        return [backoff_factor * 2**attempt for attempt in range(retries)]

    return delays


def task_input_hash(context: Any, arguments: dict[str, Any]) -> str | None:
    """A cache key made of the task's identity and its inputs (Prefect's name)."""
    from legato.engine.hashing import hash_objects

    task = getattr(context, "task", None)
    code = getattr(getattr(task, "fn", None), "__code__", None)
    return hash_objects(
        getattr(task, "task_key", None),
        code.co_code.hex() if code is not None else None,
        arguments,
    )


def _task_key(fn: Callable[..., Any]) -> str:
    qualname = getattr(fn, "__qualname__", type(fn).__name__)
    module = getattr(fn, "__module__", "") or ""
    digest = hashlib.blake2b(f"{module}:{qualname}".encode(), digest_size=4).hexdigest()
    return f"{qualname}-{digest}"


class Task(Generic[P, R]):
    """A function whose calls are task runs: tracked, retried, recorded."""

    def __init__(
        self,
        fn: Callable[P, R],
        name: str | None = None,
        description: str | None = None,
        tags: Iterable[str] | None = None,
        version: str | None = None,
        cache_policy: Any = None,
        cache_key_fn: Callable[..., str | None] | None = None,
        cache_expiration: _dt.timedelta | None = None,
        task_run_name: str | Callable[[], str] | None = None,
        retries: int | None = None,
        retry_delay_seconds: float | list[float] | Callable[[int], list[float]] | None = None,
        retry_jitter_factor: float | None = None,
        persist_result: bool | None = None,
        result_storage: Any = None,
        result_serializer: Any = None,
        result_storage_key: str | None = None,
        cache_result_in_memory: bool = True,
        timeout_seconds: float | None = None,
        log_prints: bool | None = None,
        refresh_cache: bool | None = None,
        on_completion: list[Callable[..., Any]] | None = None,
        on_failure: list[Callable[..., Any]] | None = None,
        on_running: list[Callable[..., Any]] | None = None,
        on_commit: list[Callable[..., Any]] | None = None,
        on_rollback: list[Callable[..., Any]] | None = None,
        retry_condition_fn: Callable[..., bool] | None = None,
        viz_return_value: Any = None,
    ) -> None:
        check_callable(fn, "task")
        self._is_classmethod = isinstance(fn, classmethod)
        if isinstance(fn, classmethod | staticmethod):
            fn = fn.__func__
        self.fn = fn
        self.name: str = name or str(getattr(fn, "__name__", type(fn).__name__))
        owner = f"task {self.name!r}"
        self.description = description or inspect.getdoc(fn)
        self.tags: frozenset[str] = frozenset(tags or ())
        self.version = version
        self.task_key = _task_key(fn)
        self.task_run_name = check_run_name(task_run_name, "task_run_name", owner)
        self._retries = check_retries(retries, owner)
        self.retry_delay_seconds = retry_delay_seconds
        self.retry_delays = check_retry_delays(retry_delay_seconds, self._retries, owner)
        self.retry_jitter_factor = check_jitter(retry_jitter_factor, owner)
        self.retry_condition_fn = retry_condition_fn
        if retry_condition_fn is not None and not callable(retry_condition_fn):
            from legato.exceptions import ParameterError

            raise ParameterError(
                f"retry_condition_fn={retry_condition_fn!r} for {owner} must be a function "
                "called with (task, task_run, state) that returns True to retry."
            )
        self.timeout_seconds = check_timeout(timeout_seconds, owner)
        self.log_prints = log_prints
        self.cache_policy = cache_policy
        self.cache_key_fn = cache_key_fn
        self.cache_expiration = cache_expiration
        self.refresh_cache = refresh_cache
        self.persist_result = persist_result
        self.result_storage = result_storage
        self.result_serializer = result_serializer
        self.result_storage_key = result_storage_key
        self.cache_result_in_memory = cache_result_in_memory
        # True/False when the task itself decides whether results persist; None: its run does.
        self.persist_explicit = explicit_persist(
            persist_result,
            cache_policy,
            cache_key_fn,
            result_storage_key,
            result_storage,
            result_serializer,
        )
        if cache_policy is not None:
            check_cache_policy(cache_policy, owner)
        check_result_options(result_storage_key, cache_expiration, owner)
        self.viz_return_value = viz_return_value
        self.on_completion_hooks = check_hooks(on_completion, "on_completion", owner)
        self.on_failure_hooks = check_hooks(on_failure, "on_failure", owner)
        self.on_running_hooks = check_hooks(on_running, "on_running", owner)
        self.on_commit_hooks = check_hooks(on_commit, "on_commit", owner)
        self.on_rollback_hooks = check_hooks(on_rollback, "on_rollback", owner)
        self._kind = function_kind(fn)
        self.binder = ParameterBinder(fn)
        self._bound_to: Any = None
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__wrapped__ = fn

    # -- derived options ------------------------------------------------------
    @property
    def retries(self) -> int:
        if self._retries is not None:
            return self._retries
        from legato.settings import get_current_settings

        return get_current_settings().tasks.default_retries

    @property
    def resolved_cache_policy(self) -> Any:
        """The policy that makes this task's cache keys (``cache_key_fn`` wins)."""
        policy = self.__dict__.get("_resolved_cache_policy")
        if policy is None:
            from legato.engine.persistence import resolve_cache_policy

            policy = self.__dict__["_resolved_cache_policy"] = resolve_cache_policy(self)
        return policy

    @property
    def cache_isolation_serializable(self) -> bool:
        """Whether runs with the same cache key run one at a time (under the store's lock)."""
        serializable: bool | None = self.__dict__.get("_cache_serializable")
        if serializable is None:
            level = getattr(self.resolved_cache_policy, "isolation_level", None)
            serializable = str(getattr(level, "value", level)).upper() == "SERIALIZABLE"
            self.__dict__["_cache_serializable"] = serializable
        return serializable

    @property
    def isasync(self) -> bool:
        return self._kind in (ASYNC, ASYNC_GENERATOR)

    @property
    def isgenerator(self) -> bool:
        return self._kind in (GENERATOR, ASYNC_GENERATOR)

    # Hook lists under Prefect's attribute names, read by the engine.
    @property
    def on_running(self) -> list[Callable[..., Any]]:
        return self.on_running_hooks

    @property
    def on_completion(self) -> list[Callable[..., Any]]:
        return self.on_completion_hooks

    @property
    def on_failure(self) -> list[Callable[..., Any]]:
        return self.on_failure_hooks

    def default_log_prints(self) -> bool:
        from legato.settings import get_current_settings

        return bool(get_current_settings().logging.log_prints)

    # -- hook decorators ------------------------------------------------------
    def on_commit(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator: call ``fn(transaction)`` when the task's transaction commits."""
        self.on_commit_hooks.append(fn)
        return fn

    def on_rollback(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator: call ``fn(transaction)`` when the task's transaction rolls back."""
        self.on_rollback_hooks.append(fn)
        return fn

    # -- options and binding --------------------------------------------------
    def with_options(self, **options: Any) -> Task[P, R]:
        """A copy of this task with some options changed."""
        current = {
            "name": self.name,
            "description": self.description,
            "tags": self.tags,
            "version": self.version,
            "cache_policy": self.cache_policy,
            "cache_key_fn": self.cache_key_fn,
            "cache_expiration": self.cache_expiration,
            "task_run_name": self.task_run_name,
            "retries": self._retries,
            "retry_delay_seconds": self.retry_delay_seconds,
            "retry_jitter_factor": self.retry_jitter_factor,
            "persist_result": self.persist_result,
            "result_storage": self.result_storage,
            "result_serializer": self.result_serializer,
            "result_storage_key": self.result_storage_key,
            "cache_result_in_memory": self.cache_result_in_memory,
            "timeout_seconds": self.timeout_seconds,
            "log_prints": self.log_prints,
            "refresh_cache": self.refresh_cache,
            "on_completion": list(self.on_completion_hooks),
            "on_failure": list(self.on_failure_hooks),
            "on_running": list(self.on_running_hooks),
            "on_commit": list(self.on_commit_hooks),
            "on_rollback": list(self.on_rollback_hooks),
            "retry_condition_fn": self.retry_condition_fn,
            "viz_return_value": self.viz_return_value,
        }
        unknown = set(options) - set(current)
        if unknown:
            from legato.exceptions import ParameterError

            raise ParameterError(
                f"with_options() got unknown option(s) {sorted(unknown)} for task {self.name!r}. "
                f"Valid options: {', '.join(sorted(current))}."
            )
        current.update(options)
        fn: Any = classmethod(self.fn) if self._is_classmethod else self.fn  # type: ignore[arg-type]
        new = type(self)(fn, **current)
        new._bound_to = self._bound_to
        return new

    def __get__(self, instance: Any, owner: type | None = None) -> Task[P, R]:
        target = owner if self._is_classmethod else instance
        if target is None:
            return self
        bound = copy.copy(self)
        bound.fn = MethodType(self.fn, target)
        bound.binder = self._method_binder()
        bound._bound_to = target
        return bound

    def _method_binder(self) -> ParameterBinder:
        binder: ParameterBinder | None = self.__dict__.get("_cached_method_binder")
        if binder is None:
            binder = ParameterBinder(MethodType(self.fn, object()))
            self.__dict__["_cached_method_binder"] = binder
        return binder

    # -- calling --------------------------------------------------------------
    @overload
    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...
    @overload
    def __call__(
        self, *args: Any, return_state: bool = ..., wait_for: Any = ..., **kwargs: Any
    ) -> Any: ...

    def __call__(  # type: ignore[misc]  # the overloads above are the public types
        self, *args: Any, return_state: bool = False, wait_for: Any = None, **kwargs: Any
    ) -> Any:
        """Run the task now and return its value (or its State with return_state=True)."""
        from legato.engine.task_call import call_task

        return call_task(self, args, kwargs, return_state, wait_for)

    def submit(
        self, *args: Any, return_state: bool = False, wait_for: Any = None, **kwargs: Any
    ) -> PrefectFuture[R]:
        """Hand the task to the current task runner; returns a future at once."""
        from legato.engine.task_call import submit_task

        future: PrefectFuture[R] = submit_task(self, self.binder.bind(args, kwargs), wait_for)
        if return_state:
            future.wait()
            return future.state  # type: ignore[return-value]
        return future

    def map(
        self, *args: Any, return_state: bool = False, wait_for: Any = None, **kwargs: Any
    ) -> PrefectFutureList[R]:
        """Submit one run per element of the iterable arguments.

        Every iterable argument must have the same length; wrap an iterable in
        ``unmapped(...)`` to pass it whole to every run.
        """
        from legato.engine.task_call import submit_task

        parameters = self.binder.bind(args, kwargs)
        runs = expand_map_parameters(self.name, parameters)
        futures: PrefectFutureList[R] = PrefectFutureList(
            submit_task(self, run_parameters, wait_for) for run_parameters in runs
        )
        if return_state:
            futures.wait()
            return [future.state for future in futures]  # type: ignore[return-value]
        return futures

    def __repr__(self) -> str:
        return f"Task(name={self.name!r})"


def _is_mappable(value: Any) -> bool:
    if isinstance(value, str | bytes | bytearray | unmapped | quote):
        return False
    return isinstance(value, Iterable)


def expand_map_parameters(task_name: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    """One parameters dict per mapped run; checks lengths and that something is mapped."""
    mapped: dict[str, list[Any]] = {}
    static: dict[str, Any] = {}
    for name, value in parameters.items():
        if isinstance(value, PrefectFuture):
            value = value.result()
        if isinstance(value, allow_failure | quote) and _is_mappable(value.value):
            mapped[name] = [value.rewrap(item) for item in value.value]
        elif _is_mappable(value):
            mapped[name] = list(value)
        else:
            static[name] = value
    if not mapped:
        raise MappingMissingIterable(
            f"{task_name}.map() was given no iterable to map over "
            f"(parameters: {', '.join(parameters) or 'none'}). Pass at least one list, tuple "
            "or other iterable; wrap values every run should share in unmapped(...)."
        )
    lengths = {name: len(values) for name, values in mapped.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name}={length}" for name, length in lengths.items())
        raise MappingLengthMismatch(
            f"{task_name}.map() got iterables of different lengths ({shown}). "
            "Give every mapped argument the same length, or wrap the ones to share in unmapped(...)."
        )
    count = next(iter(lengths.values()))
    return [
        {**static, **{name: values[i] for name, values in mapped.items()}} for i in range(count)
    ]


@overload
def task(__fn: Callable[P, R]) -> Task[P, R]: ...
@overload
def task(__fn: None = None, **options: Any) -> Callable[[Callable[P, R]], Task[P, R]]: ...


def task(__fn: Any = None, **options: Any) -> Any:
    """Decorate a function as a task, with or without options.

    >>> @task(retries=2)
    ... def fetch(url: str) -> bytes: ...
    """
    if __fn is not None:
        return Task(__fn, **options)

    def decorator(fn: Callable[P, R]) -> Task[P, R]:
        return Task(fn, **options)

    return decorator


__all__ = ["Task", "exponential_backoff", "task", "task_input_hash"]
