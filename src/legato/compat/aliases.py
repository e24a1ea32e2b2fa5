"""The import hook that maps ``prefect`` and ``prefect.*`` onto legato."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType

ALIAS = "prefect"
TARGET = "legato"


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self._target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self._target)

    def exec_module(self, module: ModuleType) -> None:
        """The target module is already executed."""


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != ALIAS and not fullname.startswith(ALIAS + "."):
            return None
        target_name = TARGET + fullname[len(ALIAS) :]
        if importlib.util.find_spec(target_name) is None:
            raise ModuleNotFoundError(
                f"{fullname!r} has no legato counterpart ({target_name!r} does not exist). "
                "legato.compat maps prefect.X to legato.X; use legato's module for this feature.",
                name=fullname,
            )
        spec = importlib.util.spec_from_loader(fullname, _AliasLoader(target_name))
        return spec


_finder = _AliasFinder()


def install() -> None:
    """Make ``import prefect`` (and ``prefect.*``) import legato."""
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


def uninstall() -> None:
    """Remove the alias and forget the ``prefect`` modules it created."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name in [n for n in sys.modules if n == ALIAS or n.startswith(ALIAS + ".")]:
        module = sys.modules[name]
        if getattr(module, "__name__", "").startswith(TARGET):
            del sys.modules[name]


def is_installed() -> bool:
    """True while the alias is active."""
    return _finder in sys.meta_path
