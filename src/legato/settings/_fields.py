"""A minimal frozen record base for the settings tree.

``dataclasses`` generates code with ``exec`` for every class (about 1 ms each
here, ten classes), which the first-run budget cannot spare. ``Section`` reads
the class's declared fields once in ``__init_subclass__`` and shares one
generic ``__init__``/``__repr__``/``__eq__``. ``dataclass_transform`` tells
type checkers about the keyword constructor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, dataclass_transform

Check = Callable[[Any], Any]


class FieldSpec:
    """What a class body declares for one field (a leaf setting or a nested section)."""

    __slots__ = ("bootstrap", "check", "default", "default_factory", "doc", "name", "type_name")

    def __init__(
        self,
        default: Any = None,
        default_factory: Callable[[], Any] | None = None,
        doc: str = "",
        check: Check | None = None,
        bootstrap: bool = False,
    ) -> None:
        self.default = default
        self.default_factory = default_factory
        self.doc = doc
        self.check = check
        self.bootstrap = bootstrap
        self.name = ""
        self.type_name = ""

    @property
    def is_section(self) -> bool:
        """Whether this field holds a nested Section."""
        factory = self.default_factory
        return isinstance(factory, type) and issubclass(factory, Section)

    def make_default(self) -> Any:
        """A fresh default value."""
        return self.default_factory() if self.default_factory is not None else self.default


def setting(default: Any, doc: str, *, check: Check | None = None, bootstrap: bool = False) -> Any:
    """Declare one leaf setting: its default, one line of docs and an optional check."""
    return FieldSpec(default=default, doc=doc, check=check, bootstrap=bootstrap)


def section(*, default_factory: Callable[[], Any]) -> Any:
    """Declare a nested section (or any field whose default is built per instance)."""
    return FieldSpec(default_factory=default_factory)


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(setting, section))
class Section:
    """An immutable record whose fields are the ``setting``/``section`` declarations."""

    __fields__: ClassVar[tuple[FieldSpec, ...]] = ()

    def __init_subclass__(cls) -> None:
        annotations = cls.__dict__.get("__annotations__", {})
        declared = list(cls.__fields__)  # a parent Section's fields come first
        for name, value in cls.__dict__.items():
            if isinstance(value, FieldSpec):
                if name not in annotations:
                    raise TypeError(f"{cls.__name__}.{name} needs a type annotation")
                value.name, value.type_name = name, str(annotations[name])
                declared.append(value)
        cls.__fields__ = tuple(declared)

    def __init__(self, **values: Any) -> None:
        for spec in self.__fields__:
            value = values.pop(spec.name) if spec.name in values else spec.make_default()
            object.__setattr__(self, spec.name, value)
        if values:
            raise TypeError(f"{type(self).__name__} has no field(s) {', '.join(sorted(values))}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"{type(self).__name__} is immutable; use temporary_settings() to change settings."
        )

    def __delattr__(self, name: str) -> None:
        self.__setattr__(name, None)

    def _values(self) -> tuple[Any, ...]:
        return tuple(
            getattr(self, spec.name) for spec in self.__fields__ if spec.doc or spec.is_section
        )

    def __repr__(self) -> str:
        shown = (spec for spec in self.__fields__ if spec.doc or spec.is_section)
        inner = ", ".join(f"{spec.name}={getattr(self, spec.name)!r}" for spec in shown)
        return f"{type(self).__name__}({inner})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._values())
