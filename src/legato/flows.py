"""``@flow`` and the ``Flow`` object.

Calling a flow creates a flow run (a subflow run when called inside another
run), runs the function, and returns its value; ``return_state=True`` returns
the final State instead. Running is delegated to ``legato.engine``.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from types import MethodType
from typing import Any, Generic, ParamSpec, TypeVar, overload

from legato.engine.options import (
    check_callable,
    check_hooks,
    check_retries,
    check_run_name,
    check_timeout,
)
from legato.engine.parameters import ParameterValidator
from legato.engine.signature import (
    ASYNC,
    ASYNC_GENERATOR,
    ParameterBinder,
    function_kind,
)
from legato.exceptions import ParameterError
from legato.task_runners import TaskRunner, ThreadPoolTaskRunner

P = ParamSpec("P")
R = TypeVar("R")


def _check_flow_delay(value: Any, owner: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ParameterError(
            f"retry_delay_seconds={value!r} for {owner} must be a number of seconds >= 0 (flows take one delay)."
        )
    return float(value)


def _check_task_runner(value: Any, owner: str) -> TaskRunner:
    if value is None:
        return ThreadPoolTaskRunner()
    if isinstance(value, type) and issubclass(value, TaskRunner):
        return value()
    if isinstance(value, TaskRunner):
        return value
    raise ParameterError(
        f"task_runner={value!r} for {owner} is not a task runner. "
        "Pass an instance such as ThreadPoolTaskRunner(max_workers=4)."
    )


class Flow(Generic[P, R]):
    """A function whose calls are flow runs: tracked, retried, recorded."""

    def __init__(
        self,
        fn: Callable[P, R],
        name: str | None = None,
        version: str | None = None,
        flow_run_name: str | Callable[[], str] | None = None,
        retries: int | None = None,
        retry_delay_seconds: float | None = None,
        task_runner: TaskRunner | type[TaskRunner] | None = None,
        description: str | None = None,
        timeout_seconds: float | None = None,
        validate_parameters: bool = True,
        persist_result: bool | None = None,
        result_storage: Any = None,
        result_serializer: Any = None,
        cache_result_in_memory: bool = True,
        log_prints: bool | None = None,
        on_completion: list[Callable[..., Any]] | None = None,
        on_failure: list[Callable[..., Any]] | None = None,
        on_cancellation: list[Callable[..., Any]] | None = None,
        on_crashed: list[Callable[..., Any]] | None = None,
        on_running: list[Callable[..., Any]] | None = None,
    ) -> None:
        check_callable(fn, "flow")
        self._is_classmethod = isinstance(fn, classmethod)
        if isinstance(fn, classmethod | staticmethod):
            fn = fn.__func__
        self.fn = fn
        self.name: str = name or str(getattr(fn, "__name__", type(fn).__name__)).replace("_", "-")
        owner = f"flow {self.name!r}"
        self.version = version
        self.flow_run_name = check_run_name(flow_run_name, "flow_run_name", owner)
        self._retries = check_retries(retries, owner)
        self.retry_delay_seconds = _check_flow_delay(retry_delay_seconds, owner)
        self.task_runner = _check_task_runner(task_runner, owner)
        self.description = description or inspect.getdoc(fn)
        self.timeout_seconds = check_timeout(timeout_seconds, owner)
        self.should_validate_parameters = validate_parameters
        self.persist_result = persist_result
        self.result_storage = result_storage
        self.result_serializer = result_serializer
        self.cache_result_in_memory = cache_result_in_memory
        self.log_prints = log_prints
        self.on_completion_hooks = check_hooks(on_completion, "on_completion", owner)
        self.on_failure_hooks = check_hooks(on_failure, "on_failure", owner)
        self.on_cancellation_hooks = check_hooks(on_cancellation, "on_cancellation", owner)
        self.on_crashed_hooks = check_hooks(on_crashed, "on_crashed", owner)
        self.on_running_hooks = check_hooks(on_running, "on_running", owner)
        self._kind = function_kind(fn)
        self.binder = ParameterBinder(fn)
        self._validator: ParameterValidator | None = None
        self._bound_to: Any = None
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__wrapped__ = fn

    # -- options ------------------------------------------------------------------
    @property
    def retries(self) -> int:
        if self._retries is not None:
            return self._retries
        from legato.settings import get_current_settings

        return get_current_settings().flows.default_retries

    @property
    def isasync(self) -> bool:
        return self._kind in (ASYNC, ASYNC_GENERATOR)

    @property
    def parameters(self) -> inspect.Signature:
        return self.binder.signature

    def default_log_prints(self) -> bool:
        from legato.settings import get_current_settings

        return bool(get_current_settings().logging.log_prints)

    def with_options(self, **options: Any) -> Flow[P, R]:
        """A copy of this flow with some options changed."""
        current: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "flow_run_name": self.flow_run_name,
            "retries": self._retries,
            "retry_delay_seconds": self.retry_delay_seconds,
            "task_runner": self.task_runner,
            "description": self.description,
            "timeout_seconds": self.timeout_seconds,
            "validate_parameters": self.should_validate_parameters,
            "persist_result": self.persist_result,
            "result_storage": self.result_storage,
            "result_serializer": self.result_serializer,
            "cache_result_in_memory": self.cache_result_in_memory,
            "log_prints": self.log_prints,
            "on_completion": list(self.on_completion_hooks),
            "on_failure": list(self.on_failure_hooks),
            "on_cancellation": list(self.on_cancellation_hooks),
            "on_crashed": list(self.on_crashed_hooks),
            "on_running": list(self.on_running_hooks),
        }
        unknown = set(options) - set(current)
        if unknown:
            raise ParameterError(
                f"with_options() got unknown option(s) {sorted(unknown)} for flow {self.name!r}. "
                f"Valid options: {', '.join(sorted(current))}."
            )
        current.update(options)
        fn: Any = classmethod(self.fn) if self._is_classmethod else self.fn  # type: ignore[arg-type]
        new = type(self)(fn, **current)
        new._bound_to = self._bound_to
        return new

    # -- parameters ---------------------------------------------------------------
    @property
    def validator(self) -> ParameterValidator:
        if self._validator is None:
            self._validator = ParameterValidator(self.fn, f"flow {self.name!r}")
        return self._validator

    def validate_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """Check names against the signature and coerce values to their type hints."""
        self.validator.check_names(parameters)
        return self.validator.validate(parameters)

    def bound_arguments(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        """Positional arguments with the bound instance or class in front."""
        return args if self._bound_to is None else (self._bound_to, *args)

    # -- methods ------------------------------------------------------------------
    def __get__(self, instance: Any, owner: type | None = None) -> Flow[P, R]:
        target = owner if self._is_classmethod else instance
        if target is None:
            return self
        bound = copy.copy(self)
        bound._bound_to = target
        bound.binder = self._method_binder()
        bound._validator = None
        return bound

    def _method_binder(self) -> ParameterBinder:
        binder: ParameterBinder | None = self.__dict__.get("_cached_method_binder")
        if binder is None:
            binder = ParameterBinder(MethodType(self.fn, object()))
            self.__dict__["_cached_method_binder"] = binder
        return binder

    # -- calling ------------------------------------------------------------------
    @overload
    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...
    @overload
    def __call__(self, *args: Any, return_state: bool = ..., **kwargs: Any) -> Any: ...

    def __call__(  # type: ignore[misc]  # the overloads above are the public types
        self, *args: Any, return_state: bool = False, **kwargs: Any
    ) -> Any:
        """Run the flow; its value (or its final State with return_state=True)."""
        from legato.engine.flow_call import call_flow

        return call_flow(self, args, kwargs, return_state)

    # -- deployments (legato.deployments does the work) -----------------------------
    def to_deployment(
        self,
        name: str,
        interval: Any = None,
        cron: Any = None,
        paused: bool | None = None,
        schedule: Any = None,
        schedules: Any = None,
        concurrency_limit: int | None = None,
        parameters: dict[str, Any] | None = None,
        triggers: Any = None,
        description: str | None = None,
        tags: list[str] | None = None,
        version: str | None = None,
        enforce_parameter_schema: bool = True,
        work_pool_name: str | None = None,
        work_queue_name: str | None = None,
        job_variables: dict[str, Any] | None = None,
        entrypoint_type: Any = "file_path",
        rrule: Any = None,
    ) -> Any:
        """A ``RunnerDeployment`` of this flow, for ``legato.serve(...)`` or ``.apply()``."""
        arguments = _arguments(locals())
        from legato.deployments._flow_methods import to_deployment

        return to_deployment(self, **arguments)

    def serve(
        self,
        name: str | None = None,
        interval: Any = None,
        cron: Any = None,
        paused: bool | None = None,
        schedule: Any = None,
        schedules: Any = None,
        triggers: Any = None,
        parameters: dict[str, Any] | None = None,
        description: str | None = None,
        tags: list[str] | None = None,
        version: str | None = None,
        enforce_parameter_schema: bool = True,
        pause_on_shutdown: bool = True,
        print_starting_message: bool = True,
        limit: int | None = None,
        entrypoint_type: Any = "file_path",
        rrule: Any = None,
        concurrency_limit: int | None = None,
    ) -> None:
        """Create a deployment of this flow and run its runs in this process until stopped."""
        arguments = _arguments(locals())
        from legato.deployments._flow_methods import serve_flow

        serve_flow(self, **arguments)

    def deploy(
        self,
        name: str,
        work_pool_name: str | None = None,
        image: Any = None,
        build: bool | None = None,
        push: bool | None = None,
        work_queue_name: str | None = None,
        job_variables: dict[str, Any] | None = None,
        interval: Any = None,
        cron: Any = None,
        rrule: Any = None,
        paused: bool | None = None,
        schedule: Any = None,
        schedules: Any = None,
        concurrency_limit: int | None = None,
        triggers: Any = None,
        parameters: dict[str, Any] | None = None,
        description: str | None = None,
        tags: list[str] | None = None,
        version: str | None = None,
        enforce_parameter_schema: bool = True,
        entrypoint_type: Any = "file_path",
        print_next_steps: bool = True,
    ) -> Any:
        """Create a deployment of this flow for a work pool's workers; its id."""
        arguments = _arguments(locals())
        from legato.deployments._flow_methods import deploy_flow

        return deploy_flow(self, **arguments)

    @classmethod
    def from_source(cls, source: Any, entrypoint: str) -> Flow[..., Any]:
        """The flow ``entrypoint`` names inside the local folder ``source``, ready to deploy."""
        from legato.deployments._flow_methods import flow_from_source

        return flow_from_source(source, entrypoint)

    def __repr__(self) -> str:
        return f"Flow(name={self.name!r})"


