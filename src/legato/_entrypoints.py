"""Loading a flow from an entrypoint: ``path/to/file.py:flow_fn`` or ``package.module:flow_fn``.

A file entrypoint is resolved against a base folder (default: the current
one), loaded as a fresh module with its own folder on ``sys.path`` (so it can
import its siblings), and the attribute after the colon (dotted for a flow
defined on a class: ``file.py:Pipelines.nightly``) must be a ``@flow``. Every
way this can go wrong raises ``EntrypointError`` naming the entrypoint, the
file and the fix.

``find_flow_functions`` reads ``@flow``-decorated functions from source files
without importing them (``legato init`` uses it).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
import sys
import traceback
import zlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from legato.exceptions import EntrypointError

if TYPE_CHECKING:
    from legato.flows import Flow

__all__ = ["FlowFunction", "find_flow_functions", "load_flow_from_entrypoint", "split_entrypoint"]

_EXAMPLE = "'path/to/file.py:flow_function' or 'package.module:flow_function'"


def split_entrypoint(entrypoint: str) -> tuple[str, str]:
    """``(path or module, attribute)``; EntrypointError if there is no colon or a side is empty."""
    location, colon, attribute = str(entrypoint).rpartition(":")
    if not colon or not location.strip() or not attribute.strip():
        raise EntrypointError(
            f"Entrypoint {entrypoint!r} is not of the form {_EXAMPLE}: "
            "give the file (or module), a colon, and the name of the flow function.",
            str(entrypoint),
        )
    return location.strip(), attribute.strip()


def _is_file_path(location: str) -> bool:
    return location.endswith(".py") or "/" in location or "\\" in location


def load_flow_from_entrypoint(
    entrypoint: str, base_dir: str | Path | None = None
) -> Flow[..., Any]:
    """The flow an entrypoint names, loaded from its file (or module).

    ``base_dir`` is the folder a relative file path is resolved against
    (default: the current working directory).
    """
    location, attribute = split_entrypoint(entrypoint)
    if _is_file_path(location):
        module = _load_file(entrypoint, location, Path(base_dir) if base_dir else Path.cwd())
        where = f"file {location!r}"
    else:
        module = _import_module(entrypoint, location)
        where = f"module {location!r}"
    return _flow_attribute(entrypoint, module, attribute, where)


# -- files and modules -----------------------------------------------------------


def _load_file(entrypoint: str, location: str, base_dir: Path) -> ModuleType:
    path = Path(location).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    path = path.resolve()
    if not path.is_file():
        shown = "" if Path(location).is_absolute() else f" (relative to {str(base_dir)!r})"
        raise EntrypointError(
            f"Entrypoint {entrypoint!r}: the file {location!r} does not exist{shown}. "
            "Entrypoint paths are relative to the project folder (where legato.yaml or "
            "prefect.yaml is, or the deployment's working directory); fix the path.",
            entrypoint,
        )
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    module_name = _module_name(path)
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise EntrypointError(
            f"Entrypoint {entrypoint!r}: {str(path)!r} cannot be loaded as Python source.",
            entrypoint,
        )
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:
        sys.modules.pop(module_name, None)
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise _import_failed(entrypoint, str(path), exc) from exc
    return module


def _module_name(path: Path) -> str:
    """A module name of its own for the file: loading it never replaces an installed module."""
    stem = re.sub(r"\W", "_", path.stem)
    return f"__legato_entrypoint__{stem}_{zlib.crc32(str(path).encode()):08x}"


def _import_module(entrypoint: str, module_name: str) -> ModuleType:
    cwd = str(Path.cwd())
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            raise EntrypointError(
                f"Entrypoint {entrypoint!r}: no module named {exc.name!r} (searched sys.path and "
                f"{cwd!r}). Install the package, or give a file path instead "
                "(e.g. 'flows/etl.py:my_flow').",
                entrypoint,
            ) from exc
        raise _import_failed(entrypoint, module_name, exc) from exc
    except Exception as exc:
        raise _import_failed(entrypoint, module_name, exc) from exc


def _import_failed(entrypoint: str, source: str, exc: BaseException) -> EntrypointError:
    """The error for a file or module whose import raised: the exception, file and line."""
    where = _where_raised(exc, source)
    return EntrypointError(
        f"Entrypoint {entrypoint!r}: importing {source!r} raised "
        f"{type(exc).__name__}: {exc}{where}. Fix the error in that file (or what it imports).",
        entrypoint,
    )


def _where_raised(exc: BaseException, source: str) -> str:
    if isinstance(exc, SyntaxError) and exc.filename:
        return f" (at {exc.filename}, line {exc.lineno})"
    frames = traceback.extract_tb(exc.__traceback__)
    user_frames = [frame for frame in frames if not frame.filename.startswith("<frozen")]
    if not user_frames:
        return ""
    in_source = [frame for frame in user_frames if frame.filename == source]
    last = user_frames[-1]
    text = f" (at {last.filename}, line {last.lineno})"
    if in_source and in_source[-1] is not last:
        text = f" (at {source}, line {in_source[-1].lineno}; raised in {last.filename}, line {last.lineno})"
    return text


# -- the attribute -----------------------------------------------------------------


def _flow_attribute(
    entrypoint: str, module: ModuleType, attribute: str, where: str
) -> Flow[..., Any]:
    from legato.flows import Flow

    value: Any = module
    for part in attribute.split("."):
        if not hasattr(value, part):
            flows = _flows_in(module)
            listed = (
                f"It defines these flows: {', '.join(flows)}."
                if flows
                else "It defines no flows (functions decorated with @flow)."
            )
            raise EntrypointError(
                f"Entrypoint {entrypoint!r}: {where} has no attribute {attribute!r}. {listed}",
                entrypoint,
            )
        value = getattr(value, part)
    if not isinstance(value, Flow):
        kind = "function" if callable(value) else type(value).__name__
        raise EntrypointError(
            f"Entrypoint {entrypoint!r}: {attribute!r} in {where} is a {kind}, not a flow. "
            "Decorate it with @flow (from legato import flow).",
            entrypoint,
        )
    return value


def _flows_in(module: ModuleType) -> list[str]:
    from legato.flows import Flow

    return sorted(name for name, value in vars(module).items() if isinstance(value, Flow))


# -- discovery without importing ---------------------------------------------------


@dataclass(frozen=True)
class FlowFunction:
    """A ``@flow``-decorated function found in a source file."""

    path: Path
    function_name: str
    flow_name: str  # the name= given to @flow, else the function name with '-' for '_'
    line: int

    def entrypoint(self, base_dir: Path) -> str:
        """``relative/path.py:function`` from ``base_dir`` (POSIX separators)."""
        try:
            relative = self.path.relative_to(base_dir)
        except ValueError:
            relative = self.path
        return f"{relative.as_posix()}:{self.function_name}"


def find_flow_functions(path: str | Path) -> list[FlowFunction]:
    """The ``@flow`` functions a source file defines at module level (it is parsed, not run).

    A file that does not parse gives an empty list.
    """
    source_path = Path(path)
    try:
        tree = ast.parse(source_path.read_text(encoding="utf-8"), filename=str(source_path))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return []
    found = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for decorator in node.decorator_list:
            if _is_flow_decorator(decorator):
                name = _flow_name_option(decorator) or node.name.replace("_", "-")
                found.append(FlowFunction(source_path, node.name, name, node.lineno))
                break
    return found


def _is_flow_decorator(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Name):
        return target.id == "flow"
    return isinstance(target, ast.Attribute) and target.attr == "flow"


def _flow_name_option(node: ast.expr) -> str | None:
    if not isinstance(node, ast.Call):
        return None
    for keyword in node.keywords:
        if (
            keyword.arg == "name"
            and isinstance(keyword.value, ast.Constant)
            and isinstance(keyword.value.value, str)
        ):
            return keyword.value.value
    return None
