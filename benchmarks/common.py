"""What every benchmark needs: a throw-away PostgreSQL database, Django configured against it,
a description of the machine, small statistics and the results table. No Django import at
module level: settings are read once, at ``django.setup()``, after the environment is set."""

from __future__ import annotations

import hashlib
import math
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

# The PostgreSQL server the benchmarks make their throw-away databases on.
DEFAULT_SERVER = os.environ.get("CUSTODIA_BENCH_POSTGRES") or "postgres://postgres@127.0.0.1:5432"


def database_url(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


@dataclass
class Environment:
    server: str
    name: str
    url: str
    var_dir: Path


@contextmanager
def fresh_environment(server: str, *, keep: bool, name: str | None = None) -> Iterator[Environment]:
    """Create ``custodia_bench_<pid>`` (or ``name``), point Django at it (and at a temporary var
    directory with a throw-away Ed25519 key), migrate, and drop everything afterwards unless
    ``keep``. A ``name`` that already exists is reused as it is (migrated, not emptied): a kept
    database from an earlier run, so that a long load is not repeated."""
    name = name or f"custodia_bench_{os.getpid()}"
    admin = database_url(server, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    var_dir = Path(tempfile.mkdtemp(prefix="custodia-bench-"))
    env = Environment(server=server, name=name, url=database_url(server, name), var_dir=var_dir)
    try:
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "custodia.settings",
                "DATABASE_URL": env.url,
                "CUSTODIA_VAR_DIR": str(var_dir),
                "CUSTODIA_LEDGER_KEY": str(var_dir / "ledger_ed25519.pem"),
                "CUSTODIA_DEBUG": "0",  # DEBUG would keep every query in memory
                "CUSTODIA_RATE_LIMITS": "off",
                "CUSTODIA_LOG_LEVEL": os.environ.get("CUSTODIA_LOG_LEVEL", "ERROR"),
            }
        )
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        from custodia.ledger import signing

        call_command("migrate", interactive=False, verbosity=0)
        signing.generate(Path(settings.CUSTODIA_LEDGER_KEY_PATH))
        yield env
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110 - Django may never have been set up
            pass
        if keep:
            print(f"\nDatabase kept: {env.url}\nVar directory (key) kept: {var_dir}")
        else:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
            for path in sorted(var_dir.rglob("*"), reverse=True):
                path.rmdir() if path.is_dir() else path.unlink()
            var_dir.rmdir()


def quantile(values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile (q in (0, 1])."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _meminfo_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


ROOT = Path(__file__).resolve().parent.parent


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, check=True, cwd=ROOT)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.rstrip()  # not strip(): porcelain lines start with a status column


def src_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "src").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class Provenance:
    """What code was measured: the commit, any uncommitted files under src/, and a digest of
    src/ taken at the start, compared again when the report is written."""

    commit: str
    changed: tuple[str, ...]
    fingerprint: str

    @classmethod
    def now(cls) -> Provenance:
        status = _git("status", "--porcelain", "--", "src") or ""
        return cls(
            commit=_git("rev-parse", "--short", "HEAD") or "unknown",
            changed=tuple(line[3:] for line in status.splitlines()),
            fingerprint=src_fingerprint(),
        )

    def describe(self) -> str:
        text = self.commit + (
            f" + uncommitted changes in {', '.join(self.changed)}"
            if self.changed
            else " (src/ as committed)"
        )
        if src_fingerprint() != self.fingerprint:
            text += " — WARNING: src/ changed during the run, the figures may mix versions"
        return text


def machine(url: str, code: Provenance) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        version = conn.execute("SELECT version()").fetchone()
        pg_settings: dict[str, str] = dict(
            conn.execute(
                "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name IN "
                "('shared_buffers', 'synchronous_commit', 'fsync', 'work_mem')"
            ).fetchall()
        )
    import django

    return [
        ("CPUs (nproc)", str(os.cpu_count())),
        ("CPU model", _cpu_model()),
        ("Memory", _meminfo_total()),
        ("Kernel", platform.release()),
        ("PostgreSQL", version[0] if version else "unknown"),
        (
            "PostgreSQL settings",
            ", ".join(f"{k}={v}" for k, v in sorted(pg_settings.items())),
        ),
        ("Python", platform.python_version()),
        ("Django / psycopg", f"{django.get_version()} / {psycopg.__version__}"),
        ("Code measured", code.describe()),
    ]


@dataclass(frozen=True)
class Row:
    scenario: str
    ours: str
    baseline: str
    ratio: str
    target: str
    met: bool | None  # None: informational, no target

    @property
    def verdict(self) -> str:
        return "n/a" if self.met is None else ("yes" if self.met else "**no**")


def table(rows: Sequence[Row]) -> str:
    header = ("Scenario", "Our figure", "Baseline", "Ratio", "Target", "Met?")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        cells = (r.scenario, r.ours, r.baseline, r.ratio, r.target, r.verdict)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_date() -> date:
    """The date that names a run's results: ``CUSTODIA_BENCH_DATE`` (the suite sets it, so that
    every scenario of one run writes under one date), otherwise today in UTC. Not
    ``date.today()``: Django sets the process's time zone to Mexico City's, the suite has none,
    and between 18:00 and midnight there the two disagreed and the suite missed every file."""
    given = os.environ.get("CUSTODIA_BENCH_DATE")
    return date.fromisoformat(given) if given else datetime.now(UTC).date()


def results_dir() -> Path:
    """Where the results files go: ``benchmarks/results``, or ``CUSTODIA_BENCH_RESULTS`` (the
    suite's smoke test writes elsewhere, so that a trial run commits nothing)."""
    return Path(os.environ.get("CUSTODIA_BENCH_RESULTS") or "benchmarks/results")


def say(message: str) -> None:
    """Progress, on standard error: standard output carries the results table."""
    print(message, file=sys.stderr, flush=True)


def write_results(
    name: str,
    title: str,
    command: str,
    rows: Sequence[Row],
    details: Sequence[str],
    url: str,
    code: Provenance,
) -> Path:
    """``benchmarks/results/<date>-<name>.md``: the title, the command, the table, the details
    and the machine; printed as well. Returns the path."""
    text = "\n".join(
        [
            f"# {title} — {run_date():%Y-%m-%d}",
            "",
            f"Command: {command}",
            "",
            table(rows),
            "",
            *details,
            *([""] if details else []),
            "## Machine",
            "",
            *(f"- {k}: {v}" for k, v in machine(url, code)),
        ]
    )
    out = results_dir() / f"{run_date():%Y-%m-%d}-{name}.md"
    out.write_text(text + "\n", encoding="utf-8")
    print(text)
    say(f"written to {out}")
    return out
