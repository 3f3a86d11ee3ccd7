"""A real Custodia server in a subprocess, for end-to-end browser tests.

The server runs ``custodia serve`` (waitress) against its own fresh database: a brand-new
PostgreSQL database on the same server when the test run uses PostgreSQL, otherwise a SQLite
file in a temporary directory. It is seeded with ``custodia demo`` so the demo users exist.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql

STARTUP_TIMEOUT_SECONDS = 30.0
COMMAND_TIMEOUT_SECONDS = 120.0
# Numbers the PostgreSQL databases of one test process: servers may run at the same time (the
# browser tests' session-long server and a test's own), and each must have its own database.
_DATABASE_NUMBERS = itertools.count(1)


class ServerError(RuntimeError):
    """The server (or its seeding) could not be started."""


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    database_url: str
    var_dir: Path
    env: Mapping[str, str]
    pid: int = 0  # of the custodia serve process

    def url(self, path: str) -> str:
        return self.base_url + path


def custodia_executable() -> Path:
    """The ``custodia`` console script of the interpreter running the tests."""
    # Not resolved: a venv's python is a symlink and its scripts live next to the link.
    path = Path(sys.executable).parent / "custodia"
    if not path.exists():
        raise ServerError(f"No se encontró el comando custodia en {path}")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def is_postgres(database: Mapping[str, Any]) -> bool:
    return "postgresql" in str(database.get("ENGINE", ""))


def _pg_connect_kwargs(database: Mapping[str, Any], dbname: str) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"dbname": dbname, "autocommit": True, "connect_timeout": 10}
    for key, setting in (
        ("user", "USER"),
        ("password", "PASSWORD"),
        ("host", "HOST"),
        ("port", "PORT"),
    ):
        if database.get(setting):
            kwargs[key] = str(database[setting])
    return kwargs


def _pg_admin_connection(database: Mapping[str, Any]) -> psycopg.Connection[Any]:
    """A connection to the maintenance database, or failing that the configured one."""
    candidates = ["postgres", str(database.get("NAME") or "")]
    last_error: Exception | None = None
    for dbname in filter(None, candidates):
        try:
            return psycopg.connect(**_pg_connect_kwargs(database, dbname))
        except psycopg.OperationalError as error:
            last_error = error
    raise ServerError(f"No se pudo conectar a PostgreSQL: {last_error}")


def _pg_url(database: Mapping[str, Any], dbname: str) -> str:
    user = quote(str(database.get("USER") or ""), safe="")
    password = database.get("PASSWORD")
    auth = f"{user}:{quote(str(password), safe='')}" if password else user
    host = str(database.get("HOST") or "127.0.0.1")
    port = str(database.get("PORT") or "5432")
    return f"postgres://{auth}@{host}:{port}/{dbname}"


@contextmanager
def fresh_database(database: Mapping[str, Any], workdir: Path) -> Iterator[str]:
    """A DATABASE_URL for a database nobody else uses; dropped afterwards when it is PG."""
    if not is_postgres(database):
        yield f"sqlite:///{workdir / 'e2e.sqlite3'}"
        return
    name = f"custodia_e2e_{os.getpid()}_{next(_DATABASE_NUMBERS)}"
    with _pg_admin_connection(database) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _pg_url(database, name)
    finally:
        with _pg_admin_connection(database) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def server_env(database_url: str, var_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "CUSTODIA_VAR_DIR": str(var_dir),
            "CUSTODIA_RATE_LIMITS": "off",
            "CUSTODIA_DEBUG": "0",
            "DJANGO_SETTINGS_MODULE": "custodia.settings",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def run_custodia(
    env: Mapping[str, str], *args: str, timeout: float = COMMAND_TIMEOUT_SECONDS
) -> subprocess.CompletedProcess[str]:
    """Run a ``custodia`` management command against the server's database."""
    result = subprocess.run(
        [str(custodia_executable()), *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise ServerError(
            f"custodia {' '.join(args)} terminó con {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(
                f"El servidor terminó con {process.returncode}:\n{log.read_text(errors='replace')}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own URL)
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise ServerError(
        f"El servidor no respondió en {STARTUP_TIMEOUT_SECONDS:.0f} s:\n"
        f"{log.read_text(errors='replace')}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def serving(
    env: Mapping[str, str], workdir: Path, database_url: str, serve_args: Sequence[str] = ()
) -> Iterator[RunningServer]:
    """``custodia serve`` with this environment on a free local port, until the block ends."""
    port = free_port()
    log = workdir / "server.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [
                str(custodia_executable()),
                *("serve", "--host", "127.0.0.1", "--port", str(port), *serve_args),
            ],
            env=dict(env),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_until_up(base_url + "/entrar/", process, log)
        yield RunningServer(base_url, database_url, Path(env["CUSTODIA_VAR_DIR"]), env, process.pid)
    finally:
        _stop(process)


@contextmanager
def running_server(
    database: Mapping[str, Any],
    workdir: Path,
    *,
    detentions: int = 5,
    serve_args: Sequence[str] = (),
    env_overrides: Mapping[str, str] | None = None,
) -> Iterator[RunningServer]:
    """Seed a fresh database with the demo data and serve it on a free local port."""
    var_dir = workdir / "var"
    var_dir.mkdir(parents=True, exist_ok=True)
    with fresh_database(database, workdir) as database_url:
        env = server_env(database_url, var_dir)
        env.update(env_overrides or {})
        run_custodia(env, "demo", "--detentions", str(detentions))
        with serving(env, workdir, database_url, serve_args) as server:
            yield server
