"""Detentions sent in bulk by a state's own police system (issue 7): the batch endpoint
(``POST /api/v1/detentions:batch``) and ``custodia import detentions FILE.csv|FILE.jsonl``.

Each row is one detention as ``POST /api/v1/detentions`` takes it, plus ``external_id`` (the
record's identifier in the sending system) and, optionally, ``events``: the custody movements
the sending institution already recorded, in order, each as ``POST …/events`` takes it. A row is
validated by the same rule catalogue as a single capture and lands whole or not at all: the
detention, its events, their ledger leaves and the report's counts in one transaction.

Import is idempotent on (institution, external id): a row already imported with the same
content answers ``existing`` with its folio and writes nothing; the same id with different
content is refused (RND-E161), since a correction is an event on the folio, not a resend.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Literal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from custodia.core import access, bulk
from custodia.core import workers as worker_pool
from custodia.core.models import Channel, User

from .models import SourceRecord
from .rules import RULES, Finding
from .services import (
    CachedCatalog,
    EventRejected,
    Prepared,
    RegistrationRejected,
    VersionConflict,
    detention_register,
    event_record,
    prepare_registration,
    write_registrations,
)

MAX_BATCH = 1000
CHUNK = 250  # rows written together in one transaction
MAX_EXTERNAL_ID = 100
RowStatus = Literal["created", "existing", "rejected"]
ROW_FIELDS = ("external_id", "events")


@dataclass
class RowResult:
    """What became of one row: its number (1 = the first data row), the sender's id, and the
    folio it created or already had, or the findings that refused it."""

    row: int
    external_id: str
    status: RowStatus
    folio: str | None = None
    warnings: list[Finding] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "external_id": self.external_id,
            "status": self.status,
            "folio": self.folio,
            "warnings": [w.as_dict() for w in self.warnings],
            "errors": [e.as_dict() for e in self.errors],
        }


@dataclass
class Summary:
    received: int = 0
    created: int = 0
    existing: int = 0
    rejected: int = 0

    def add(self, result: RowResult) -> None:
        self.received += 1
        setattr(self, result.status, getattr(self, result.status) + 1)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class Unreadable:
    """A line or row that could not even be read (bad JSON, extra CSV cells)."""

    def __init__(self, message: str):
        self.message = message


def import_rows(
    *,
    actor: User,
    rows: Iterable[tuple[int, Any]],
    channel: Channel | str,
    ip: str | None = None,
    chunk: int = CHUNK,
    workers: int = 1,
) -> Iterator[RowResult]:
    """Import numbered rows, yielding each row's result in row order as its chunk lands.
    Raises ``AccessDenied`` before reading a row if the actor may not register detentions.

    Rows are taken ``chunk`` at a time. Each row is checked by itself; those that pass and
    carry no history are written together in one transaction (``write_registrations``), so a
    chunk costs a few statements rather than a score per row. If that transaction fails (an id
    imported concurrently by another process), its rows are imported one by one instead, each
    in its own transaction, and so are rows with a history (``events``).

    ``workers`` > 1 (PostgreSQL): that many processes of their own check and write the chunks
    at once, each chunk still one transaction, results still in row order (``_in_processes``).
    They connect with this process's settings."""
    access.require_register_detention(actor)
    iterator = iter(rows)
    if workers > 1 and connection.vendor == "postgresql":
        yield from _in_processes(actor, iterator, channel, ip, chunk, workers)
        return
    while batch := list(islice(iterator, chunk)):
        yield from _import_chunk(actor, batch, channel, ip)


def _in_processes(
    actor: User,
    rows: Iterator[tuple[int, Any]],
    channel: Channel | str,
    ip: str | None,
    chunk: int,
    workers: int,
) -> Iterator[RowResult]:
    """Chunks written by ``workers`` processes at once. Row order still decides between two
    rows of the file with the same external id: a row whose id an earlier chunk already used
    is held back from its own chunk and imported here once every chunk before it has landed
    (results come back in order, and a chunk's result means its transaction committed), so it
    is answered as the resend it is (``existing`` or RND-E161)."""
    first_chunk: dict[str, int] = {}  # external id -> the chunk that uses it first
    held_back: dict[int, list[tuple[int, Any]]] = {}

    def calls() -> Iterator[tuple[Any, ...]]:
        for index, batch in enumerate(iter(lambda: list(islice(rows, chunk)), [])):
            own, later = [], []
            for number, row in batch:
                key = _external_id(row)
                if key is not None and first_chunk.setdefault(key, index) != index:
                    later.append((number, row))
                else:
                    own.append((number, row))
            held_back[index] = later
            yield (actor.pk, own, str(channel), ip)

    with worker_pool.pool(workers) as pool:
        results = worker_pool.ordered_map(
            pool, f"{__name__}:_chunk_task", calls(), ahead=2 * workers
        )
        for index, landed in enumerate(results):
            later = [
                import_row(actor=actor, number=number, row=row, channel=channel, ip=ip)
                for number, row in held_back.pop(index)
            ]
            yield from sorted([*landed, *later], key=lambda result: result.row)


