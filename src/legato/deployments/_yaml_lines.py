"""Where each value of a YAML document is: ``path -> line``, for error messages.

``yaml.compose`` gives the node tree with marks; this walks it the way the
constructor would (aliases are followed, ``<<`` merge keys fill in keys the
mapping does not set) and records the line of each mapping key and list item
under its path (``("deployments", 0, "work_pool", "name")``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["YamlLines", "format_path"]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_MAX_DEPTH = 100

Path = tuple[int | str, ...]


class YamlLines:
    """1-based line numbers of the values of one YAML document."""

    def __init__(self, text: str) -> None:
        import yaml

        self._lines: dict[Path, int] = {}
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is not None:
            self._lines[()] = root.start_mark.line + 1
            self._walk(root, (), 0)

    def _walk(self, node: Any, path: Path, depth: int) -> None:
        import yaml

        if depth > _MAX_DEPTH:
            return
        if isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._lines.setdefault((*path, index), item.start_mark.line + 1)
                self._walk(item, (*path, index), depth + 1)
        elif isinstance(node, yaml.MappingNode):
            merged: list[Any] = []
            for key, value in node.value:
                if key.tag == _MERGE_TAG:
                    merged.append(value)
                    continue
                child = (*path, str(key.value))
                self._lines[child] = key.start_mark.line + 1
                self._walk(value, child, depth + 1)
            for value in merged:
                for source in value.value if isinstance(value, yaml.SequenceNode) else [value]:
                    self._walk_merged(source, path, depth)

    def _walk_merged(self, node: Any, path: Path, depth: int) -> None:
        import yaml

        if not isinstance(node, yaml.MappingNode):
            return
        for key, value in node.value:
            child = (*path, str(key.value))
            if child not in self._lines:
                self._lines[child] = key.start_mark.line + 1
                self._walk(value, child, depth + 1)

    def line_of(self, path: Sequence[int | str]) -> int:
        """The line of ``path``, or of its nearest enclosing value that has one (0: unknown)."""
        normalized: list[int | str] = [
            part if isinstance(part, int) else str(part) for part in path
        ]
        while True:
            line = self._lines.get(tuple(normalized))
            if line is not None:
                return line
            if not normalized:
                return 0
            normalized.pop()

    def has(self, path: Sequence[int | str]) -> bool:
        """Whether ``path`` is in the document."""
        return tuple(part if isinstance(part, int) else str(part) for part in path) in self._lines


def format_path(path: Sequence[int | str]) -> str:
    """``deployments[0].work_pool.name`` for ``("deployments", 0, "work_pool", "name")``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"
