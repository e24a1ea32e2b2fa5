"""A real PostgreSQL server for the tests, started from the installed binaries.

Importable helpers (``tests/`` is on ``sys.path`` once the root conftest is
loaded): any test folder can ``import pg``.

- ``running_postgres()``: a throwaway server: ``initdb`` into a temporary
  folder (in memory, ``/dev/shm``, when there is one), ``pg_ctl start`` on a
  free loopback port with durability off, one database and one password
  user; yields their ``postgresql+psycopg://`` URL; stops the server (``-m
  immediate``) and deletes the folder on exit. Servers left by a test
  process that was killed are stopped by the next one.
- ``postgres_for_tests(is_required)``: the same, but skips the test when
  PostgreSQL is not installed (fails it when ``is_required``, as on CI).
- ``fresh_database(url)``: a new, empty, migrated database on that server,
  cloned from a template migrated once per server (``CREATE DATABASE ...
  TEMPLATE``: ~25 ms, against ~60 ms for Alembic); ``empty_database(url)``
  has no tables; ``drop_database(url)``.
- fixtures to use in a folder's conftest (``db_url = pg.db_url``):
  ``pg_database_url`` (one fresh database per test) and ``db_url`` (the test
  on a SQLite file, then on a PostgreSQL database). Both use the session
  fixture ``postgres_url`` of the root conftest (one server per session and
  xdist worker).

Run as root (CI), PostgreSQL refuses to start, so the server then runs as the
``postgres`` OS user (``runuser``), in a folder that user owns.
"""

from __future__ import annotations

import itertools
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest

START_TIMEOUT_SECONDS = 60
TEMPLATE = "legato_template"
SERVER_USER = "postgres"  # the OS user the server runs as when we are root
# Durability off (a test server dies with its data); a time zone that is not UTC,
# so that a read that forgets to convert to UTC shows.
_SETTINGS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
    "-c full_page_writes=off -c shared_buffers=32MB -c max_connections=60 "
    "-c TimeZone=Asia/Kolkata"
)
_FOLDER_PREFIX = "legato-pg-"
_OWNER_FILE = "owner.pid"  # the pid of the test process that started the server
_database_numbers = itertools.count(1)
_templates: set[str] = set()
_template_lock = threading.Lock()


class PostgresUnavailable(RuntimeError):
    """PostgreSQL is not installed, or this process cannot run it."""


def find_bindir() -> Path | None:
    """The folder of ``initdb``/``pg_ctl``: the newest /usr/lib/postgresql/*/bin, or pg_config's."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda path: [int(part) for part in re.findall(r"\d+", path.parent.name)] or [0],
    )
    for bindir in reversed(candidates):
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        bindir = Path(result.stdout.strip())
        if result.returncode == 0 and (bindir / "initdb").exists():
            return bindir
    path_initdb = shutil.which("initdb")
    return Path(path_initdb).parent if path_initdb else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop_orphans(bindir: Path, prefix: list[str]) -> None:
    """Stop the servers of test sessions that were killed (SIGKILL leaves them running)."""
    for folder in Path(_scratch_root() or tempfile.gettempdir()).glob(f"{_FOLDER_PREFIX}*"):
        if _is_owned(folder):
            continue
        if (folder / "data" / "postmaster.pid").exists():
            stop = [str(bindir / "pg_ctl"), "-D", str(folder / "data"), "stop", "-m", "immediate"]
            subprocess.run([*prefix, *stop], capture_output=True, timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


def _is_owned(folder: Path) -> bool:
    """Whether the process that made ``folder`` still runs (or may be starting up)."""
    try:
        owner = int((folder / _OWNER_FILE).read_text())
    except (OSError, ValueError):
        return time.time() - folder.stat().st_mtime < START_TIMEOUT_SECONDS
    try:
        os.kill(owner, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _scratch_root() -> str | None:
    """Memory (tmpfs) when there is some: CREATE DATABASE takes ~300 ms on this VM's
    disk, even with fsync off, and ~25 ms in memory. None: the usual temp folder."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


