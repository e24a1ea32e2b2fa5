"""Results and caching for one run: decide, look up, persist.

Everything here is skipped for a task that persists nothing, uses no cache
and runs outside any transaction: the engine asks ``wants_results`` (a few
attribute reads) and goes on. The rest happens only when results matter:

- whether to persist: the task's ``persist_result``; if unset, True when the
  task sets any caching or storage option; else the flow run's choice (its
  flow's ``persist_result``, else ``LEGATO_RESULTS_PERSIST_BY_DEFAULT``);
- the key: ``result_storage_key`` rendered, else the cache policy's key;
- a hit (a record under the key that has not expired, unless
  ``refresh_cache``) ends the run Cached without calling the function;
- after success the value is written under the key (or a new random key),
  or staged in the enclosing transaction to be written when it commits.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from legato.exceptions import ConfigurationError, MissingResult

if TYPE_CHECKING:
    from legato.engine.context import FlowRunContext, TaskRunContext
    from legato.flows import Flow
    from legato.states import State
    from legato.tasks import Task

__all__ = [
    "compute_key",
    "flow_persists",
    "flow_result_store",
    "refer_to",
    "resolve_cache_policy",
    "task_persists",
    "task_result_store",
]


def explicit_persist(
    persist_result: bool | None,
    cache_policy: Any,
    cache_key_fn: Any,
    result_storage_key: Any,
    result_storage: Any,
    result_serializer: Any,
) -> bool | None:
    """A task's own persistence choice, fixed at decoration time (None: ask the run)."""
    if persist_result is not None:
        return persist_result
    from legato.cache_policies import NO_CACHE

    if (
        (cache_policy is not None and cache_policy is not NO_CACHE)
        or cache_key_fn is not None
        or result_storage_key is not None
        or result_storage is not None
        or result_serializer is not None
    ):
        return True
    return None


def resolve_cache_policy(task: Task[..., Any]) -> Any:
    """The policy that makes a task's cache key (``cache_key_fn`` wins)."""
    from legato import cache_policies

    if task.cache_key_fn is not None:
        return cache_policies.CacheKeyFnPolicy(cache_key_fn=task.cache_key_fn)
    if task.cache_policy is None:
        return cache_policies.DEFAULT
    if not isinstance(task.cache_policy, cache_policies.CachePolicy):
        raise ConfigurationError(
            f"cache_policy={task.cache_policy!r} for task {task.name!r} is not a cache policy. "
            "Use one from legato.cache_policies, e.g. INPUTS or INPUTS + TASK_SOURCE."
        )
    return task.cache_policy


def default_persist() -> bool:
    from legato.settings import get_current_settings

    return bool(get_current_settings().results.persist_by_default)


def flow_persists(flow: Flow[..., Any], parent: FlowRunContext | None) -> bool:
    """Whether a flow run persists its result, and the default for its tasks.

    A flow whose own code calls ``suspend_flow_run`` persists by default: its
    run starts again from the beginning when resumed, and the tasks that
    completed before must find their results (see ``engine.replay``).
    """
    if flow.persist_result is not None:
        return bool(flow.persist_result)
    if parent is not None:
        return parent.persist_result
    return default_persist() or may_suspend(flow)


_SUSPEND_NAMES = frozenset({"suspend_flow_run", "asuspend_flow_run"})


def may_suspend(flow: Flow[..., Any]) -> bool:
    """True when the flow's function (or a function nested in it) names ``suspend_flow_run``.

    Read from the compiled code once per flow; a suspension made in a helper the
    flow calls is not seen (that flow needs ``persist_result=True``).
    """
    known = flow.__dict__.get("_may_suspend")
    if known is None:
        code = getattr(getattr(flow, "fn", None), "__code__", None)
        known = flow.__dict__["_may_suspend"] = code is not None and _names_suspend(code)
    return bool(known)


def _names_suspend(code: Any) -> bool:
    if _SUSPEND_NAMES.intersection(code.co_names):
        return True
    return any(hasattr(const, "co_names") and _names_suspend(const) for const in code.co_consts)


def task_persists(task: Task[..., Any], flow_context: FlowRunContext | None) -> bool:
    """Whether this call of ``task`` persists its result."""
    own = task.persist_explicit
    if own is not None:
        return own
    if flow_context is not None:
        return flow_context.persist_result
    return default_persist()


def _store_for(owner: Any, base: Any) -> Any:
    from legato.results import ResultStore

    store = base if base is not None else ResultStore()
    update = store.update_for_task if hasattr(owner, "task_key") else store.update_for_flow
    return update(owner)


def _cached_store(owner: Any, base: Any) -> Any:
    """The owner's store for the current settings (and base), made once."""
    from legato.settings import get_current_settings

    settings = get_current_settings()
    cached = owner.__dict__.get("_result_store_cache")
    if cached is not None and cached[0] is settings and cached[1] is base:
        return cached[2]
    store = _store_for(owner, base)
    owner.__dict__["_result_store_cache"] = (settings, base, store)
    return store


def flow_result_store(flow: Flow[..., Any]) -> Any:
    return _cached_store(flow, None)


def task_result_store(task: Task[..., Any], flow_context: FlowRunContext | None) -> Any:
    """The task's store: its own options over its flow's store (if the flow sets one)."""
    base = None
    if flow_context is not None and flow_context.flow is not None:
        flow = flow_context.flow
        if flow.result_storage is not None or flow.result_serializer is not None:
            base = flow_result_store(flow)
    return _cached_store(task, base)


def compute_key(
    task: Task[..., Any],
    context: TaskRunContext,
    parameters: dict[str, Any],
    flow_context: FlowRunContext | None,
) -> str | None:
    """The key a run's result is stored (and looked up) under; None for no cache."""
    if task.result_storage_key is not None:
        from legato import runtime
        from legato.results import render_storage_key

        fields = {"task_run": runtime.task_run, "flow_run": runtime.flow_run}
        return str(render_storage_key(task.result_storage_key, parameters, fields))
    flow_parameters = flow_context.flow_run.parameters if flow_context is not None else {}
    key: str | None = task.resolved_cache_policy.compute_key(context, parameters, flow_parameters)
    return key


def refer_to(state: State, record: Any, keep_in_memory: bool) -> None:
    """Point ``state`` at its persisted ``record``; drop the value unless it stays in memory."""
    from legato.results import metadata_document

    state.result_ref = metadata_document(record)
    if not keep_in_memory:
        state.data = None


def expiration_of(task: Task[..., Any]) -> _dt.datetime | None:
    if task.cache_expiration is None:
        return None
    return _dt.datetime.now(_dt.UTC) + task.cache_expiration


def lookup(store: Any, key: str) -> Any:
    """The record under ``key`` if there is a valid one, else None."""
    try:
        record = store.read(key)
    except MissingResult:
        return None
    if getattr(record, "expired", False):
        return None
    return record
