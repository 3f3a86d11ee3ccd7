"""A real PostgreSQL primary and a hot-standby replica streaming from it, each its own cluster on
its own port, made for one test module and removed after it.

The pair is made with the server's own tools (``initdb``, ``pg_basebackup -R``, ``pg_ctl``)
from the installed PostgreSQL, run as the ``postgres`` user when the tests run as root. The
primary is a fresh cluster rather than the shared server on 5432: a base backup copies every
database of a cluster, and the shared one may hold a benchmark's 40 GB.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from live_server import free_port

TIMEOUT_SECONDS = 60.0


class PairError(RuntimeError):
    """The pair could not be made (the message says which step and what the tool said)."""


def pg_bindir() -> Path:
    """The installed server's programs (Debian keeps them under /usr/lib/postgresql/N/bin)."""
    versions = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1]
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise PairError("No se encontró initdb: instale el servidor PostgreSQL.")


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(step: str, command: list[str]) -> None:
    result = subprocess.run(
        _as_server_user(command),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        raise PairError(f"{step}: {' '.join(command)}\n{result.stdout}\n{result.stderr}")


@dataclass(frozen=True)
class Pair:
    primary_port: int
    replica_port: int

    def url(self, port: int, dbname: str) -> str:
        return f"postgres://postgres@127.0.0.1:{port}/{dbname}"

    def connect(self, port: int, dbname: str = "postgres") -> psycopg.Connection[Any]:
        return psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname=dbname, autocommit=True
        )

    def wait_until_replayed(self) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        with self.connect(self.primary_port) as primary:
            target = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        deadline = time.monotonic() + TIMEOUT_SECONDS
        with self.connect(self.replica_port) as replica:
            while time.monotonic() < deadline:
                behind = replica.execute(
                    "SELECT pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn()) > 0", [target]
                ).fetchone()[0]
                if not behind:
                    return
                time.sleep(0.05)
        raise PairError(f"La réplica no alcanzó {target} en {TIMEOUT_SECONDS:.0f} s.")

    def pause_replay(self) -> None:
        with self.connect(self.replica_port) as replica:
            replica.execute("SELECT pg_wal_replay_pause()")
            # Paused only once replay has actually stopped.
            deadline = time.monotonic() + TIMEOUT_SECONDS
            while replica.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0] != (
                "paused"
            ):
                if time.monotonic() > deadline:
                    raise PairError("La réplica no pausó la reproducción.")
                time.sleep(0.05)

    def resume_replay(self) -> None:
        with self.connect(self.replica_port) as replica:
            replica.execute("SELECT pg_wal_replay_resume()")


@contextmanager
def streaming_pair() -> Iterator[Pair]:
    bindir = pg_bindir()
    root = Path(tempfile.mkdtemp(prefix="custodia-pg-pair-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    primary, replica = root / "primary", root / "replica"
    pair = Pair(free_port(), free_port())
    started: list[Path] = []

    def start(data: Path, port: int) -> None:
        options = f"-p {port} -c listen_addresses=127.0.0.1 -k {root} -c fsync=off"
        _run(
            f"arranque del clúster en el puerto {port}",
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                f"{data}.log",
                "-w",
                "start",
            ],
        )
        started.append(data)

    try:
        _run(
            "initdb", [str(bindir / "initdb"), "-D", str(primary), "-U", "postgres", "-A", "trust"]
        )
        start(primary, pair.primary_port)
        _run(
            "pg_basebackup",
            [
                str(bindir / "pg_basebackup"),
                "-h", "127.0.0.1", "-p", str(pair.primary_port), "-U", "postgres",
                "-D", str(replica), "-R", "-X", "stream", "-c", "fast",
            ],
        )  # fmt: skip
        start(replica, pair.replica_port)
        with pair.connect(pair.replica_port) as conn:
            if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                raise PairError("El segundo clúster no quedó como réplica en espera.")
        yield pair
    finally:
        for data in reversed(started):
            subprocess.run(
                _as_server_user(
                    [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
                ),
                capture_output=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)
