"""Registration through the API with concurrent clients, against raw SQL inserts of the same
rows at the same concurrency, measured in the same run (issue 7).

1. A fresh database with the demo institutions; ``custodia serve --workers 2`` (gunicorn, two
   processes of 8 threads: one per core; ``--workers 1`` is waitress in one process) in a
   subprocess; one bearer token per client.
2. **Peak**: CLIENTS threads, each with its own keep-alive connection, POST captures to
   ``/api/v1/detentions`` as fast as the answers come, for DURATION seconds. Throughput, p50
   and p99 of the latency.
3. **Half load**: the same clients send at half the peak rate, on a fixed schedule (open loop:
   a late answer does not delay the next send), for DURATION seconds. p50 and p99.
4. **Baseline**: the rows the API wrote for one registration (detention, person, officer,
   holder, the registration event, its ledger leaf, the access-log entry, the outbox message and
   the report's fact), read back from the database, are inserted again by CLIENTS threads with
   psycopg, one transaction per registration, into empty copies of the tables (``LIKE …
   INCLUDING ALL``: the same indexes, no triggers, no foreign keys). Registrations per second.

Targets: API ≥ 35 % of the raw rate and ≥ 300/s; p99 ≤ 100 ms at half load.

    python -m benchmarks.registration [--clients 8] [--duration 30] [--workers 2]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg

from benchmarks.common import (
    DEFAULT_SERVER,
    Provenance,
    Row,
    fresh_environment,
    quantile,
    say,
    write_results,
)

TABLES = (
    "registry_detention", "registry_detainedperson", "registry_officer",
    "registry_detentionholder", "registry_custodyevent", "ledger_ledgerleaf", "core_accesslog",
    "notify_outboxmessage", "reports_detentionfact",
)  # fmt: skip


def capture(n: int) -> bytes:
    from django.utils import timezone

    detained = (timezone.now() - timedelta(minutes=20)).astimezone(
        timezone.get_fixed_timezone(-360)
    )
    body = {
        "person": {"given_names": f"Persona {n}", "first_surname": "Hernández",
                   "second_surname": "López", "sex": "male", "age": 20 + n % 50},
        "detained_at": detained.isoformat(timespec="seconds"),
        "place": {"state": "29", "municipality": "29033", "address": "Av. Juárez 12, Centro",
                  "latitude": 19.3139, "longitude": -98.2404},
        "arrest_basis": "flagrante",
        "reason": "robo a transeúnte",
        "officers": [{"name": "Pedro Ruiz Soto", "rank": "policía tercero"}],
        "receiving_authority": {"kind": "public_prosecutor", "name": "FGJE Tlaxcala, MP Centro",
                                "institution": "fgje-tlax"},
    }  # fmt: skip
    return json.dumps(body).encode()


class Clients:
    def __init__(self, port: int, tokens: list[str]) -> None:
        self.port, self.tokens = port, tokens
        self.counter = iter(range(10**9))
        self.lock = threading.Lock()

    def next_body(self) -> bytes:
        with self.lock:
            return capture(next(self.counter))

    def post(self, conn: http.client.HTTPConnection, token: str, body: bytes) -> float:
        began = time.perf_counter()
        conn.request("POST", "/api/v1/detentions", body=body, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})  # fmt: skip
        reply = conn.getresponse()
        reply.read()
        if reply.status != 201:
            raise RuntimeError(f"registration answered {reply.status}")
        return time.perf_counter() - began

    def run(self, duration: float, rate: float | None) -> tuple[int, float, list[float]]:
        """(registrations, seconds, latencies); ``rate`` per second in all, or as fast as
        possible."""
        latencies: list[float] = []
        errors: list[BaseException] = []
        start = time.perf_counter() + 0.2
        count = len(self.tokens)

        def client(k: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            mine: list[float] = []
            sent = 0
            try:
                while True:
                    if rate:
                        due = start + (sent * count + k) / rate
                        if due - start > duration:
                            break
                        pause = due - time.perf_counter()
                        if pause > 0:
                            time.sleep(pause)
                    elif time.perf_counter() - start > duration:
                        break
                    mine.append(self.post(conn, self.tokens[k], self.next_body()))
                    sent += 1
            except BaseException as error:
                errors.append(error)
            finally:
                conn.close()
                with self.lock:
                    latencies.extend(mine)

        threads = [threading.Thread(target=client, args=(k,)) for k in range(count)]
        while time.perf_counter() < start:
            time.sleep(0.01)
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return len(latencies), time.perf_counter() - start, latencies


def sample_rows(url: str) -> dict[str, tuple[list[str], tuple[Any, ...]]]:
    """One registration's rows, as the API wrote them: (columns, values) per table."""
    with psycopg.connect(url) as conn:
        (detention,) = conn.execute("SELECT max(id) FROM registry_detention").fetchone()
        (event,) = conn.execute(
            "SELECT id FROM registry_custodyevent WHERE detention_id = %s", [detention]
        ).fetchone()
        (folio,) = conn.execute(
            "SELECT folio FROM registry_detention WHERE id = %s", [detention]
        ).fetchone()
        where = {
            "registry_detention": ("id", detention),
            "registry_detainedperson": ("detention_id", detention),
            "registry_officer": ("detention_id", detention),
            "registry_detentionholder": ("detention_id", detention),
            "registry_custodyevent": ("id", event),
            "ledger_ledgerleaf": ("event_id", event),
            "core_accesslog": ("folio", folio),
            "notify_outboxmessage": ("detention_id", detention),
            "reports_detentionfact": ("detention_id", detention),
        }
        rows = {}
        for name in TABLES:
            column, value = where[name]
            cur = conn.execute(f'SELECT * FROM "{name}" WHERE "{column}" = %s LIMIT 1', [value])  # noqa: S608
            found = cur.fetchone()
            if found is None:
                raise RuntimeError(f"the registration wrote no row in {name}")
            rows[name] = ([d.name for d in cur.description], found)
        return rows


