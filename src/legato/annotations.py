"""Argument wrappers that change how the engine treats a value.

- ``unmapped(x)``: pass ``x`` whole to every call of ``.map()``.
- ``allow_failure(future)``: run even if that upstream failed; the task gets
  the upstream's exception as the value.
- ``quote(x)``: pass ``x`` as is; the engine does not look inside it for
  futures (cheap for big collections).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

T = TypeVar("T")


class BaseAnnotation(Generic[T]):
    """A wrapper around one value."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def unwrap(self) -> T:
        return self.value

    def rewrap(self, value: T) -> BaseAnnotation[T]:
        return type(self)(value)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.value == other.value  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), id(self.value)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"


class unmapped(BaseAnnotation[T]):
    """Do not map over this argument: every mapped call gets all of it."""

    __slots__ = ()

    def __getitem__(self, _: Any) -> T:
        return self.value


class allow_failure(BaseAnnotation[T]):
    """Run the downstream task even if this upstream failed."""

    __slots__ = ()


class quote(BaseAnnotation[T]):
    """Pass the value as is, without looking inside it for futures."""

    __slots__ = ()


__all__ = ["BaseAnnotation", "allow_failure", "quote", "unmapped"]
