"""Binding call arguments to a function's parameters, cheaply.

Everything that depends only on the function is computed once, at decoration
time; the common call (positional or keyword arguments, no ``*args``) binds
with a dict build instead of ``inspect.Signature.bind``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from legato.exceptions import ParameterBindError

_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)

# What kind of callable a flow or task wraps; decides how the engine runs it.
SYNC, ASYNC, GENERATOR, ASYNC_GENERATOR = range(4)


def function_kind(fn: Callable[..., Any]) -> int:
    """SYNC, ASYNC, GENERATOR or ASYNC_GENERATOR for ``fn``."""
    if inspect.isasyncgenfunction(fn):
        return ASYNC_GENERATOR
    if inspect.iscoroutinefunction(fn):
        return ASYNC
    if inspect.isgeneratorfunction(fn):
        return GENERATOR
    return SYNC


class ParameterBinder:
    """Turns ``(args, kwargs)`` into a ``{name: value}`` dict for one function."""

    __slots__ = (
        "_defaults",
        "_is_simple",
        "_name_set",
        "_names",
        "_positional",
        "_signature",
        "function_name",
    )

    def __init__(self, fn: Callable[..., Any]) -> None:
        self._signature = inspect.signature(fn)
        self.function_name = getattr(fn, "__qualname__", repr(fn))
        parameters = list(self._signature.parameters.values())
        self._names = tuple(p.name for p in parameters)
        self._name_set = frozenset(self._names)
        self._defaults = {
            p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty
        }
        self._positional = sum(
            1 for p in parameters if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        )
        self._is_simple = all(
            p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
            for p in parameters
        )

    @property
    def signature(self) -> inspect.Signature:
        return self._signature

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The call's parameters with defaults applied; ParameterBindError if they don't fit."""
        names = self._names
        if not self._is_simple or len(args) > self._positional:
            return self._bind_slow(args, kwargs)
        if not kwargs and len(args) == len(names):
            return dict(zip(names, args, strict=True))
        bound = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key in bound or key not in self._name_set:
                return self._bind_slow(args, kwargs)
            bound[key] = value
        if len(bound) == len(names):
            return {name: bound[name] for name in names}
        for name in names:
            if name not in bound:
                if name not in self._defaults:
                    return self._bind_slow(args, kwargs)
                bound[name] = self._defaults[name]
        return {name: bound[name] for name in names}

    def _bind_slow(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise ParameterBindError(
                f"Cannot call {self.function_name}{self._signature} with the given arguments: {exc}. "
                "Pass arguments that match the function's signature."
            ) from None
        bound.apply_defaults()
        return dict(bound.arguments)

    def to_call_arguments(
        self, parameters: dict[str, Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """``(args, kwargs)`` that call the function with ``parameters``."""
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for parameter in self._signature.parameters.values():
            if parameter.name not in parameters:
                continue
            value = parameters[parameter.name]
            if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
                args.extend(value)
            elif parameter.kind is inspect.Parameter.VAR_KEYWORD:
                kwargs.update(value)
            elif parameter.kind is inspect.Parameter.KEYWORD_ONLY:
                kwargs[parameter.name] = value
            else:
                args.append(value)
        return tuple(args), kwargs