def _as_server_user() -> list[str]:
    """The command prefix that runs a program as a user PostgreSQL accepts."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError as exc:
        raise PostgresUnavailable(
            f"running as root and there is no {SERVER_USER!r} OS user to run PostgreSQL as "
            "(PostgreSQL refuses to run as root); install the postgresql package, or run "
            "the tests as a normal user"
        ) from exc
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresUnavailable("running as root, and runuser is missing (util-linux)")
    return [runuser, "-u", SERVER_USER, "--"]


def _run(command: list[str], what: str, timeout: float = START_TIMEOUT_SECONDS) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"{what} did not finish in {timeout} s: {' '.join(command)}") from exc
    if result.returncode != 0:
        raise RuntimeError(
            f"{what} failed (exit {result.returncode}): {' '.join(command)}\n"
            f"{result.stdout}\n{result.stderr}"
        )


@contextmanager
def running_postgres() -> Iterator[str]:
    """A new PostgreSQL server on a free loopback port, for as long as the block runs.

    Yields ``postgresql+psycopg://legato:<password>@127.0.0.1:<port>/legato``;
    the user may create databases (for ``fresh_database``). Raises
    PostgresUnavailable when PostgreSQL is not installed.
    """
    bindir = find_bindir()
    if bindir is None:
        raise PostgresUnavailable(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb, no pg_config); "
            "on Debian: apt-get install -y postgresql"
        )
    prefix = _as_server_user()
    _stop_orphans(bindir, prefix)
    folder = Path(tempfile.mkdtemp(prefix=_FOLDER_PREFIX, dir=_scratch_root()))
    (folder / _OWNER_FILE).write_text(str(os.getpid()))
    try:
        if prefix:
            user = pwd.getpwnam(SERVER_USER)
            os.chown(folder, user.pw_uid, user.pw_gid)
        with _server(bindir, prefix, folder) as url:
            yield url
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _server(bindir: Path, prefix: list[str], folder: Path) -> Iterator[str]:
    data = folder / "data"
    initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8"]
    initdb += ["--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"]
    _run([*prefix, *initdb, *_linguistic_collation(bindir)], "initdb")
    pg_ctl = [*prefix, str(bindir / "pg_ctl"), "-D", str(data)]
    log = folder / "server.log"
    for attempt in range(3):  # the free port may be taken before the server binds it
        port = _free_port()
        options = f"-p {port} -k {folder} {_SETTINGS}"
        start = [*pg_ctl, "-w", "-t", str(START_TIMEOUT_SECONDS), "-l", str(log), "-o", options]
        try:
            _run([*start, "start"], f"pg_ctl start (port {port})", START_TIMEOUT_SECONDS + 10)
            break
        except RuntimeError as exc:
            text = log.read_text(errors="replace") if log.exists() else ""
            if attempt == 2 or "could not bind" not in text:
                raise RuntimeError(f"{exc}\nserver log:\n{text}") from exc
    try:
        yield _create_user_and_database(folder, port)
    finally:
        _run([*pg_ctl, "stop", "-m", "immediate", "-w", "-t", "30"], "pg_ctl stop", 40)


def _linguistic_collation(bindir: Path) -> list[str]:
    """initdb options for a linguistic default collation, like most production databases.

    Code point order ("B" < "a") then no longer holds by accident, so a query
    that sorts text must ask for it (``legato.storage.dialect.bytewise``).
    PostgreSQL 15 and later, with ICU; older ones keep the environment's locale.
    """
    result = subprocess.run([str(bindir / "initdb"), "--version"], capture_output=True, text=True)
    major = re.search(r"\(PostgreSQL\)\s+(\d+)", result.stdout)
    if major is None or int(major[1]) < 15:
        return []
    return ["--locale=C.UTF-8", "--locale-provider=icu", "--icu-locale=und"]


def _create_user_and_database(socket_dir: Path, port: int) -> str:
    import psycopg

    password = secrets.token_urlsafe(12)
    with psycopg.connect(
        host=str(socket_dir),
        port=port,
        user="postgres",
        dbname="postgres",
        autocommit=True,
        connect_timeout=START_TIMEOUT_SECONDS,
    ) as connection:
        connection.execute(
            f"CREATE ROLE legato LOGIN CREATEDB PASSWORD '{password}'"  # token_urlsafe: no quotes
        )
        connection.execute("CREATE DATABASE legato OWNER legato")
    return f"postgresql+psycopg://legato:{quote(password)}@127.0.0.1:{port}/legato"


@contextmanager
def postgres_for_tests(is_required: bool) -> Iterator[str]:
    """``running_postgres()``, or skip the test (fail it when ``is_required``)."""
    try:
        with running_postgres() as url:
            yield url
    except PostgresUnavailable as exc:
        message = f"PostgreSQL tests need a PostgreSQL installation: {exc}"
        if is_required:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


# -- databases on a running server ------------------------------------------


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` on the same server."""
    import sqlalchemy as sa

    return sa.make_url(url).set(database=name).render_as_string(hide_password=False)


def _admin(url: str):  # -> psycopg.Connection, in autocommit mode (for CREATE DATABASE)
    import psycopg
    import sqlalchemy as sa

    parsed = sa.make_url(url)
    return psycopg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        dbname=parsed.database,
        autocommit=True,
    )


def ensure_template(url: str) -> None:
    """Create ``legato_template`` on the server of ``url``, migrated to head, once."""
    from legato.storage import database

    key = with_database(url, TEMPLATE)
    with _template_lock:
        if key in _templates:
            return
        with _admin(url) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
            connection.execute(f"CREATE DATABASE {TEMPLATE}")
        database.upgrade(key)
        _templates.add(key)


def fresh_database(url: str, prefix: str = "test") -> str:
    """A new database, migrated to head (cloned from the template), on ``url``'s server."""
    ensure_template(url)
    name = f"{prefix}_{os.getpid()}_{next(_database_numbers)}"
    with _admin(url) as connection:
        # PostgreSQL 15 copies block by block and logs it (WAL_LOG) unless told
        # to copy the files: faster for a database this small.
        strategy = " STRATEGY = FILE_COPY" if connection.info.server_version >= 150000 else ""
        connection.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}{strategy}")
    return with_database(url, name)


def empty_database(url: str, prefix: str = "empty") -> str:
    """A new database with no tables at all (for migration tests)."""
    name = f"{prefix}_{os.getpid()}_{next(_database_numbers)}"
    with _admin(url) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return with_database(url, name)


def drop_database(url: str) -> None:
    """Drop the database of ``url``, closing any connection still open to it."""
    import sqlalchemy as sa

    name = sa.make_url(url).database
    with _admin(with_database(url, "legato")) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# -- fixtures (import them into a conftest) ----------------------------------


@pytest.fixture
def pg_database_url(postgres_url: str) -> Iterator[str]:
    """A new migrated PostgreSQL database for one test, dropped afterwards."""
    url = fresh_database(postgres_url)
    yield url
    drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty store: a SQLite file, then a PostgreSQL database."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_database_url"))
    from legato.storage import database, sqlite

    path = tmp_path / "store" / "legato.db"
    sqlite.open_database(path).close()
    return database.sqlite_url(path)
