"""Where persisted results live: a local folder or any fsspec URL (Prefect 3's names).

    >>> from legato.filesystems import LocalFileSystem, resolve_storage
    >>> storage = LocalFileSystem(basepath="/tmp/results")
    >>> storage.write_path("answer", b"42")
    '/tmp/results/answer'
    >>> resolve_storage("s3://bucket/prefix")  # a RemoteFileSystem

Both filesystems take paths relative to their ``basepath`` and refuse paths
that leave it (``../x``, or an absolute path elsewhere).

``LocalFileSystem.write_path`` is atomic: it writes a temporary file in the
target's folder and renames it over the target, so a reader sees the old
content or the new, never a part. It does not ``fsync``: a power cut (not a
process crash) just after a write can lose that write. Results are a cache of
what a task computed, and an fsync would cost more than the rest of a task
run. ``RemoteFileSystem`` writes one object per path through fsspec (an S3
put is atomic; a local ``file://`` URL through fsspec is not: use a path or
``LocalFileSystem`` for local folders).

In Prefect 3 both are blocks. Here ``save(name)`` stores ``to_document()``
through the client under ``(block_type_slug, name)`` and ``load(name)`` reads
it back; ``resolve_storage("local-file-system/name")`` loads a saved one.
fsspec and its implementations (s3fs, gcsfs...) are imported only when a
``RemoteFileSystem`` is first used.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import posixpath
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

from legato.exceptions import (
    ConfigurationError,
    ObjectNotFound,
    ParameterError,
    StorageError,
)
from legato.settings import get_current_settings

logger = logging.getLogger(__name__)

__all__ = [
    "LocalFileSystem",
    "RemoteFileSystem",
    "StorageFileNotFound",
    "WritableFileSystem",
    "describe_storage",
    "get_default_storage",
    "resolve_storage",
    "storage_from_description",
]


class StorageFileNotFound(ObjectNotFound, FileNotFoundError):
    """A path that a filesystem was asked to read does not exist."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path


_BLOCK_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_BLOCK_TYPES: dict[str, type[WritableFileSystem]] = {}


class WritableFileSystem:
    """What result storage offers: bytes in and out by path, plus save/load as a block."""

    block_type_slug: ClassVar[str] = ""
    # The name this filesystem was saved or loaded as, if any (see describe_storage).
    _block_document_name: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("block_type_slug"):
            _BLOCK_TYPES[cls.block_type_slug] = cls

    def read_path(self, path: str) -> bytes:
        """The content at ``path``; StorageFileNotFound if there is none."""
        raise NotImplementedError

    def write_path(self, path: str, content: bytes) -> str:
        """Write ``content`` at ``path`` (creating folders); returns the resolved path."""
        raise NotImplementedError

    def exists(self, path: str) -> bool:
        """Whether something is stored at ``path``."""
        raise NotImplementedError

    def delete_path(self, path: str) -> None:
        """Remove what is stored at ``path``; nothing there is not an error."""
        raise NotImplementedError

    def resolve_path(self, path: str) -> str:
        """The full path or URL that ``path`` refers to (refusing ones outside basepath)."""
        raise NotImplementedError

    def to_document(self) -> dict[str, Any]:
        """The fields that rebuild this filesystem, JSON-ready."""
        raise NotImplementedError

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Self:
        """The filesystem ``to_document`` described."""
        try:
            return cls(**document)
        except TypeError as exc:
            raise ConfigurationError(
                f"Cannot build a {cls.__name__} from {dict(document)!r}: {exc}."
            ) from exc

    def save(self, name: str, overwrite: bool = False) -> None:
        """Store this filesystem as the block ``<block_type_slug>/<name>``."""
        _check_block_name(name)
        from legato.client import get_client

        with get_client(sync_client=True) as client:
            client.save_block_document(
                self.block_type_slug, name, self.to_document(), overwrite=overwrite
            )
        self._block_document_name = name

    @classmethod
    def load(cls, name: str) -> Self:
        """The filesystem saved as ``<block_type_slug>/<name>``."""
        from legato.client import get_client

        _check_block_name(name)
        slug = f"{cls.block_type_slug}/{name}"
        try:
            with get_client(sync_client=True) as client:
                document = client.read_block_document(cls.block_type_slug, name)
        except ObjectNotFound as exc:
            raise ObjectNotFound(
                f"No storage block {slug!r} is saved. Save one first, e.g. "
                f"{cls.__name__}(basepath=...).save({name!r}), or check the name."
            ) from exc
        storage = cls.from_document(document)
        storage._block_document_name = name
        return storage

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WritableFileSystem):
            return NotImplemented
        return type(self) is type(other) and self.to_document() == other.to_document()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{key}={value!r}" for key, value in self.to_document().items())
        return f"{type(self).__name__}({fields})"