def _external_id(row: Any) -> str | None:
    if isinstance(row, dict) and isinstance(row.get("external_id"), str):
        return str(row["external_id"]).strip() or None
    return None


def _chunk_task(
    actor_id: int, batch: list[tuple[int, Any]], channel: str, ip: str | None
) -> list[RowResult]:
    """One chunk, in a process of its own (``import_rows(workers=…)``)."""
    actor = User.objects.select_related("institution").get(pk=actor_id)
    access.require_register_detention(actor)
    return _import_chunk(actor, batch, channel, ip)


def _import_chunk(
    actor: User, batch: list[tuple[int, Any]], channel: Channel | str, ip: str | None
) -> list[RowResult]:
    institution = actor.institution
    assert institution is not None
    results: dict[int, RowResult] = {}
    one_by_one: list[tuple[int, Any]] = []
    candidates: list[tuple[int, str, dict[str, Any]]] = []
    first_of: dict[str, int] = {}  # external id -> the row that uses it first in the chunk
    for number, row in batch:
        problem = _shape_problem(number, row)
        if problem is not None:
            results[number] = problem
            continue
        external_id = row["external_id"].strip()
        first = first_of.setdefault(external_id, number)
        if row.get("events") or first != number:
            # A history goes one by one; so does an id used again, after the row that used it
            # first (row order decides which one is the record and which one the resend).
            one_by_one.append((number, row))
        else:
            candidates.append((number, external_id, row))
    known = {
        record.external_id: record
        for record in SourceRecord.objects.select_related("detention").filter(
            institution=institution, external_id__in=[e for _, e, _ in candidates]
        )
    }
    catalog = CachedCatalog()
    ready: list[tuple[int, str, dict[str, Any], Prepared]] = []
    for number, external_id, row in candidates:
        if external_id in known:
            results[number] = RowResult(number, external_id, *_answer(known[external_id], row))
            continue
        capture = {k: v for k, v in row.items() if k not in ROW_FIELDS}
        try:
            prepared = prepare_registration(actor, capture, catalog=catalog)
        except RegistrationRejected as rejected:
            results[number] = RowResult(
                number,
                external_id,
                "rejected",
                warnings=rejected.warnings,
                errors=rejected.findings,
            )
            continue
        ready.append((number, external_id, row, prepared))
    if ready:
        try:
            with transaction.atomic():
                registrations = write_registrations(
                    actor, [p for *_, p in ready], channel=channel, ip=ip
                )
                salts = [secrets.token_hex(16) for _ in ready]
                now = timezone.now()
                bulk.add_rows(
                    SourceRecord,
                    ("institution", "external_id", "detention", "state", "salt", "digest",
                     "imported_at"),
                    [
                        (institution.pk, external_id, registration.detention.pk,
                         registration.detention.state_id, salt, row_digest(row, salt), now)
                        for (_, external_id, row, _), registration, salt in zip(
                            ready, registrations, salts, strict=True
                        )
                    ],
                )  # fmt: skip
        except IntegrityError:
            one_by_one.extend((number, row) for number, _, row, _ in ready)
        else:
            for (number, external_id, _, _), registration in zip(ready, registrations, strict=True):
                results[number] = RowResult(
                    number,
                    external_id,
                    "created",
                    registration.detention.folio,
                    warnings=registration.warnings,
                )
    for number, row in sorted(one_by_one, key=lambda item: item[0]):
        results[number] = import_row(actor=actor, number=number, row=row, channel=channel, ip=ip)
    return [results[number] for number, _ in batch]


def _shape_problem(number: int, row: Any) -> RowResult | None:
    """The row's result if it cannot even be considered: unreadable, not an object, no usable
    external id, or a history that is not a list of objects."""
    if isinstance(row, Unreadable):
        return RowResult(
            number, "", "rejected", errors=[RULES["RND-E162"].finding("", row.message)]
        )
    if not isinstance(row, dict):
        message = "La fila no es un objeto."
        return RowResult(number, "", "rejected", errors=[RULES["RND-E162"].finding("", message)])
    external_id = row.get("external_id")
    if (
        not isinstance(external_id, str)
        or not external_id.strip()
        or len(external_id.strip()) > MAX_EXTERNAL_ID
        or not external_id.strip().isprintable()
    ):
        shown = external_id[:MAX_EXTERNAL_ID] if isinstance(external_id, str) else ""
        return RowResult(number, shown, "rejected", errors=[RULES["RND-E160"].finding()])
    events = row.get("events", [])
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        return RowResult(
            number, external_id.strip(), "rejected", errors=[RULES["RND-E163"].finding()]
        )
    return None