@overload
def flow(__fn: Callable[P, R]) -> Flow[P, R]: ...
@overload
def flow(__fn: None = None, **options: Any) -> Callable[[Callable[P, R]], Flow[P, R]]: ...


def flow(__fn: Any = None, **options: Any) -> Any:
    """Decorate a function as a flow, with or without options.

    >>> @flow(retries=1, log_prints=True)
    ... def etl(day: str) -> int: ...
    """
    if __fn is not None:
        return Flow(__fn, **options)

    def decorator(fn: Callable[P, R]) -> Flow[P, R]:
        return Flow(fn, **options)

    return decorator


def _arguments(frame_locals: dict[str, Any]) -> dict[str, Any]:
    """A method's arguments from its ``locals()``, without ``self``."""
    return {key: value for key, value in frame_locals.items() if key not in ("self", "cls")}


def load_flow_from_entrypoint(entrypoint: str, base_dir: Any = None) -> Flow[..., Any]:
    """The flow ``'path/to/file.py:flow_fn'`` (or ``'package.module:flow_fn'``) names.

    A relative file path is resolved against ``base_dir`` (default: the
    current folder). Raises EntrypointError naming what is wrong and the fix.
    """
    from legato._entrypoints import load_flow_from_entrypoint as load

    return load(entrypoint, base_dir)


__all__ = ["Flow", "flow", "load_flow_from_entrypoint"]
