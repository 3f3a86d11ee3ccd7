"""The public consultation (DESIGN.md §1, API.md "Public consultation"): who is held now, with
only what the law allows anyone to see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from custodia.core import replica, sql
from custodia.core.accesslog import log_access
from custodia.core.errors import InvalidFields
from custodia.core.models import Channel, Institution, State
from custodia.registry.models import CustodyEvent, DetainedPerson, Detention

from . import names
from .search import Narrowing, find

QUERY_FIELDS = (
    "given_names",
    "first_surname",
    "second_surname",
    "state",
    "age",
    "detained_from",
    "detained_to",
)
MAX_RESULTS = 10  # more equally good matches than this: ask for a narrowing field instead
FIELD_LIMIT = 120

# The only fields the public consultation ever returns (API.md). Tests hold every answer to it.
PUBLIC_FIELDS = (
    "name",
    "detained_on",
    "detaining_authority",
    "current_authority",
    "current_location",
    "updated_at",
)


@dataclass(frozen=True)
class PublicQuery:
    given_names: str
    first_surname: str
    second_surname: str = ""
    state: str = ""
    age: int | None = None
    detained_from: date | None = None
    detained_to: date | None = None


@dataclass
class PublicAnswer:
    results: list[dict[str, str]]
    total_matches: int
    notice: str
    # The detentions behind ``results``, in order: for the benchmark's accounting, never
    # serialised.
    detention_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"results": self.results, "total_matches": self.total_matches, "notice": self.notice}


def parse_query(raw: dict[str, Any]) -> PublicQuery:
    """Check the typed fields; every problem is reported, in Spanish, with its field."""
    errors: list[tuple[str, str]] = []

    def text(field: str, label: str, required: bool) -> str:
        value = raw.get(field) or ""
        if not isinstance(value, str):
            errors.append((field, f"{label}: debe ser texto."))
            return ""
        value = value.strip()
        if len(value) > FIELD_LIMIT:
            errors.append((field, f"{label}: escriba como máximo {FIELD_LIMIT} caracteres."))
        elif required and not any(len(w) > 1 for w in names.words(value)):
            errors.append((field, f"{label}: es obligatorio (al menos una palabra)."))
        return value

    given = text("given_names", "Nombre(s)", True)
    first = text("first_surname", "Primer apellido", True)
    second = text("second_surname", "Segundo apellido", False)
    state = (raw.get("state") or "").strip() if isinstance(raw.get("state"), str) else ""
    if state and not State.objects.filter(code=state).exists():
        errors.append(("state", "Entidad: elija una entidad federativa de la lista."))
    age: int | None = None
    raw_age = raw.get("age")
    if raw_age not in (None, ""):
        try:
            age = int(str(raw_age).strip())
        except ValueError:
            age = -1
        if not 0 <= age <= 120:
            errors.append(("age", "Edad aproximada: un número entero de 0 a 120."))
            age = None
    dates: dict[str, date | None] = {}
    for name, label in (("detained_from", "Detenida desde"), ("detained_to", "Detenida hasta")):
        value = raw.get(name)
        dates[name] = None
        if value not in (None, ""):
            try:
                dates[name] = date.fromisoformat(str(value).strip())
            except ValueError:
                errors.append((name, f"{label}: use una fecha AAAA-MM-DD."))
    low, high = dates["detained_from"], dates["detained_to"]
    if low and high and low > high:
        errors.append(("detained_to", "Detenida hasta: debe ser igual o posterior a «desde»."))
    if errors:
        raise InvalidFields(errors)
    return PublicQuery(given, first, second, state, age, low, high)


@replica.serves_from_replica
def search(query: PublicQuery, *, channel: Channel | str, ip: str | None = None) -> PublicAnswer:
    name = names.parse(query.given_names, query.first_surname, query.second_surname)
    narrowing = Narrowing(
        state=query.state or None,
        age=query.age,
        detained_from=_bound(query.detained_from, start=True),
        detained_to=_bound(query.detained_to, start=False),
    )
    found = find(name, held_only=True, narrowing=narrowing)
    matches = found.matches
    notice = ""
    cut = 0 if found.truncated else clean_cut([score for score, _ in matches], MAX_RESULTS)
    shown = [pk for _, pk in matches[:cut]]
    more = f"{len(matches) - len(shown)}{' o más' if found.truncated else ''}"
    narrow = (
        "agregue el segundo apellido, la entidad, la edad aproximada o la fecha de la detención."
    )
    if not shown and matches:
        notice = (
            f"Hay {more} personas que coinciden por igual con lo que escribió. Para ver "
            f"resultados, {narrow}"
        )
    elif len(shown) < len(matches):
        notice = (
            f"Se muestran las coincidencias más cercanas; hay {more} personas más con un nombre "
            f"parecido. Si no es quien busca, {narrow}"
        )
    results = public_rows(shown)
    log_access(
        user=None,
        channel=channel,
        action="public.search",
        folios=[r.pop("_folio") for r in results] or [""],
        ip=ip,
    )
    return PublicAnswer(results, len(matches), notice, shown)


def clean_cut(scores: list[float], limit: int) -> int:
    """How many of the ranked ``scores`` to show: all if they fit in ``limit``; otherwise the
    most that fit without splitting people who score the same, so that the page never shows
    an arbitrary few of many equally good matches. 0 when even the best ones are too many."""
    if len(scores) <= limit:
        return len(scores)
    for k in range(limit, 0, -1):
        if scores[k - 1] > scores[k]:
            return k
    return 0


def _bound(day: date | None, *, start: bool) -> datetime | None:
    """Detention-date bounds in UTC, wide enough for every Mexican time zone."""
    if day is None:
        return None
    if start:  # the day starts earliest in the east (UTC-5)
        return datetime.combine(day, time.min, tzinfo=ZoneInfo("America/Cancun"))
    # ...and ends latest in the west (UTC-8): the bound is exclusive, so the next midnight there
    return datetime.combine(day, time.max, tzinfo=ZoneInfo("America/Tijuana"))


def public_rows(pks: list[int]) -> list[dict[str, str]]:
    """The allowed fields, in the order of ``pks`` (best match first). ``_folio`` is for the
    access log and is removed before anything is returned. One hand-written query that reads
    only these columns: it runs on every public search, where composing it with the ORM cost
    more than running it."""
    if not pks:
        return []
    where, params = sql.member_of("d.id", pks)
    with replica.read_connection().cursor() as cursor:
        cursor.execute(
            "SELECT d.id, d.folio, p.given_names, p.first_surname, p.second_surname, "  # noqa: S608
            "d.detained_at, d.place_timezone, i.name, d.current_authority, d.current_location, "
            "d.registered_at, "
            f"(SELECT MAX(e.recorded_at) FROM {sql.table(CustodyEvent)} e "
            "WHERE e.detention_id = d.id) "
            f"FROM {sql.table(Detention)} d "
            f"JOIN {sql.table(Institution)} i ON i.id = d.institution_id "
            f"LEFT JOIN {sql.table(DetainedPerson)} p ON p.detention_id = d.id "
            f"WHERE {where}",
            params,
        )
        by_pk = {row[0]: row for row in cursor.fetchall()}
    rows = []
    for pk in pks:
        (_, folio, given, first, second, detained_at, timezone, institution, authority, location,
         registered_at, last) = by_pk[pk]  # fmt: skip
        detained = sql.aware(detained_at)
        updated = sql.aware(last) or sql.aware(registered_at)
        assert detained and updated  # NOT NULL columns
        rows.append(
            {
                "name": " ".join(p for p in (given, first, second) if p),
                "detained_on": detained.astimezone(ZoneInfo(timezone)).date().isoformat(),
                "detaining_authority": institution,
                "current_authority": authority,
                "current_location": location or "",
                "updated_at": updated.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "_folio": folio,
            }
        )
    return rows