def import_row(
    *, actor: User, number: int, row: Any, channel: Channel | str, ip: str | None = None
) -> RowResult:
    """One row in its own transaction, with its history if it has one."""
    unusable = _shape_problem(number, row)
    if unusable is not None:
        return unusable
    external_id = row["external_id"].strip()
    events = row.get("events", [])
    capture = {k: v for k, v in row.items() if k not in ROW_FIELDS}
    institution = actor.institution
    assert institution is not None  # require_register_detention saw to it

    known = _known(institution.pk, external_id, row)
    if known is not None:
        return RowResult(number, external_id, *known)
    salt = secrets.token_hex(16)
    try:
        with transaction.atomic():
            registration = detention_register(actor=actor, data=capture, channel=channel, ip=ip)
            folio = registration.detention.folio
            for position, event in enumerate(events, start=1):
                try:
                    event_record(actor=actor, folio=folio, data=event, channel=channel, ip=ip)
                except EventRejected as rejected:
                    raise _EventProblem(position, rejected.findings) from None
                except access.AccessDenied as denied:
                    finding = RULES["RND-E164"].finding("kind", denied.message)
                    raise _EventProblem(position, [finding]) from None
                except VersionConflict as conflict:
                    message = (
                        f"expected_version no corresponde: antes de este movimiento el registro "
                        f"tiene la versión {conflict.current} (omita expected_version al importar)."
                    )
                    finding = RULES["RND-E163"].finding("expected_version", message)
                    raise _EventProblem(position, [finding]) from None
            SourceRecord.objects.create(
                institution=institution,
                external_id=external_id,
                detention=registration.detention,
                state_id=registration.detention.state_id,
                salt=salt,
                digest=row_digest(row, salt),
            )
    except RegistrationRejected as rejected:
        return RowResult(
            number, external_id, "rejected", warnings=rejected.warnings, errors=rejected.findings
        )
    except _EventProblem as failed:
        return RowResult(number, external_id, "rejected", errors=failed.findings)
    except IntegrityError:
        # Another import of the same id landed first: answer as a resend of it.
        known = _known(institution.pk, external_id, row)
        if known is None:
            raise
        return RowResult(number, external_id, *known)
    return RowResult(number, external_id, "created", folio, warnings=registration.warnings)


class _EventProblem(Exception):
    def __init__(self, position: int, findings: list[Finding]):
        super().__init__(position)
        self.findings = [
            Finding(f.code, f"events[{position}].{f.field}".rstrip("."), f.message)
            for f in findings
        ]


def _known(
    institution_id: int, external_id: str, row: dict[str, Any]
) -> tuple[RowStatus, str | None, list[Finding], list[Finding]] | None:
    record = (
        SourceRecord.objects.select_related("detention")
        .filter(institution_id=institution_id, external_id=external_id)
        .first()
    )
    return None if record is None else _answer(record, row)


def _answer(
    record: SourceRecord, row: dict[str, Any]
) -> tuple[RowStatus, str | None, list[Finding], list[Finding]]:
    """A row whose external id was imported before: the same content or not."""
    folio = record.detention.folio
    if record.digest == row_digest(row, record.salt):
        return "existing", folio, [], []
    message = (
        f"El identificador externo ya se importó con otros datos (folio {folio}). Una "
        "corrección se registra como movimiento sobre ese folio, no reenviando la fila."
    )
    return "rejected", folio, [], [RULES["RND-E161"].finding("external_id", message)]


_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def row_digest(row: dict[str, Any], salt: str) -> str:
    """A salted digest of the row's content, to tell a resend from a different record under
    the same id without keeping a second copy of the personal data."""
    canonical = _CANONICAL.encode(row)
    return hashlib.sha256(f"{salt}:{canonical}".encode()).hexdigest()


# --- Files -------------------------------------------------------------------------------------

# CSV cells are text; these columns are converted so the schema sees the API's types. A cell
# that does not convert is passed on as text and rejected with the schema's own message.
_INTEGER_COLUMNS = {"person.age"}
_NUMBER_COLUMNS = {"place.latitude", "place.longitude"}
_BOOLEAN_COLUMNS = {"force_used"}
_TRUE = {"true", "verdadero", "sí", "si", "1"}
_FALSE = {"false", "falso", "no", "0"}


class FileProblem(Exception):
    """The file as a whole cannot be read (unknown extension, no header, not UTF-8)."""