def _check_block_name(name: str) -> None:
    if not isinstance(name, str) or not _BLOCK_NAME.match(name):
        raise ParameterError(
            f"Block name {name!r} is not valid: use lowercase letters, digits and dashes, "
            "starting with a letter or digit (e.g. 'nightly-results')."
        )


def _outside_basepath(path: str, basepath: str) -> ParameterError:
    return ParameterError(
        f"Path {path!r} leaves the storage folder {basepath!r}. "
        "Use a path relative to the basepath without '..' (e.g. 'results/x.pickle')."
    )


# -- local

_temporary_names = itertools.count()


class LocalFileSystem(WritableFileSystem):
    """A local folder. ``basepath=None`` resolves relative paths against the cwd.

    ``basepath`` is made absolute (``~`` expanded) when the filesystem is built,
    so its description means the same folder in any process.
    """

    block_type_slug = "local-file-system"

    def __init__(self, basepath: str | os.PathLike[str] | None = None) -> None:
        self.basepath: str | None = None
        self._prefix = ""
        if basepath is not None:
            self.basepath = os.path.abspath(os.path.expanduser(os.fspath(basepath)))
            self._prefix = self.basepath.rstrip(os.sep) + os.sep

    def resolve_path(self, path: str | os.PathLike[str]) -> str:
        path = os.fspath(path)
        if not path:
            raise ParameterError("A storage path cannot be empty; give a file name.")
        if self.basepath is None:
            return os.path.abspath(path)
        full = os.path.normpath(os.path.join(self.basepath, path))
        if not full.startswith(self._prefix):
            raise _outside_basepath(path, self.basepath)
        return full

    def read_path(self, path: str) -> bytes:
        full = self.resolve_path(path)
        try:
            with open(full, "rb") as file:
                return file.read()
        except FileNotFoundError as exc:
            raise StorageFileNotFound(f"Nothing is stored at {full!r}.", full) from exc
        except OSError as exc:
            raise StorageError(f"Could not read {full!r}: {exc}. Check its permissions.") from exc

    def write_path(self, path: str, content: bytes) -> str:
        full = self.resolve_path(path)
        folder, name = os.path.split(full)
        temporary = os.path.join(folder, f".{name}.{os.getpid()}-{next(_temporary_names)}.tmp")
        try:
            _write_new_file(temporary, content)
            os.replace(temporary, full)
        except OSError as exc:
            _remove_quietly(temporary)
            raise StorageError(
                f"Could not write {full!r}: {exc}. Check that the folder is writable, "
                "or point the result storage somewhere else."
            ) from exc
        except BaseException:
            _remove_quietly(temporary)
            raise
        return full

    def exists(self, path: str) -> bool:
        return os.path.exists(self.resolve_path(path))

    def delete_path(self, path: str) -> None:
        full = self.resolve_path(path)
        try:
            os.unlink(full)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StorageError(f"Could not delete {full!r}: {exc}.") from exc

    def to_document(self) -> dict[str, Any]:
        return {"basepath": self.basepath}


_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def _write_new_file(path: str, content: bytes) -> None:
    try:
        descriptor = os.open(path, _NEW_FILE_FLAGS, 0o666)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        descriptor = os.open(path, _NEW_FILE_FLAGS, 0o666)
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(descriptor, view) :]
    finally:
        os.close(descriptor)


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


# -- remote (fsspec)

# The package that provides each common fsspec protocol, for the install hint.
_PACKAGES = {
    "s3": "s3fs",
    "s3a": "s3fs",
    "gs": "gcsfs",
    "gcs": "gcsfs",
    "az": "adlfs",
    "abfs": "adlfs",
    "abfss": "adlfs",
    "sftp": "paramiko",
    "ssh": "paramiko",
}
_SECRET_WORDS = ("secret", "token", "password", "credential", "account_key")
# Protocols whose folders must exist before a file is written in them (object
# stores have none; creating one there could create a bucket).
_PROTOCOLS_WITH_FOLDERS = frozenset({"file", "local", "sftp", "ssh", "ftp", "smb"})


