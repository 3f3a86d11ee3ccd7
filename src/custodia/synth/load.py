"""Writing the synthetic nation: COPY on PostgreSQL, executemany on SQLite, one transaction per
chunk; then the derived tables (name index, report counts) and a signed checkpoint.

On PostgreSQL the chunks are drawn by forked generator processes, one per core (each
detention draws from a random stream of its own, so any process can draw any chunk). Each
hands over its chunks with the static tables already as the text of their COPY statements;
this process takes them in order, does the one sequential step (officer and event ids, leaf
indexes, Merkle nodes: ``generate.Sealer``) and streams them to the server. Drawing is most of
the work, and it now runs beside the server's storing on every core.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from queue import Empty
from typing import Any, NamedTuple, Protocol

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from custodia.core import bulk, partitions

from . import generate
from .nation import Nation, build_nation

QUEUE_DEPTH = 2  # chunks waiting per generator process


class SynthError(Exception):
    """The load cannot start (the message says why, in Spanish)."""


@dataclass
class Loaded:
    rows_by_table: dict[str, int] = field(default_factory=dict)  # model label -> rows written
    copy_seconds: float = 0.0  # the write phase: the rows, then their indexes and keys
    parts: dict[str, float] = field(default_factory=dict)  # of the write phase -> seconds
    steps: dict[str, float] = field(default_factory=dict)  # derived step -> seconds

    @property
    def detentions(self) -> int:
        return self.rows_by_table.get("registry.Detention", 0)

    @property
    def events(self) -> int:
        return self.rows_by_table.get("registry.CustodyEvent", 0)

    @property
    def leaves(self) -> int:
        return self.rows_by_table.get("ledger.LedgerLeaf", 0)

    @property
    def rows(self) -> int:
        return sum(self.rows_by_table.values())


class Bar(Protocol):
    def update(self, n: int = 1) -> object: ...


Bars = Callable[[str, int], AbstractContextManager[Bar]]  # (description, total) -> a bar


@contextmanager
def no_bar(description: str, total: int) -> Iterator[Bar]:
    class Silent:
        def update(self, n: int = 1) -> None:
            pass

    yield Silent()


def check_empty() -> None:
    from custodia.ledger.models import LedgerLeaf
    from custodia.registry.models import Detention

    if Detention.objects.exists() or LedgerLeaf.objects.exists():
        raise SynthError(
            "custodia synth llena un registro vacío, y esta base ya tiene detenciones o hojas "
            "del libro. Use una base nueva (DATABASE_URL) o borre var/custodia.sqlite3."
        )


def load(
    count: int,
    seed: int,
    start: date,
    end: date,
    *,
    chunk_size: int = 10_000,
    now: datetime | None = None,
    progress: Callable[[int], object] = lambda n: None,
    say: Callable[[str], object] = lambda text: None,
    bars: Bars = no_bar,
) -> Loaded:
    """Build the nation and write ``count`` detentions with everything they entail."""
    check_empty()
    now = now or timezone.now()
    with transaction.atomic():
        nation = build_nation(seed, start, end)
    loaded = Loaded()
    begun = time.perf_counter()
    if connection.vendor == "postgresql":
        # The events are history: each month of it needs its partition before the load, or
        # it would all land in the default one.
        partitions.ensure(start)
        # As pg_restore does: the foreign keys of the tables being filled are dropped for the
        # load and added back after it, which checks every row at once (one join per key)
        # instead of one lookup per row and key. Added back whatever happens, and timed.
        # Their other indexes too, built again after the load, each from one sorted pass
        # over its table: cheaper than keeping twenty indexes ordered row by row, and the
        # unique ones check every row as they are built.
        keys = _foreign_keys()
        _drop(keys)
        indexes = _secondary_indexes()
        _drop_indexes(indexes)
        try:
            _load_postgres(nation, count, seed, start, end, now, chunk_size, progress, loaded)
        finally:
            loaded.parts["filas (COPY)"] = time.perf_counter() - begun
            say("índices (se construyen de una vez)…")
            began = time.perf_counter()
            _add_indexes(indexes)
            loaded.parts["índices"] = time.perf_counter() - began
            say("claves foráneas (se verifican todas las filas)…")
            began = time.perf_counter()
            _add(keys)
            loaded.parts["claves foráneas"] = time.perf_counter() - began
    else:
        _load_here(nation, count, seed, start, end, now, chunk_size, progress, loaded)
    loaded.copy_seconds = time.perf_counter() - begun
    finish(loaded, say, bars)
    return loaded


FILLED = (
    "registry.Detention", "registry.DetainedPerson", "registry.Officer",
    "registry.DetentionHolder", "registry.CustodyEvent", "ledger.LedgerLeaf",
    "ledger.LedgerNode", "reports.ZeroReport",
)  # fmt: skip


def _foreign_keys() -> list[tuple[str, str, str]]:
    """(table, constraint, definition) of the foreign keys of the tables synth fills."""
    tables = [apps.get_model(label)._meta.db_table for label in FILLED]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) "
            "ORDER BY 1, 2",
            [tables],
        )
        return [(table.strip('"'), name, definition) for table, name, definition in cursor]


def _drop(keys: list[tuple[str, str, str]]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        for table, name, _ in keys:
            cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')


def _add(keys: list[tuple[str, str, str]]) -> None:
    """The keys back, every row checked, on two connections side by side. A plain table's key
    is added NOT VALID (a moment's lock, no check) and then validated, which locks only its
    own table against writes; a partitioned table's keys (PostgreSQL 15 cannot add them NOT
    VALID) are added whole, which also locks the table they reference. So the partitioned
    tables' keys (the custody events, the largest) go on one connection and the validations
    on the other; where they meet on a table, one waits for the other."""
    connection.close_if_unusable_or_obsolete()
    partitioned = _partitioned({table for table, _, _ in keys})
    whole = [key for key in keys if key[0] in partitioned]
    plain = [key for key in keys if key[0] not in partitioned]
    with transaction.atomic(), connection.cursor() as cursor:
        for table, name, definition in plain:
            cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition} NOT VALID')

    def add_whole(cursor: Any) -> None:
        for table, name, definition in whole:
            cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')

    def validate(cursor: Any) -> None:
        for table, name, _ in plain:
            cursor.execute(f'ALTER TABLE "{table}" VALIDATE CONSTRAINT "{name}"')

    _side_by_side(add_whole, validate)


def _partitioned(tables: set[str]) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'p' AND relname = ANY(%s)",
            [sorted(tables)],
        )
        return {name for (name,) in cursor}


def _side_by_side(*jobs: Callable[[Any], None]) -> None:
    """Each job with a cursor of its own connection (autocommit: each statement its own
    transaction), the first in this thread, the others in threads; the first failure is
    raised once all have stopped."""
    failures: list[BaseException] = []

    def run(job: Callable[[Any], None]) -> None:
        own = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with own.cursor() as cursor:
                job(cursor)
        except BaseException as failure:  # raised again below, in this thread
            failures.append(failure)
        finally:
            own.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs[1:]]
    for thread in threads:
        thread.start()
    try:
        with connection.cursor() as cursor:
            jobs[0](cursor)
    finally:
        for thread in threads:
            thread.join()
    if failures:
        raise failures[0]


class Index(NamedTuple):
    table: str
    name: str
    definition: str  # CREATE [UNIQUE] INDEX …, or the constraint's definition
    constraint: bool  # a UNIQUE or EXCLUDE constraint rather than a bare index


def _secondary_indexes() -> list[Index]:
    """The indexes of the tables synth fills, but their primary keys and any index a foreign
    key of another table relies on (it stays, and is kept current row by row)."""
    tables = [apps.get_model(label)._meta.db_table for label in FILLED]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.relname, i.relname, c.conname IS NOT NULL, "
            "COALESCE(pg_get_constraintdef(c.oid), pg_get_indexdef(x.indexrelid)) "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_class t ON t.oid = x.indrelid "
            "LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid "
            "AND c.contype IN ('u', 'x') "
            "WHERE x.indrelid = ANY(%s::regclass[]) AND NOT x.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' "
            "AND f.conindid = x.indexrelid) ORDER BY 1, 2",
            [tables],
        )
        return [
            Index(table, name, definition, constraint)
            for table, name, constraint, definition in cursor
        ]


def _drop_indexes(indexes: list[Index]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        for index in indexes:
            if index.constraint:
                cursor.execute(f'ALTER TABLE "{index.table}" DROP CONSTRAINT "{index.name}"')
            else:
                cursor.execute(f'DROP INDEX "{index.name}"')


def _add_indexes(indexes: list[Index]) -> None:
    connection.close_if_unusable_or_obsolete()
    with transaction.atomic(), connection.cursor() as cursor:
        # Sorting in memory rather than on disk: this runs once, on a machine set aside for it.
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        for index in indexes:
            if index.constraint:
                cursor.execute(
                    f'ALTER TABLE "{index.table}" ADD CONSTRAINT "{index.name}" {index.definition}'
                )
            else:
                # A partitioned table's index is shown "ON ONLY" the parent; built plainly, it
                # is built on every partition.
                cursor.execute(index.definition.replace(" ON ONLY ", " ON ", 1))


def _policy() -> Any:
    from custodia.registry.services import registry_policy

    return registry_policy()


def _chunks(count: int, size: int) -> Iterator[tuple[int, int]]:
    done = 0
    while done < count:
        step = min(size, count - done)
        yield done + 1, step
        done += step


Tables = list[tuple[str, tuple[str, ...], list[tuple[Any, ...]]]]  # (model label, fields, rows)


def _tally(loaded: Loaded, counts: dict[str, int]) -> None:
    """Add rows written, by model label."""
    for label, n in counts.items():
        loaded.rows_by_table[label] = loaded.rows_by_table.get(label, 0) + n


def batches(
    nation: Nation, count: int, seed: int, start: date, end: date, now: datetime, size: int
) -> Iterator[tuple[int, Tables]]:
    """(detentions, tables) per transaction, drawn in this process: each chunk of detentions,
    then the zero reports (which need every day's captures). The same rows as the PostgreSQL
    load draws in several processes."""
    gen = generate.Generator(nation, seed, start, end, now, _policy())
    sealer = generate.Sealer()
    captured: set[tuple[int, date]] = set()
    for first, step in _chunks(count, size):
        draft = gen.chunk(first, step)
        captured |= draft.captured
        yield step, sealer.seal(draft).tables()
    yield 0, _zero_reports(nation, captured, seed, start, end)


def _zero_reports(
    nation: Nation, captured: set[tuple[int, date]], seed: int, start: date, end: date
) -> Tables:
    zero = list(generate.zero_reports(nation, captured, seed, start, end))
    return [("reports.ZeroReport", generate.ZERO_REPORT_FIELDS, zero)]


def _load_here(
    nation: Nation,
    count: int,
    seed: int,
    start: date,
    end: date,
    now: datetime,
    chunk_size: int,
    progress: Callable[[int], object],
    loaded: Loaded,
) -> None:
    """Generate and write in this process (SQLite, which writes from one process anyway)."""
    for size, tables in batches(nation, count, seed, start, end, now, chunk_size):
        with transaction.atomic():
            for label, fields, rows in tables:
                bulk.insert_rows(apps.get_model(label), fields, rows)
        _tally(loaded, {label: len(rows) for label, _, rows in tables})
        progress(size)


def _draw(
    queue: Any,
    worker: int,
    workers: int,
    generator: generate.Generator,
    count: int,
    chunk_size: int,
) -> None:
    """A generator process: chunks ``worker``, ``worker + workers``, … in order, each as the
    COPY bodies of its static tables and the draft the sequential step needs; then "done"."""
    try:
        for number, (first, step) in enumerate(_chunks(count, chunk_size)):
            if number % workers != worker:
                continue
            draft = generator.chunk(first, step)
            queue.put(("draft", step, _bodies(draft.static_tables()), draft.sequential()))
        queue.put(("done",))
    except BaseException:
        queue.put(("error", traceback.format_exc()))


def processes() -> int:
    """Processes for a step that splits its work: one per core this process may run on (at
    least one, at most four)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


def _load_postgres(
    nation: Nation,
    count: int,
    seed: int,
    start: date,
    end: date,
    now: datetime,
    chunk_size: int,
    progress: Callable[[int], object],
    loaded: Loaded,
) -> None:
    generator = generate.Generator(nation, seed, start, end, now, _policy())
    workers = min(processes(), max(1, -(-count // chunk_size)))
    connections.close_all()  # the children must not share the parent's socket
    context = multiprocessing.get_context("fork")
    queues = [context.Queue(maxsize=QUEUE_DEPTH) for _ in range(workers)]
    children = [
        context.Process(
            target=_draw,
            args=(queues[worker], worker, workers, generator, count, chunk_size),
            daemon=True,
        )
        for worker in range(workers)
    ]
    for child in children:
        child.start()
    sealer = generate.Sealer()
    captured: set[tuple[int, date]] = set()
    finished = False
    try:
        for number, _ in enumerate(_chunks(count, chunk_size)):
            message = _next(queues[number % workers], children[number % workers])
            if message[0] == "error":
                raise SynthError(f"El generador falló. {PARTIAL}\n{message[1]}")
            if message[0] != "draft":
                raise SynthError(f"El generador terminó antes de tiempo. {PARTIAL}")
            _, size, bodies, draft = message
            captured |= draft.captured
            _copy(bodies + _bodies(sealer.seal(draft).sequential_tables()), loaded)
            progress(size)
        for worker in range(workers):
            if _next(queues[worker], children[worker])[0] != "done":
                raise SynthError(f"El generador mandó más de lo pedido. {PARTIAL}")
        _copy(_bodies(_zero_reports(nation, captured, seed, start, end)), loaded)
        finished = True
    finally:
        for child in children:  # done and gone, or (after a failure) stopped at once
            child.join(timeout=30 if finished else 0)
            if child.is_alive():
                child.kill()


Bodies = list[tuple[str, tuple[str, ...], bytes, int]]  # (model label, fields, COPY body, rows)


def _bodies(tables: Tables) -> Bodies:
    """Each table's rows as the text body of its COPY (see ``bulk.copy_text``)."""
    return [(label, fields, bulk.copy_text(rows), len(rows)) for label, fields, rows in tables]


def _copy(bodies: Bodies, loaded: Loaded) -> None:
    """One transaction: each (model label, fields, COPY body, rows) in order."""
    with transaction.atomic():
        for label, fields, body, _ in bodies:
            bulk.copy_prepared(apps.get_model(label), fields, body)
    _tally(loaded, {label: rows for label, _, _, rows in bodies})


PARTIAL = (
    "La base quedó con una carga parcial: bórrela y créela de nuevo antes de repetir "
    "custodia synth."
)


def _next(queue: Any, child: Any) -> Any:
    """The generator's next message; a SynthError if it died without sending one."""
    while True:
        try:
            return queue.get(timeout=5)
        except Empty:
            if not child.is_alive():
                raise SynthError(
                    f"El proceso generador terminó sin avisar (código {child.exitcode}; ¿falta "
                    f"de memoria?). {PARTIAL}"
                ) from None


def finish(loaded: Loaded, say: Callable[[str], object], bars: Bars = no_bar) -> None:
    """What follows the rows: sequences, the ledger head and a signed checkpoint, the name
    index, the report's counts and fresh planner statistics. The two long steps show a bar."""
    from custodia.ledger.models import LedgerHead
    from custodia.ledger.services import make_checkpoint
    from custodia.lookup import index
    from custodia.lookup.models import NameEntry, NameKey, NameVariant
    from custodia.registry.models import Detention
    from custodia.reports import rollup

    def step(name: str, action: Callable[[], object]) -> None:
        say(f"{name}…")
        began = time.perf_counter()
        action()
        loaded.steps[name] = time.perf_counter() - began

    def ledger() -> None:
        with transaction.atomic():
            LedgerHead.objects.filter(pk=1).update(size=loaded.leaves)
            make_checkpoint(loaded.leaves, force=True)

    def names() -> None:
        with transaction.atomic(), bars("índice de nombres", loaded.detentions) as bar:
            index.rebuild(Detention, NameEntry, NameKey, NameVariant, progress=bar.update)

    def counts() -> None:
        # One process judging the chunks per core, this one writing (PostgreSQL only).
        workers = processes()
        with bars("conteos del informe", loaded.detentions + loaded.events) as bar:
            rollup.rebuild(bar.update, workers=workers)

    if connection.vendor == "postgresql":
        step("secuencias", _reset_sequences)
        # Before the derived steps read the registry in thousands of small range queries:
        # a table loaded by COPY has no statistics yet, and without them the planner joined
        # each chunk of 5,000 detentions to every one of 10 million people by a sequential
        # scan (seen at 10 M: the report counts ran for hours instead of minutes).
        step("estadísticas del registro (ANALYZE)", lambda: _analyze(FILLED))
    step("libro (punto de control firmado)", ledger)
    step("índice de nombres", names)
    step("conteos del informe", counts)
    if connection.vendor == "postgresql":
        step("estadísticas (ANALYZE)", lambda: _analyze(()))


def _reset_sequences() -> None:
    labels = ("registry.Detention", "registry.DetainedPerson", "registry.Officer",
              "registry.DetentionHolder", "registry.CustodyEvent", "ledger.LedgerNode",
              "reports.ZeroReport")  # fmt: skip
    with connection.cursor() as cursor:
        for label in labels:
            table = apps.get_model(label)._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
            )


def _analyze(labels: tuple[str, ...]) -> None:
    """ANALYZE these models' tables, or the whole database when none are named."""
    tables = ", ".join(connection.ops.quote_name(apps.get_model(label)._meta.db_table)
                       for label in labels)  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def default_period(months: int, today: date | None = None) -> tuple[date, date]:
    """The ``months`` whole months before the current one, up to today: [start, end)."""
    today = today or timezone.localdate()
    year, month = today.year, today.month
    for _ in range(months):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return date(year, month, 1), today + timedelta(days=1)  # today included, up to now
