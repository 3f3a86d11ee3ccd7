"""Benchmarks of the tamper-evident log (DESIGN.md §5), each against a baseline measured in the
same run on the same machine:

A. appending: a custody event with its leaf, one transaction per event, against the same
   event inserted without a leaf (and the full ``event_record`` path against itself with
   ``append_event`` stubbed out);
B. inclusion-proof latency with SCALE leaves stored, against a primary-key lookup of one leaf;
C. full verification: ``StreamingRoot`` over SCALE leaf hashes in memory, against hashlib alone
   doing the same number of SHA-256 calls; and ``custodia ledger verify`` end to end.

Runs in its own PostgreSQL database (created and dropped here). ``make bench [SCALE=n]``, or
``python -m benchmarks.ledger --help``. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import random
import shlex
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

import psycopg

from .common import (
    DEFAULT_SERVER,
    Environment,
    Provenance,
    Row,
    fresh_environment,
    machine,
    quantile,
    results_dir,
    run_date,
    table,
)

if TYPE_CHECKING:
    from custodia.core.models import Institution, User
    from custodia.registry.models import Detention

SYNTHETIC_SALT = "5a" * 16
COPY_CHUNK = 50_000
APPEND_TARGET = 1.5  # append time at most 1.5x the plain insert time
PROOF_TARGET_MS = 2.0  # server-side, stated for 10 million leaves
STREAMING_TARGET = 0.5  # at least half of hashlib's rate
DEFAULT_SCALE = 1_000_000


def say(message: str) -> None:
    print(message, flush=True)


def thousands(n: float) -> str:
    return f"{n:,.0f}"


@dataclass(frozen=True)
class SqlShare:
    """Per call: SQL statements sent, time inside the driver's execute (the round trip), and
    total time. COMMIT is not an execute and counts only in the total."""

    queries: float
    sql_ms: float
    total_ms: float

    def describe(self) -> str:
        return (
            f"{self.queries:.1f} SQL statements, {self.total_ms:.3f} ms per call of which "
            f"{self.sql_ms:.3f} ms inside the database round trips"
        )


def sql_share(action: Callable[[], object], calls: int) -> SqlShare:
    from django.db import connection

    spent = 0.0
    count = 0

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any) -> Any:
        nonlocal spent, count
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, ctx)
        finally:
            spent += time.perf_counter() - t0
            count += 1

    with connection.execute_wrapper(wrapper):
        t0 = time.perf_counter()
        for _ in range(calls):
            action()
        total = time.perf_counter() - t0
    return SqlShare(count / calls, spent / calls * 1e3, total / calls * 1e3)


# --- B: bulk load -----------------------------------------------------------------------------


@dataclass
class Loaded:
    leaves: list[bytes]
    root: bytes
    nodes: int
    build_seconds: float
    copy_seconds: float


def synthetic_leaf(index: int) -> bytes:
    return hashlib.sha256(index.to_bytes(8, "big")).digest()


def load_tree(url: str, scale: int) -> Loaded:
    """SCALE synthetic leaves and every complete-subtree node, written with COPY, as if SCALE
    events had been appended (leaves without events: the proofs do not read events)."""
    from custodia.ledger import merkle
    from custodia.ledger.models import LedgerHead

    started = time.perf_counter()
    leaves = [synthetic_leaf(i) for i in range(scale)]
    tree = merkle.MemoryTree(leaves)
    root = merkle.root(scale, tree.lookup)
    built = time.perf_counter()
    stamp = datetime.now(UTC).isoformat()
    nodes = 0
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        # COPY inserts; the append-only triggers refuse only UPDATE, DELETE and TRUNCATE.
        columns = '("index", leaf_hash, salt, event_id, created_at)'
        with cur.copy(f"COPY ledger_ledgerleaf {columns} FROM STDIN") as copy:
            for start in range(0, scale, COPY_CHUNK):
                copy.write(
                    "".join(
                        f"{i}\t{leaves[i].hex()}\t{SYNTHETIC_SALT}\t\\N\t{stamp}\n"
                        for i in range(start, min(start + COPY_CHUNK, scale))
                    )
                )
        with cur.copy('COPY ledger_ledgernode (level, "index", hash) FROM STDIN') as copy:
            for level in range(1, len(tree.levels)):
                hashes = tree.levels[level]
                nodes += len(hashes)
                for start in range(0, len(hashes), COPY_CHUNK):
                    copy.write(
                        "".join(
                            f"{level}\t{i}\t{hashes[i].hex()}\n"
                            for i in range(start, min(start + COPY_CHUNK, len(hashes)))
                        )
                    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE ledger_ledgerleaf")
        conn.execute("VACUUM ANALYZE ledger_ledgernode")
    LedgerHead.objects.filter(pk=1).update(size=scale)
    copied = time.perf_counter()
    return Loaded(leaves, root, nodes, built - started, copied - built)


# --- B: proofs --------------------------------------------------------------------------------


@dataclass
class ProofResult:
    samples: int
    proof_ms: list[float]
    lookup_ms: list[float]
    verified: int
    tampered_rejected: bool
    queries: int
    stored_root_matches: bool
    example: tuple[int, int]  # index, proof length
    share: SqlShare
    one_query_ms: list[float]


def one_query_inclusion(index: int, size: int) -> tuple[bytes, list[bytes]]:
    """NOT the shipped code: the same proof with the leaf and every needed hash fetched in one
    hand-written query, to show how much of ``services.inclusion`` is ORM work."""
    from django.db import connection

    from custodia.ledger import merkle

    def compute(look: merkle.Lookup) -> list[bytes]:
        return merkle.inclusion_proof(index, size, look)

    keys = merkle.needed(compute) | {(0, index)}
    leaves = [i for level, i in keys if level == 0]
    inner = [(level, i) for level, i in keys if level > 0]
    with connection.cursor() as cur:
        cur.execute(
            'SELECT 0, "index", leaf_hash FROM ledger_ledgerleaf WHERE "index" = ANY(%s) '
            'UNION ALL SELECT n.level, n."index", n.hash FROM ledger_ledgernode n '
            "JOIN unnest(%s::smallint[], %s::bigint[]) AS k(level, idx) "
            'ON n.level = k.level AND n."index" = k.idx',
            [leaves, [k[0] for k in inner], [k[1] for k in inner]],
        )
        found = {(level, i): bytes.fromhex(h) for level, i, h in cur.fetchall()}
    return found[(0, index)], compute(lambda level, i: found[(level, i)])


def bench_proofs(scale: int, samples: int, seed: int, root: bytes) -> ProofResult:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from custodia.ledger import merkle, services
    from custodia.ledger.models import LedgerLeaf

    rnd = random.Random(seed)
    stored_root_matches = services.root_at(scale) == root
    for _ in range(100):  # warm-up: connection, plans, Python caches
        services.inclusion(rnd.randrange(scale), scale)
        LedgerLeaf.objects.get(pk=rnd.randrange(scale))
    indexes = [rnd.randrange(scale) for _ in range(samples)]
    proof_ms: list[float] = []
    lookup_ms: list[float] = []
    verified = 0
    clock = time.perf_counter_ns

    def proof(index: int) -> tuple[bytes, list[bytes]]:
        t0 = clock()
        found = services.inclusion(index, scale)
        proof_ms.append((clock() - t0) / 1e6)
        return found

    def lookup(index: int) -> None:
        t0 = clock()
        LedgerLeaf.objects.get(pk=index)
        lookup_ms.append((clock() - t0) / 1e6)

    for n, index in enumerate(indexes):
        if n % 2:  # alternate which goes first, so neither always finds the warmer cache
            lookup(index)
            leaf, path = proof(index)
        else:
            leaf, path = proof(index)
            lookup(index)
        verified += merkle.verify_inclusion(index, scale, leaf, path, root)
    first = indexes[0]
    leaf, path = services.inclusion(first, scale)
    tampered = bytes([leaf[0] ^ 1]) + leaf[1:]
    tampered_rejected = not merkle.verify_inclusion(first, scale, tampered, path, root)
    example = (first, len(path))
    with CaptureQueriesContext(connection) as queries:
        services.inclusion(first, scale)
    share = sql_share(lambda: services.inclusion(rnd.randrange(scale), scale), 200)
    one_query_ms: list[float] = []
    for index in indexes:
        t0 = clock()
        found, steps = one_query_inclusion(index, scale)
        one_query_ms.append((clock() - t0) / 1e6)
        if not merkle.verify_inclusion(index, scale, found, steps, root):
            raise AssertionError("the one-query prototype built a wrong proof")
    return ProofResult(
        samples=samples,
        proof_ms=proof_ms,
        lookup_ms=lookup_ms,
        verified=verified,
        tampered_rejected=tampered_rejected,
        queries=len(queries),
        stored_root_matches=stored_root_matches,
        example=example,
        share=share,
        one_query_ms=one_query_ms,
    )


# --- C: verification --------------------------------------------------------------------------


@dataclass
class StreamingResult:
    ours_s: list[float]
    hashlib_s: list[float]
    bulk_s: float
    calls: int

    @property
    def ratio(self) -> float:
        """Median over the back-to-back pairs of our rate / hashlib's rate."""
        pairs = zip(self.hashlib_s, self.ours_s, strict=True)
        return statistics.median(raw / ours for raw, ours in pairs)