class RemoteFileSystem(WritableFileSystem):
    """Any fsspec URL: ``s3://bucket/prefix``, ``gs://...``, ``memory://name``.

    ``settings`` are passed to ``fsspec.filesystem(protocol, **settings)``, e.g.
    ``{"key": ..., "secret": ..., "client_kwargs": {"endpoint_url": ...}}`` for S3.
    """

    block_type_slug = "remote-file-system"

    def __init__(self, basepath: str, settings: Mapping[str, Any] | None = None) -> None:
        if not isinstance(basepath, str) or "://" not in basepath:
            raise ParameterError(
                f"RemoteFileSystem needs a URL with a scheme, like 's3://bucket/prefix' or "
                f"'memory://results'; got {basepath!r}. For a local folder use LocalFileSystem."
            )
        self.basepath = basepath
        self.settings = dict(settings or {})
        protocol, _, root = basepath.partition("://")
        self._protocol = protocol
        root = root.rstrip("/")
        self._root = f"{protocol}://{root}" if root else f"{protocol}:/"
        self._filesystem: Any = None

    @property
    def filesystem(self) -> Any:
        """The fsspec filesystem (built, and its package imported, on first use)."""
        if self._filesystem is None:
            self._filesystem = _open_fsspec(self._protocol, self.settings, self.basepath)
        return self._filesystem

    def resolve_path(self, path: str) -> str:
        path = os.fspath(path)
        if path.startswith(self._root + "/"):
            path = path[len(self._root) + 1 :]
        elif "://" in path:
            raise _outside_basepath(path, self.basepath)
        if not path:
            raise ParameterError("A storage path cannot be empty; give a file name.")
        relative = posixpath.normpath(path)
        if relative in (".", "..") or relative.startswith(("../", "/")):
            raise _outside_basepath(path, self.basepath)
        return f"{self._root}/{relative}"

    def read_path(self, path: str) -> bytes:
        url = self.resolve_path(path)
        try:
            return bytes(self.filesystem.cat_file(url))
        except FileNotFoundError as exc:
            raise StorageFileNotFound(f"Nothing is stored at {url!r}.", url) from exc
        except OSError as exc:
            raise StorageError(f"Could not read {url!r}: {exc}.") from exc

    def write_path(self, path: str, content: bytes) -> str:
        url = self.resolve_path(path)
        filesystem = self.filesystem
        try:
            if self._protocol in _PROTOCOLS_WITH_FOLDERS:
                filesystem.makedirs(posixpath.dirname(url), exist_ok=True)
            filesystem.pipe_file(url, content)
        except OSError as exc:
            raise StorageError(
                f"Could not write {url!r}: {exc}. Check the URL and the credentials in settings."
            ) from exc
        return url

    def exists(self, path: str) -> bool:
        url = self.resolve_path(path)
        try:
            return bool(self.filesystem.exists(url))
        except OSError as exc:
            raise StorageError(f"Could not check {url!r}: {exc}.") from exc

    def delete_path(self, path: str) -> None:
        url = self.resolve_path(path)
        try:
            self.filesystem.rm_file(url)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StorageError(f"Could not delete {url!r}: {exc}.") from exc

    def to_document(self) -> dict[str, Any]:
        return {"basepath": self.basepath, "settings": dict(self.settings)}

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_filesystem": None}  # rebuilt where it is unpickled


def _open_fsspec(protocol: str, settings: Mapping[str, Any], basepath: str) -> Any:
    try:
        import fsspec  # type: ignore[import-untyped]
    except ImportError as exc:  # a dependency, but keep the hint if it was removed
        raise ConfigurationError(
            f"Storage {basepath!r} needs fsspec; install it: pip install fsspec"
        ) from exc
    try:
        return fsspec.filesystem(protocol, **settings)
    except ImportError as exc:
        package = _PACKAGES.get(protocol)
        if package is None:
            install = f"Install the fsspec implementation for {protocol}:// ({exc})."
        else:
            install = f"{package} is not installed. Install it: pip install {package}"
            install += " (or pip install 'legato[s3]')." if package == "s3fs" else "."
        raise ConfigurationError(f"Storage {basepath!r} needs a package: {install}") from exc
    except ValueError as exc:
        raise ConfigurationError(
            f"Storage {basepath!r}: fsspec knows no protocol {protocol!r} ({exc}). "
            "Check the URL's scheme, e.g. s3://, gs://, memory://."
        ) from exc
    except TypeError as exc:
        raise ConfigurationError(
            f"Storage {basepath!r}: settings {sorted(settings)} were refused by the "
            f"{protocol}:// filesystem ({exc}). Check their names."
        ) from exc


# -- choosing storage from a user's value