def read_file(path: Path) -> tuple[int | None, Iterator[tuple[int, Any]]]:
    """The rows of a CSV or JSON Lines file, numbered from 1, with their count when it is
    cheap to know (for the progress bar). Raises ``FileProblem`` for an unusable file."""
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".jsonl", ".ndjson"}:
        raise FileProblem(
            f"{path.name}: use un archivo .csv o .jsonl (JSON Lines, un objeto por línea)."
        )
    try:
        data = path.read_bytes()
    except OSError as error:
        raise FileProblem(f"No se pudo leer {path}: {error.strerror or error}.") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileProblem(
            f"{path.name} no está en UTF-8 (byte {error.start}); guárdelo como «CSV UTF-8»."
        ) from None
    if suffix == ".csv":
        return csv_rows(text)
    # Lines end at "\n" only: U+2028 and U+2029 are legal inside JSON strings.
    lines = [
        (n, line.removesuffix("\r"))
        for n, line in enumerate(text.split("\n"), start=1)
        if line.strip()
    ]
    return len(lines), _jsonl_rows(lines)


def _jsonl_rows(lines: list[tuple[int, str]]) -> Iterator[tuple[int, Any]]:
    for number, line in lines:
        try:
            yield number, json.loads(line, parse_constant=_no_constant)
        except json.JSONDecodeError as error:
            yield (
                number,
                Unreadable(
                    f"La línea {number} no es JSON válido (columna {error.colno}): revise "
                    "comillas, comas y llaves."
                ),
            )
        except ValueError as error:  # NaN, Infinity: _no_constant's Spanish message
            yield number, Unreadable(f"La línea {number} no es JSON válido: {error}.")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} no es un número JSON válido")


def csv_rows(text: str) -> tuple[int, Iterator[tuple[int, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise FileProblem("El archivo CSV está vacío: falta la fila de encabezados.") from None
    except csv.Error as error:
        raise FileProblem(f"El encabezado del CSV no se pudo leer: {error}.") from None
    if "external_id" not in header:
        raise FileProblem(
            "El CSV necesita una columna external_id (el identificador del registro en su "
            "sistema); vea docs/import.md para las columnas."
        )
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise FileProblem(f"Columnas repetidas en el encabezado: {', '.join(duplicated)}.")
    try:
        body = [row for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise FileProblem(f"El CSV no se pudo leer (línea {reader.line_num}): {error}.") from None
    return len(body), (
        (number, _csv_row(header, cells)) for number, cells in enumerate(body, start=1)
    )


def _csv_row(header: list[str], cells: list[str]) -> Any:
    if len(cells) > len(header):
        return Unreadable(
            f"La fila tiene {len(cells)} celdas y el encabezado {len(header)} columnas."
        )
    row: dict[str, Any] = {}
    for name, cell in zip(header, cells, strict=False):
        value = cell.strip()
        if not value:
            continue
        _put(row, name.split("."), _typed(name, value))
    officers = row.get("officers")
    if isinstance(officers, dict):
        # officers.1.name, officers.2.name… become the list, in the order of their numbers.
        row["officers"] = [officers[k] for k in sorted(officers, key=_position)]
    return row


def _position(key: str) -> tuple[int, str]:
    try:
        return int(key), ""
    except ValueError:
        return 10**9, key


def _put(target: dict[str, Any], path: list[str], value: Any) -> None:
    for part in path[:-1]:
        nested = target.setdefault(part, {})
        if not isinstance(nested, dict):
            return  # "person" and "person.age" both given: the schema reports the text one
        target = nested
    target[path[-1]] = value


def _typed(name: str, value: str) -> Any:
    if name in _INTEGER_COLUMNS:
        try:
            return int(value)
        except ValueError:
            return value  # the schema says "Debe ser un número entero."
    if name in _NUMBER_COLUMNS:
        try:
            return float(value)
        except ValueError:
            return value
    if name in _BOOLEAN_COLUMNS:
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return value


ERROR_COLUMNS = ("fila", "id_externo", "resultado", "folio", "codigo", "campo", "mensaje")
STATUS_TEXT = {"created": "registrada", "existing": "ya existía", "rejected": "rechazada"}


def error_report_rows(results: Iterable[RowResult]) -> Iterator[tuple[Any, ...]]:
    """One line per problem of each rejected row (and per warning of each landed one), in
    Spanish, for the clerk who fixes the file."""
    for r in results:
        for finding in r.errors:
            yield (r.row, r.external_id, STATUS_TEXT[r.status], r.folio or "", *_cells(finding))
        for finding in r.warnings:
            if r.status != "rejected":
                yield (r.row, r.external_id, STATUS_TEXT[r.status], r.folio or "", *_cells(finding))


def _cells(finding: Finding) -> tuple[str, str, str]:
    return finding.code, finding.field, finding.message