def bench_streaming(leaves: list[bytes], root: bytes, repeats: int) -> StreamingResult:
    from custodia.ledger import merkle

    calls = len(leaves) - 1  # a tree of n leaves has n - 1 inner nodes
    block = b"\x01" + leaves[0] + leaves[-1]
    sha256 = hashlib.sha256
    ours: list[float] = []
    raw: list[float] = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        tree = merkle.StreamingRoot()
        tree.extend(leaves)
        rebuilt = tree.root()
        ours.append(time.perf_counter() - t0)
        if rebuilt != root:
            raise AssertionError("StreamingRoot disagrees with the tree that was loaded")
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(calls):
            sha256(block).digest()
        raw.append(time.perf_counter() - t0)
    data = bytes(65 * calls)
    t0 = time.perf_counter()
    sha256(data).digest()
    bulk = time.perf_counter() - t0
    return StreamingResult(ours, raw, bulk, calls)


@dataclass
class VerifyResult:
    seconds: float | None
    ok: bool
    tail: str
    leaves: int = 0
    detentions: int = 0


def bench_verify(server: str, scale: int, timeout: float) -> VerifyResult:
    """Time the operator's command, as a separate process, over a real registry of about
    ``scale`` leaves: ``custodia synth`` of scale / 3 detentions (each has about three events)
    in a database of its own. The command downloads every leaf in pages of 10,000, rebuilds the
    root, checks the signature, hashes every stored event again and matches every leaf to its
    event. The tree of B cannot serve: its leaves stand for no event, and the verifier rightly
    refuses leaves that belong to nothing."""
    import tempfile

    from psycopg import sql

    from .common import database_url

    name = f"custodia_bench_verify_{os.getpid()}"
    admin = database_url(server, "postgres")
    script = Path(sys.executable).with_name("custodia")
    custodia = [str(script)] if script.exists() else [sys.executable, "-m", "custodia.cli"]
    detentions = max(1_000, scale // 3)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with tempfile.TemporaryDirectory(prefix="custodia-verify-") as var:
            env = dict(os.environ)
            env.update(
                {
                    "DATABASE_URL": database_url(server, name),
                    "CUSTODIA_VAR_DIR": var,
                    "CUSTODIA_LEDGER_KEY": str(Path(var) / "ledger_ed25519.pem"),
                }
            )
            loaded = subprocess.run(
                [*custodia, "synth", "--detentions", str(detentions), "--months", "12",
                 "--until", "2026-11-30", "--seed", "1"],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            if loaded.returncode != 0:
                return VerifyResult(None, False, f"custodia synth failed: {loaded.stderr[-300:]}")
            with psycopg.connect(database_url(server, name)) as conn:
                (leaves,) = conn.execute("SELECT count(*) FROM ledger_ledgerleaf").fetchone()
            t0 = time.perf_counter()
            try:
                done = subprocess.run(
                    [*custodia, "ledger", "verify"],
                    env=env, capture_output=True, text=True, timeout=timeout, check=False,
                )  # fmt: skip
            except subprocess.TimeoutExpired:
                return VerifyResult(None, False, f"did not finish within {timeout:.0f} s")
            elapsed = time.perf_counter() - t0
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    out = (done.stdout + done.stderr).strip().splitlines()
    ok = done.returncode == 0 and any("Verificación correcta" in line for line in out)
    return VerifyResult(elapsed, ok, " / ".join(out[-2:]), leaves, detentions)


# --- A: appending -----------------------------------------------------------------------------


@dataclass
class Slot:
    detention: Detention
    next_sequence: int


@dataclass
class AppendResult:
    rows: int
    plain_rates: list[float] = field(default_factory=list)
    ledger_rates: list[float] = field(default_factory=list)

    @property
    def plain(self) -> float:
        return statistics.median(self.plain_rates)

    @property
    def ledger(self) -> float:
        return statistics.median(self.ledger_rates)

    @property
    def time_ratio(self) -> float:
        """Median of the per-round ratios of times: ledger time / plain time."""
        return statistics.median(
            p / q for p, q in zip(self.plain_rates, self.ledger_rates, strict=True)
        )


def capture(number: int) -> dict[str, Any]:
    """A valid capture (as API.md shows it), detained 20 minutes ago in Tlaxcala."""
    from django.utils import timezone

    detained = (timezone.now() - timedelta(minutes=20)).astimezone(
        timezone.get_fixed_timezone(-360)
    )
    return {
        "person": {
            "given_names": "Juan Carlos",
            "first_surname": "Hernández",
            "second_surname": f"Prueba {number}",
            "sex": "male",
            "age": 38,
            "nationality": "Mexicana",
            "physical_condition": "sin lesiones visibles",
        },
        "detained_at": detained.isoformat(),
        "place": {"state": "29", "municipality": "29033", "address": "Av. Juárez 12, Centro"},
        "arrest_basis": "flagrante",
        "reason": "robo a transeúnte",
        "officers": [{"name": "Pedro Ruiz Soto", "rank": "policía tercero", "unit": "Sector 3"}],
        "receiving_authority": {
            "kind": "public_prosecutor",
            "name": "Fiscalía General de Justicia del Estado de Tlaxcala, MP Centro",
            "institution": "fgje-tlax",
        },
        "force_used": False,
    }


def setup_actor() -> User:
    from custodia.core.models import Role, User
    from custodia.registry import demo

    institutions = demo.ensure_institutions()
    return User.objects.create_user(
        username="bench.captura", role=Role.CAPTURE, institution=institutions["ssc-tlax"]
    )


def register(actor: User, count: int, offset: int) -> list[Detention]:
    from custodia.core.models import Channel
    from custodia.registry.services import detention_register

    return [
        detention_register(actor=actor, data=capture(offset + n), channel=Channel.CLI).detention
        for n in range(count)
    ]


NOTE = "Se informó a la familia por teléfono; la persona pidió agua y se le dio."


def insert_events(
    slots: list[Slot], rows: int, actor: User, institution: Institution, *, ledger: bool
) -> float:
    """``rows`` note events, one transaction each, round-robin over the detentions; with
    ``ledger`` each also gets its leaf (``append_event``) in the same transaction."""
    from django.db import transaction
    from django.utils import timezone

    from custodia.ledger.commitments import new_salt
    from custodia.ledger.services import append_event
    from custodia.registry.models import CustodyEvent

    t0 = time.perf_counter()
    for n in range(rows):
        slot = slots[n % len(slots)]
        with transaction.atomic():
            now = timezone.now()
            event = CustodyEvent.objects.create(
                detention=slot.detention,
                state_id=slot.detention.state_id,
                sequence=slot.next_sequence,
                kind="note",
                occurred_at=now,
                recorded_at=now,
                recorded_by=actor,
                institution=institution,
                local_zone=slot.detention.place_timezone,
                data={"details": NOTE},
            )
            if ledger:
                append_event(event, slot.detention.folio, new_salt())
        slot.next_sequence += 1
    return time.perf_counter() - t0


def _no_leaf(event: Any, folio: str, salt: str) -> None:
    return None


def record_events(folios: list[str], rows: int, actor: User, *, ledger: bool) -> float:
    """``rows`` calls of ``event_record`` (kind "note"), the path a user's write takes; without
    ``ledger``, the same with ``append_event`` replaced by a no-op, in this process only."""
    from custodia.core.models import Channel
    from custodia.registry.services import event_record

    patch: AbstractContextManager[Any] = (
        nullcontext() if ledger else mock.patch("custodia.registry.services.append_event", _no_leaf)
    )
    with patch:
        t0 = time.perf_counter()
        for n in range(rows):
            event_record(
                actor=actor,
                folio=folios[n % len(folios)],
                data={"kind": "note", "details": NOTE},
                channel=Channel.CLI,
            )
        return time.perf_counter() - t0


def alternate(
    rows: int, repeats: int, plain: Callable[[int], float], ledger: Callable[[int], float]
) -> AppendResult:
    """Warm both up, then ``repeats`` rounds of ``rows`` each, in ABBA order."""
    plain(max(50, rows // 10))
    ledger(max(50, rows // 10))
    result = AppendResult(rows)

    def rate(variant: Callable[[int], float]) -> float:
        gc.collect()
        return rows / variant(rows)

    for r in range(repeats):
        if r % 2 == 0:
            result.plain_rates.append(rate(plain))
            result.ledger_rates.append(rate(ledger))
        else:
            result.ledger_rates.append(rate(ledger))
            result.plain_rates.append(rate(plain))
        say(
            f"  round {r + 1}/{repeats}: plain {result.plain_rates[-1]:,.0f}/s, "
            f"with ledger {result.ledger_rates[-1]:,.0f}/s"
        )
    return result


def check_appended() -> tuple[bool, int]:
    """After A: the log is dense, the newest event's leaf is its recomputed commitment, and its
    inclusion proof verifies against the root rebuilt from stored hashes."""
    from custodia.ledger import commitments, merkle, services
    from custodia.ledger.models import LedgerLeaf

    size = services.tree_size()
    leaf = (
        LedgerLeaf.objects.select_related("event", "event__detention")
        .filter(event__isnull=False)
        .order_by("-index")
        .first()
    )
    if leaf is None or leaf.event is None:
        return False, size
    event = leaf.event
    recomputed = commitments.leaf_hash(
        services.document_of(event, event.detention.folio, leaf.salt)
    )
    _, path = services.inclusion(leaf.index, size)
    ok = (
        LedgerLeaf.objects.count() == size
        and recomputed.hex() == leaf.leaf_hash
        and merkle.verify_inclusion(leaf.index, size, recomputed, path, services.root_at(size))
    )
    return ok, size


# --- report -----------------------------------------------------------------------------------


def command_line(args: argparse.Namespace) -> str:
    direct = "python -m benchmarks.ledger " + shlex.join(sys.argv[1:])
    if os.environ.get("MAKELEVEL"):
        return f"make bench SCALE={args.scale}  (runs `.venv/bin/{direct.strip()}`)"
    return direct.strip()


def rows_for(
    args: argparse.Namespace,
    append: AppendResult,
    record: AppendResult | None,
    proofs: ProofResult,
    streaming: StreamingResult,
    verify: VerifyResult | None,
) -> list[Row]:
    scale = thousands(args.scale)
    rows = [
        Row(
            "A. append: event + leaf, 1 txn/event",
            f"{append.ledger:,.0f} events/s",
            f"{append.plain:,.0f} events/s (same event, no leaf)",
            f"{append.time_ratio:.2f}x the time",
            f"≤ {APPEND_TARGET}x",
            append.time_ratio <= APPEND_TARGET,
        )
    ]
    if record is not None:
        rows.append(
            Row(
                "A2. `event_record` note (user path)",
                f"{record.ledger:,.0f} events/s",
                f"{record.plain:,.0f} events/s (`append_event` stubbed)",
                f"{record.time_ratio:.2f}x the time",
                f"≤ {APPEND_TARGET}x",
                record.time_ratio <= APPEND_TARGET,
            )
        )
    for label, q in (("p50", 0.5), ("p99", 0.99)):
        ours, base = quantile(proofs.proof_ms, q), quantile(proofs.lookup_ms, q)
        rows.append(
            Row(
                f"B. inclusion proof {label}, {scale} leaves",
                f"{ours:.3f} ms",
                f"{base:.3f} ms (PK lookup of 1 leaf)",
                f"{ours / base:.1f}x",
                f"≤ {PROOF_TARGET_MS:g} ms (stated at 10M; run at {scale})",
                ours <= PROOF_TARGET_MS,
            )
        )
    ours_rate = args.scale / statistics.median(streaming.ours_s)
    raw_rate = args.scale / statistics.median(streaming.hashlib_s)
    rows.append(
        Row(
            f"C. StreamingRoot, {scale} leaves in memory",
            f"{ours_rate:,.0f} leaves/s",
            f"{raw_rate:,.0f} leaves/s (hashlib, {thousands(streaming.calls)} x 65 B)",
            f"{streaming.ratio:.1%}",
            f"≥ {STREAMING_TARGET:.0%}",
            streaming.ratio >= STREAMING_TARGET,
        )
    )
    if verify is not None:
        figure = (
            f"{verify.seconds:.1f} s ({verify.leaves / verify.seconds:,.0f} leaves/s)"
            if verify.seconds is not None
            else verify.tail
        )
        # The streaming root of C, scaled to the registry's number of leaves.
        alone = statistics.median(streaming.ours_s) * verify.leaves / args.scale
        rows.append(
            Row(
                f"C2. `custodia ledger verify`, a registry of {verify.leaves:,} leaves "
                f"({verify.detentions:,} detentions)",
                figure + ("" if verify.ok else " — FAILED"),
                f"{alone:.1f} s (StreamingRoot alone, as many leaves)",
                f"{verify.seconds / alone:.0f}x" if verify.seconds else "—",
                "end to end, reported separately",
                None,
            )
        )
    return rows


def report(
    args: argparse.Namespace,
    env: Environment,
    rows: list[Row],
    notes: list[str],
    started: datetime,
    finished: datetime,
    code: Provenance,
) -> str:
    described = "\n".join(f"- {k}: {v}" for k, v in machine(env.url, code))
    note_text = "\n".join(f"- {n}" for n in notes)
    return (
        f"# Ledger benchmarks, {started.date().isoformat()}\n\n"
        f"Scale run: **{args.scale:,} leaves** (the proof target is stated for 10,000,000).\n"
        f"Started {started:%Y-%m-%d %H:%M:%S} UTC, finished {finished:%H:%M:%S} UTC "
        f"({(finished - started).total_seconds() / 60:.1f} min).\n\n"
        f"Command:\n\n```sh\n{command_line(args)}\n```\n\n"
        f"## Machine\n\n{described}\n\n"
        f"## Results\n\n{table(rows)}\n\n"
        f"## Details\n\n{note_text}\n\n"
        "Baselines are explained in benchmarks/README.md.\n"
    )


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ledger", description=__doc__)
    parser.add_argument("--scale", type=int, default=DEFAULT_SCALE, help="leaves for B and C")
    parser.add_argument("--proofs", type=int, default=1000, help="random indexes timed in B")
    parser.add_argument("--rows", type=int, default=1000, help="events per variant per round in A")
    parser.add_argument(
        "--record-rows", type=int, default=300, help="events per variant per round in A2 (0: skip)"
    )
    parser.add_argument("--repeats", type=int, default=5, help="alternating rounds in A and C")
    parser.add_argument("--detentions", type=int, default=10, help="detentions that A writes to")
    parser.add_argument(
        "--record-detentions", type=int, default=100, help="detentions that A2 writes to"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--verify-timeout",
        type=float,
        default=480.0,
        help="seconds allowed for `custodia ledger verify` (0: skip it)",
    )
    parser.add_argument(
        "--server", default=os.environ.get("CUSTODIA_BENCH_POSTGRES", DEFAULT_SERVER)
    )
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--output",
        help="results file (default benchmarks/results/<date>-ledger.md; '-' for none)",
    )
    args = parser.parse_args(argv)
    if args.scale < 2 or args.proofs < 1 or args.rows < 1 or args.repeats < 1:
        parser.error("--scale must be at least 2; --proofs, --rows and --repeats at least 1")
    return args


def run(args: argparse.Namespace, env: Environment, started: datetime, code: Provenance) -> str:
    notes: list[str] = []
    say(f"Database {env.name}; scale {args.scale:,} leaves.")

    say("B. Loading the tree with COPY ...")
    loaded = load_tree(env.url, args.scale)
    notes.append(
        f"B setup: {args.scale:,} synthetic leaves (SHA-256 of the index) and {loaded.nodes:,} "
        f"complete-subtree nodes built in memory in {loaded.build_seconds:.1f} s and written "
        f"with COPY (+ VACUUM ANALYZE) in {loaded.copy_seconds:.1f} s; head size set to "
        f"{args.scale:,}. Root {loaded.root.hex()}."
    )
    say(f"  built in {loaded.build_seconds:.1f} s, copied in {loaded.copy_seconds:.1f} s")

    say(f"B. Timing {args.proofs} inclusion proofs and as many primary-key lookups ...")
    proofs = bench_proofs(args.scale, args.proofs, args.seed, loaded.root)
    index, length = proofs.example
    notes.append(
        f"B: `services.inclusion(index, {args.scale})` timed in-process with perf_counter for "
        f"{proofs.samples} random indexes (after 100 warm-up calls), interleaved with "
        f"`LedgerLeaf.objects.get(pk=index)` for the same indexes. One proof = "
        f"{proofs.queries} SQL queries. Proof mean {statistics.fmean(proofs.proof_ms):.3f} ms, max "
        f"{max(proofs.proof_ms):.3f} ms; lookup mean {statistics.fmean(proofs.lookup_ms):.3f} ms."
    )
    notes.append(
        f"B, where the time goes: `services.inclusion` makes {proofs.share.describe()} "
        "(200 further random proofs, timed through a Django execute wrapper); the rest is "
        "Python in the web process (building the queries, the dry run of `merkle.needed`, "
        "decoding, the proof itself). For comparison, the same proofs with the leaf and all "
        "needed hashes fetched by one hand-written query "
        "(`one_query_inclusion` in this file — a prototype, NOT the shipped code; all its proofs "
        f"verified): p50 {quantile(proofs.one_query_ms, 0.5):.3f} ms, p99 "
        f"{quantile(proofs.one_query_ms, 0.99):.3f} ms."
    )
    notes.append(
        f"B correctness: root rebuilt from stored nodes (`services.root_at`) equals the in-memory "
        f"root: {proofs.stored_root_matches}; {proofs.verified}/{proofs.samples} proofs verify "
        f"with `merkle.verify_inclusion` against it (e.g. index {index:,}, {length} hashes); the "
        f"same proof with one bit of the leaf flipped is rejected: {proofs.tampered_rejected}."
    )

    say("C. StreamingRoot against hashlib ...")
    streaming = bench_streaming(loaded.leaves, loaded.root, args.repeats)
    notes.append(
        f"C: StreamingRoot over the {args.scale:,} leaf hashes already in memory, "
        f"{len(streaming.ours_s)} runs, each followed by the baseline: "
        f"`hashlib.sha256(block).digest()` {streaming.calls:,} times (one call per inner node, "
        f"65-byte input). Seconds, ours | hashlib: "
        + "; ".join(
            f"{a:.2f} | {b:.2f}" for a, b in zip(streaming.ours_s, streaming.hashlib_s, strict=True)
        )
        + ". Rates are from the medians, the ratio is the median of the per-pair ratios. For "
        "scale: "
        f"one hashlib call over all {65 * streaming.calls / 1e6:.0f} MB took "
        f"{streaming.bulk_s:.2f} s."
    )
    del loaded

    verify: VerifyResult | None = None
    if args.verify_timeout > 0:
        say("C2. `custodia ledger verify` end to end (first `custodia synth` of SCALE / 3) ...")
        verify = bench_verify(args.server, args.scale, args.verify_timeout)
        notes.append(
            "C2: `custodia ledger verify` (local database) as a separate process, wall clock, "
            f"over a real registry made for it by `custodia synth --detentions "
            f"{verify.detentions}` in a database of its own (the tree of B has leaves that "
            "stand for no event, which the verifier refuses): Django start-up, download of every "
            "leaf in pages of 10,000, StreamingRoot, signature check, every event hashed again "
            "and every leaf matched to its event or record. Result: "
            f"{'ok' if verify.ok else 'NOT ok'} ({verify.tail})."
        )

    say("A. Appending (on top of the loaded tree) ...")
    actor = setup_actor()
    institution = actor.institution
    assert institution is not None
    slots = [Slot(d, 2) for d in register(actor, args.detentions, 0)]
    append = alternate(
        args.rows,
        args.repeats,
        lambda n: insert_events(slots, n, actor, institution, ledger=False),
        lambda n: insert_events(slots, n, actor, institution, ledger=True),
    )
    plain_share = sql_share(lambda: insert_events(slots, 1, actor, institution, ledger=False), 200)
    ledger_share = sql_share(lambda: insert_events(slots, 1, actor, institution, ledger=True), 200)
    record: AppendResult | None = None
    if args.record_rows > 0:
        say("A2. `event_record` with and without the ledger ...")
        folios = [d.folio for d in register(actor, args.record_detentions, args.detentions)]
        record = alternate(
            args.record_rows,
            args.repeats,
            lambda n: record_events(folios, n, actor, ledger=False),
            lambda n: record_events(folios, n, actor, ledger=True),
        )
    appended_ok, size = check_appended()
    from django.conf import settings

    notes.append(
        f"A: {args.repeats} rounds of {args.rows:,} events per variant (after a warm-up), "
        f"alternating which variant goes first; figures are medians of the rounds, the ratio "
        f"the median of per-round time ratios. Each event is a `note` CustodyEvent on one of "
        f"{args.detentions} detentions registered with `detention_register`, in its own "
        f"transaction (`transaction.atomic()`); the ledger variant also calls `append_event` "
        f"(the next index taken under the head row's lock, the leaf, any completed subtree "
        f"nodes, and a checkpoint signed at most every "
        f"{settings.CUSTODIA_CHECKPOINT_INTERVAL_SECONDS:g} s, the default). "
        f"Appends start at tree size {args.scale:,}. Rounds (events/s, plain | ledger): "
        + "; ".join(
            f"{p:,.0f} | {q:,.0f}"
            for p, q in zip(append.plain_rates, append.ledger_rates, strict=True)
        )
        + "."
    )
    notes.append(
        f"A, where the time goes (200 further events each, Django execute wrapper): plain "
        f"insert {plain_share.describe()}; with ledger {ledger_share.describe()}. The commit "
        "(one fsync, synchronous_commit=on) is in the totals only."
    )
    if record is not None:
        notes.append(
            f"A2: `event_record(kind='note')` — the real user path (row lock on the detention, "
            f"state machine, projection update, outbox, access log) over "
            f"{args.record_detentions} detentions, {args.repeats} rounds of "
            f"{args.record_rows:,} per variant; baseline is the same call with `append_event` "
            "patched to a no-op in this process. Rounds (events/s, without | with ledger): "
            + "; ".join(
                f"{p:,.0f} | {q:,.0f}"
                for p, q in zip(record.plain_rates, record.ledger_rates, strict=True)
            )
            + "."
        )
    notes.append(
        f"A correctness: after A the log holds {size:,} dense leaves; the newest event's stored "
        f"leaf equals its recomputed commitment and its inclusion proof verifies against the "
        f"root rebuilt from stored nodes: {appended_ok}."
    )
    finished = datetime.now(UTC)
    rows = rows_for(args, append, record, proofs, streaming, verify)
    return report(args, env, rows, notes, started, finished, code)


def default_output(scale: int) -> Path:
    """benchmarks/results/<date>-ledger.md at the default scale, <date>-ledger-10m.md etc.
    otherwise, so that runs at different scales on one day do not overwrite each other."""
    suffix = ""
    if scale != DEFAULT_SCALE:
        for unit, size in (("m", 1_000_000), ("k", 1_000)):
            if scale % size == 0:
                suffix = f"-{scale // size}{unit}"
                break
        else:
            suffix = f"-{scale}"
    return results_dir() / f"{run_date()}-ledger{suffix}.md"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # A terminated run still drops its database: SystemExit unwinds through the cleanup.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started = datetime.now(UTC)
    code = Provenance.now()
    with fresh_environment(args.server, keep=args.keep) as env:
        text = run(args, env, started, code)
    print()
    print(text)
    if args.output != "-":
        path = Path(args.output) if args.output else default_output(args.scale)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"Written to {path}")


if __name__ == "__main__":
    main()