def raw_inserts(url: str, clients: int, duration: float) -> tuple[int, float]:
    """Registrations per second by plain INSERTs of the same rows into LIKE copies."""
    rows = sample_rows(url)
    with psycopg.connect(url, autocommit=True) as conn:
        for name in TABLES:
            conn.execute(f'DROP TABLE IF EXISTS "bench_raw_{name}"')
            conn.execute(f'CREATE TABLE "bench_raw_{name}" (LIKE "{name}" INCLUDING ALL)')
    unique: dict[str, set[str]] = {}
    with psycopg.connect(url) as conn:
        for name in TABLES:
            unique[name] = _varied_columns(conn, f"bench_raw_{name}")
    counter = iter(range(1, 10**9))
    lock = threading.Lock()
    done: list[int] = []
    start = time.perf_counter() + 0.2

    failures: list[BaseException] = []

    def client() -> None:
        try:
            insert()
        except BaseException as error:  # reported below: a baseline that died is no baseline
            failures.append(error)

    def insert() -> None:
        mine = 0
        with psycopg.connect(url) as conn:
            statements = {}
            for name, (columns, _) in rows.items():
                cols = ", ".join(f'"{c}"' for c in columns)
                marks = ", ".join(["%s"] * len(columns))
                statements[name] = f'INSERT INTO "bench_raw_{name}" ({cols}) VALUES ({marks})'  # noqa: S608
            while time.perf_counter() < start:
                time.sleep(0.005)
            while time.perf_counter() - start < duration:
                with lock:
                    n = next(counter)
                with conn.transaction():
                    for name, (columns, values) in rows.items():
                        keys = unique[name]
                        fresh = [
                            (_unique_text(v, n) if isinstance(v, str) else n) if c in keys else v
                            for c, v in zip(columns, values, strict=True)
                        ]
                        conn.execute(statements[name], [_adapt(v) for v in fresh])
                mine += 1
        done.append(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    with psycopg.connect(url, autocommit=True) as conn:
        for name in TABLES:
            conn.execute(f'DROP TABLE "bench_raw_{name}"')
    if failures:
        raise RuntimeError(f"{len(failures)} raw-SQL client(s) failed: {failures[0]!r}")
    return sum(done), elapsed


def _varied_columns(conn: psycopg.Connection[Any], table: str) -> set[str]:
    """The columns a copied registration must change to satisfy every unique index of the
    table: each index's columns that can hold a counter (integers, and text long enough). The
    others (the state's two-character code, which every large table's keys carry for Citus; an
    event's ``recorded_at``, which its partitioned keys carry) stay as they are: the key's other
    columns already make the row new."""
    found: dict[str, set[str]] = {}
    for index, column, countable in conn.execute(
        "SELECT i.indexrelid::regclass::text, a.attname, "
        "(a.atttypid IN ('integer'::regtype, 'bigint'::regtype, 'text'::regtype) OR "
        "(a.atttypid = 'varchar'::regtype AND (a.atttypmod < 0 OR a.atttypmod > 4 + 8))) "
        "FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey) WHERE i.indisunique AND i.indrelid = %s::regclass",
        [table],
    ).fetchall():
        found.setdefault(index, set())
        if countable:
            found[index].add(column)
    for index, columns in found.items():
        if not columns:
            raise RuntimeError(f"{table}: the unique index {index} has no column to vary")
    return set().union(*found.values()) | {"id"}


def _unique_text(value: str, n: int) -> str:
    """The same length, the last eight characters replaced by the counter."""
    return value[: max(0, len(value) - 8)] + f"{n:08d}"


def _adapt(value: Any) -> Any:
    return psycopg.types.json.Jsonb(value) if isinstance(value, dict | list) else value


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def worker_pids(pid: int, workers: int) -> list[int]:
    """The processes that serve requests: the server itself, or gunicorn's workers (its
    children)."""
    if workers == 1:
        return [pid]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if len(children) >= workers:
            return [int(c) for c in children]
        time.sleep(0.2)
    raise RuntimeError(f"custodia serve started {len(children)} of {workers} workers")


def start_server(
    env: dict[str, str], port: int, log: Path, workers: int, threads: int
) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).parent / "custodia"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--threads", str(threads), "--workers", str(workers)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/rules")
            conn.getresponse().read()
            return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(log.read_text(errors="replace"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per phase")
    parser.add_argument("--server", default=DEFAULT_SERVER)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--workers", type=int, default=2, help="custodia serve processes (one per core)"
    )
    parser.add_argument("--threads", type=int, default=8, help="threads per process")
    args = parser.parse_args(argv)
    code = Provenance.now()
    with fresh_environment(args.server, keep=False) as env:
        from custodia.core.models import ApiToken, User
        from custodia.registry import demo

        institutions = demo.ensure_institutions()
        demo.ensure_users(institutions)
        capture_user = User.objects.get(username="captura")
        tokens = [ApiToken.issue(capture_user, name=f"bench-{k}")[1] for k in range(args.clients)]
        server = start_server(
            dict(os.environ), args.port, env.var_dir / "server.log", args.workers, args.threads
        )
        pids = worker_pids(server.pid, args.workers)
        idle_mb = max(rss_mb(pid) for pid in pids)
        try:
            clients = Clients(args.port, tokens)
            clients.run(3.0, None)  # warm up: imports, connections, caches
            say("peak …")
            peak_n, peak_s, peak_lat = clients.run(args.duration, None)
            peak = peak_n / peak_s
            say(f"peak: {peak:,.0f}/s; half load …")
            half_n, half_s, half_lat = clients.run(args.duration, peak / 2)
            busy_mb = max(rss_mb(pid) for pid in pids)
        finally:
            server.terminate()
            server.wait(timeout=30)
        say("raw SQL …")
        raw_n, raw_s = raw_inserts(env.url, args.clients, args.duration)
        raw = raw_n / raw_s
        ms = 1000
        rows = [
            Row(f"API registration, {args.clients} clients (peak)",
                f"{peak:,.0f}/s (p50 {quantile(peak_lat, 0.5) * ms:.0f} ms, "
                f"p99 {quantile(peak_lat, 0.99) * ms:.0f} ms)",
                f"raw SQL inserts of the same rows, {args.clients} connections: {raw:,.0f}/s",
                f"{peak / raw:.2f}", "≥ 0.35 and ≥ 300/s", peak / raw >= 0.35 and peak >= 300),
            Row(f"API registration at half the peak ({peak / 2:,.0f}/s offered)",
                f"{half_n / half_s:,.0f}/s; p50 {quantile(half_lat, 0.5) * ms:.0f} ms, "
                f"p99 {quantile(half_lat, 0.99) * ms:.0f} ms", "—", "—", "p99 ≤ 100 ms",
                quantile(half_lat, 0.99) * ms <= 100),
            Row("Web worker memory (RSS of the largest serving process)",
                f"{busy_mb:,.0f} MB after {peak_n + half_n:,} registrations",
                f"the same worker idle, just started: {idle_mb:,.0f} MB",
                f"{busy_mb / idle_mb:.2f}", "none (reported)", None),
        ]  # fmt: skip
        write_results(
            f"registration-{args.clients}x{args.duration:g}s"
            + ("" if args.workers == 2 else f"-w{args.workers}"),
            "Registration through the API",
            f"`python -m benchmarks.registration --clients {args.clients} --duration "
            f"{args.duration:g} --workers {args.workers} --threads {args.threads}`. "
            f"`custodia serve --workers {args.workers} --threads {args.threads}` ("
            + (
                "waitress, one process"
                if args.workers == 1
                else f"gunicorn, {args.workers} processes"
            )
            + ") on the same machine as PostgreSQL and the clients.",
            rows,
            [],
            env.url,
            code,
        )


if __name__ == "__main__":
    main()