def resolve_storage(value: Any = None) -> WritableFileSystem:
    """The filesystem that a ``result_storage`` value names.

    - ``None``: the default local folder (``get_default_storage()``).
    - a ``WritableFileSystem``: itself.
    - ``"<block-type>/<name>"`` with a known block type, such as
      ``"local-file-system/nightly"``: the saved block (see ``save``).
    - a URL with a scheme (``s3://bucket/x``): a ``RemoteFileSystem``;
      ``file:///x`` is the local folder ``/x``.
    - any other string or ``Path``: a ``LocalFileSystem`` on that folder.
    """
    if value is None:
        return get_default_storage()
    if isinstance(value, WritableFileSystem):
        return value
    if isinstance(value, os.PathLike):
        return LocalFileSystem(value)
    if isinstance(value, str) and value:
        block = _block_reference(value)
        if block is not None:
            return block[0].load(block[1])
        if value.startswith("file://"):
            return LocalFileSystem(value.removeprefix("file://"))
        if "://" in value:
            return RemoteFileSystem(value)
        return LocalFileSystem(value)
    raise ParameterError(
        f"result_storage={value!r} is not storage. Give a folder path, a URL such as "
        "'s3://bucket/prefix', a saved block such as 'local-file-system/name', "
        "or a LocalFileSystem/RemoteFileSystem."
    )


def _block_reference(value: str) -> tuple[type[WritableFileSystem], str] | None:
    block_type, separator, name = value.partition("/")
    if separator and block_type in _BLOCK_TYPES and name and "/" not in name:
        return _BLOCK_TYPES[block_type], name
    return None


# The default storage of the last settings asked about (settings are immutable values).
_default: tuple[Any, WritableFileSystem] | None = None


def get_default_storage() -> WritableFileSystem:
    """The storage for results that name none, from the current settings:

    the saved block ``LEGATO_RESULTS_DEFAULT_STORAGE_BLOCK`` if set, else the
    folder ``LEGATO_RESULTS_LOCAL_STORAGE_PATH``, else ``<LEGATO_HOME>/storage``.
    """
    global _default
    settings = get_current_settings()
    remembered = _default
    if remembered is not None and remembered[0] is settings:
        return remembered[1]
    storage = _default_for(settings)
    _default = (settings, storage)
    return storage


def _default_for(settings: Any) -> WritableFileSystem:
    slug = settings.results.default_storage_block
    if slug:
        block = _block_reference(slug)
        if block is None:
            raise ConfigurationError(
                f"LEGATO_RESULTS_DEFAULT_STORAGE_BLOCK={slug!r} is not '<block-type>/<name>' "
                f"with a block type among {', '.join(sorted(_BLOCK_TYPES))}. "
                "Set it like 'local-file-system/results', or unset it."
            )
        return block[0].load(block[1])
    folder = settings.results.local_storage_path or settings.home / "storage"
    return LocalFileSystem(Path(folder))


def describe_storage(storage: WritableFileSystem) -> dict[str, Any]:
    """``{"block_type_slug", "data", "block_document_name"?}`` for a result's metadata.

    Settings whose names look secret (key, secret, token, password...) are
    left out. A reader gets credentials from the saved block (when the storage
    was saved or loaded by name), else from its environment (e.g. AWS_* variables).
    """
    description = {
        "block_type_slug": storage.block_type_slug,
        "data": _without_secrets(storage.to_document()),
    }
    if storage._block_document_name is not None:
        description["block_document_name"] = storage._block_document_name
    return description


def storage_from_description(description: Mapping[str, Any]) -> WritableFileSystem:
    """The filesystem that ``describe_storage`` described: the saved block if it
    is named and can be loaded here, else one built from the data."""
    block_type = _BLOCK_TYPES.get(description.get("block_type_slug", ""))
    if block_type is None:
        raise ConfigurationError(
            f"Unknown storage type in {dict(description)!r}; "
            f"known types: {', '.join(sorted(_BLOCK_TYPES))}."
        )
    name = description.get("block_document_name")
    if name is not None:
        try:
            return block_type.load(name)
        except ObjectNotFound:
            logger.debug("Block %s/%s is not saved here; using its description", block_type, name)
    return block_type.from_document(description.get("data") or {})


def _without_secrets(document: Mapping[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for name, value in document.items():
        lowered = name.lower()
        if lowered == "key" or any(word in lowered for word in _SECRET_WORDS):
            continue
        kept[name] = _without_secrets(value) if isinstance(value, Mapping) else value
    return kept
