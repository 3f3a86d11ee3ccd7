"""The monthly report's rollup (docs/reports.md, "Speed"): one fact per detention and counts per
state, institution and month, kept current in the transaction of every registry write.

A **fact** (``Fact``) is what the report reads of a detention, already in the form it is counted
in: its local month, day and hour, its basis, sex, age band and outcome, its delays in buckets,
which fields it fills, which legal clocks it breached by the end of its month. The **counts**
(``StateMonthCount``, ``InstitutionMonthCount``) say, for each month, state (and institution),
how many facts have each key in each dimension (``DIMENSIONS``). A write to a detention computes
its fact again and adds the difference to the counts; events add their own counts (corrections,
late updates), once. The report then reads a few thousand counts instead of a month of rows.

Facts change with time alone only while a clock runs towards a due time inside the month
(``recheck_at``): those are counted again when read (``pending``) and by ``custodia notify``.
``rebuild`` counts everything from the registry; ``check`` compares a month with a recount.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from custodia.core import bulk
from custodia.core import workers as worker_pool
from custodia.core.models import POLICE_KINDS
from custodia.registry import clocks, custody
from custodia.registry.alerts import clock_policy
from custodia.registry.models import CustodyEvent, Detention, Officer, Sex

from .models import DetentionFact, InstitutionMonthCount, RollupState, StateMonthCount

# Raise when the form of a fact or of its counts changes: stored rollups are then counted again.
VERSION = 2  # 2: completeness counted per field and by points
CHUNK = 5000

AGE_BANDS = (
    ("0-11", 0, 11),
    ("12-17", 12, 17),
    ("18-29", 18, 29),
    ("30-44", 30, 44),
    ("45-59", 45, 59),
    ("60+", 60, 200),
)
UNKNOWN_AGE = "sin dato"

# Completeness (report section 3): each field, whether the law or the form requires it. A
# fact's ``fields`` has bit i set when the record fills FIELDS[i]. Required fields are enforced
# at capture, so gaps there point at other channels (bulk imports) or at "unknown" answers.
FIELDS = (
    ("given_names", "Nombre(s)", True),
    ("first_surname", "Primer apellido", True),
    ("sex", "Sexo (determinado)", True),
    ("age", "Edad o fecha de nacimiento", True),
    ("reason", "Motivo", True),
    ("officers", "Elementos aprehensores", True),
    ("receiving_authority", "Autoridad receptora", True),
    ("second_surname", "Segundo apellido", False),
    ("curp", "CURP", False),
    ("birth_date", "Fecha de nacimiento", False),
    ("nationality", "Nacionalidad", False),
    ("physical_condition", "Estado físico y lesiones", False),
    ("municipality", "Municipio", False),
    ("address", "Domicilio del lugar", False),
    ("coordinates", "Coordenadas", False),
    ("contact", "Persona de contacto", False),
    ("receiving_institution", "Autoridad receptora del catálogo", False),
    ("officers_cuip", "CUIP de todos los elementos", False),
)

# The legal clocks a fact records, one bit each (deaths in custody are counted by outcome).
CLOCK_BITS = tuple(name for name in clocks.CLOCKS if name != "death_in_custody")
_BIT = {name: 1 << i for i, name in enumerate(CLOCK_BITS)}


def month_key(year: int, month: int) -> int:
    return year * 100 + month


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year, month + 1) if month < 12 else (year + 1, 1)


def month_end(year: int, month: int, zone: str) -> datetime:
    """The first instant after the month in ``zone``."""
    return datetime.combine(date(*next_month(year, month), 1), time.min, tzinfo=_zone(zone))


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def age_band(age: int | None) -> str:
    if age is None:
        return UNKNOWN_AGE
    return next(label for label, low, high in AGE_BANDS if low <= age <= high)


def delay_bucket(delay: timedelta) -> int:
    """The bucket of a delay, named by its upper bound in whole minutes: to the minute up to two
    hours, then to 5 minutes up to a day, to the hour up to a week, to the day beyond. A delay
    of 61 min 10 s is in bucket 62 ("62 minutes or less"); medians and p90 are read off these
    bounds, and thresholds that fall on a bound (every default does) are counted exactly."""
    microseconds = delay // timedelta(microseconds=1)
    minutes = -(-microseconds // 60_000_000)  # ceiling, in integers
    for limit, step in ((120, 1), (1440, 5), (10080, 60)):
        if minutes <= limit:
            return -(-minutes // step) * step
    return -(-minutes // 1440) * 1440


@dataclass(frozen=True)
class Fact:
    """What the report counts of one detention (mirrors ``models.DetentionFact``)."""

    month: int
    state: str
    institution: int
    municipality: str
    day: int
    slot: int
    arrest_basis: str
    sex: str
    age_band: str
    outcome: str
    registration: int
    handover: int | None
    fields: int
    clocks: str
    warnings: str
    recheck_at: datetime | None


FACT_FIELDS = tuple(f.name for f in fields(Fact))

# Dimension: (fact field or None for a plain count, counted per state, per institution).
DIMENSIONS = {
    "total": (None, True, True),
    "registration": ("registration", True, True),
    "handover": ("handover", True, True),  # "": not handed over
    "field": ("fields", True, True),  # one count per field filled, keyed by its name
    "points": ("fields", True, True),  # completeness points (``points_of``) as the key
    "clocks": ("clocks", True, True),
    "basis": ("arrest_basis", True, False),
    "municipality": ("municipality", True, False),  # "": no data
    "sex": ("sex", True, False),
    "age": ("age_band", True, False),
    "outcome": ("outcome", True, False),
    "slot": ("slot", True, False),
    "day": ("day", False, True),
    "warnings": ("warnings", False, True),  # only records with a warning
}
# Events, by the local month of their recording, per the detention's state and per the
# institution that recorded them.
EVENT_DIMENSIONS = ("correction", "update", "late_update")

# A record's completeness points (the quality index): each field filled, required ones double.
FIELD_POINTS = tuple(2 if required else 1 for _, _, required in FIELDS)
MAX_POINTS = sum(FIELD_POINTS)


def points_of(mask: int) -> int:
    return sum(p for bit, p in enumerate(FIELD_POINTS) if mask >> bit & 1)


def _key(value: Any) -> str:
    return "" if value is None else str(value)


def _keys(dimension: str, fact: Fact) -> list[str]:
    column = DIMENSIONS[dimension][0]
    if column is None:
        return [""]
    if dimension == "field":
        return [name for bit, (name, _, _) in enumerate(FIELDS) if fact.fields >> bit & 1]
    if dimension == "points":
        return [str(points_of(fact.fields))]
    key = _key(getattr(fact, column))
    return [key] if key or dimension != "warnings" else []


def cells(fact: Fact) -> Iterator[tuple[bool, str, str]]:
    """(per institution?, dimension, key) for each count the fact adds one to."""
    for dimension, (_, per_state, per_institution) in DIMENSIONS.items():
        for key in _keys(dimension, fact):
            if per_state:
                yield False, dimension, key
            if per_institution:
                yield True, dimension, key


# --- facts ------------------------------------------------------------------------------------

COLUMNS = (
    "pk",
    "state_id",
    "institution_id",
    "municipality_id",
    "detained_at",
    "place_timezone",
    "registered_at",
    "arrest_basis",
    "status",
    "custody_state",
    "warning_codes",
    "reason",
    "receiving_name",
    "receiving_institution_id",
    "address",
    "latitude",
    "longitude",
    "contact_name",
    "contact_phone",
    "person__sex",
    "person__age",
    "person__given_names",
    "person__first_surname",
    "person__second_surname",
    "person__curp",
    "person__birth_date",
    "person__nationality",
    "person__physical_condition",
)


def _filled(v: Mapping[str, Any], officers: tuple[int, int]) -> int:
    """The ``fields`` bit mask of a record; ``officers``: (officers, officers without CUIP)."""
    n, without_cuip = officers
    checks = (
        bool(v["person__given_names"]),
        bool(v["person__first_surname"]),
        v["person__sex"] not in (None, "", Sex.UNKNOWN),
        v["person__age"] is not None or v["person__birth_date"] is not None,
        bool((v["reason"] or "").strip()),
        n > 0,
        bool(v["receiving_name"]),
        bool(v["person__second_surname"]),
        bool(v["person__curp"]),
        v["person__birth_date"] is not None,
        bool(v["person__nationality"]),
        bool((v["person__physical_condition"] or "").strip()),
        v["municipality_id"] is not None,
        bool(v["address"]),
        v["latitude"] is not None and v["longitude"] is not None,
        bool(v["contact_name"] or v["contact_phone"]),
        v["receiving_institution_id"] is not None,
        n > 0 and without_cuip == 0,
    )
    return sum(1 << i for i, ok in enumerate(checks) if ok)


def judge_clocks(
    state: custody.State, judged: datetime, end: datetime, policy: clocks.ClockPolicy
) -> tuple[int, int, datetime | None]:
    """The clocks breached by ``judged`` (the month's end, or now if the month has not ended),
    those of them still open then, and the next instant before ``end`` at which time alone
    changes that (a clock falls due, or ends at a recorded time still to come)."""
    breached = still_open = 0
    recheck: datetime | None = None
    for clock in clocks.clocks_for(state, judged, policy):
        bit = _BIT.get(clock.clock)
        if bit is None:
            continue
        if clock.ended_at is None or clock.ended_at > judged:  # still running then
            for moment in (clock.due_at, clock.ended_at):
                if moment is not None and judged < moment < end:
                    recheck = moment if recheck is None else min(recheck, moment)
        if clock.due_at >= judged:
            continue
        if clock.ended_at is None or clock.ended_at > judged:
            breached |= bit
            still_open |= bit
        elif clock.ended_at > clock.due_at:
            breached |= bit
    return breached, still_open, recheck


def fact_of(
    v: Mapping[str, Any], officers: tuple[int, int], now: datetime, policy: clocks.ClockPolicy
) -> Fact:
    """The fact of one detention read with ``COLUMNS``, judged at ``now``."""
    detained: datetime = v["detained_at"]
    zone = v["place_timezone"]
    local = detained.astimezone(_zone(zone))
    projection = v["custody_state"] or {}
    handed = projection.get("handed_over_at")
    breached = still_open = 0
    recheck = None
    if projection:
        end = month_end(local.year, local.month, zone)
        breached, still_open, recheck = judge_clocks(
            custody.state_from_json(projection), min(now, end), end, policy
        )
    return Fact(
        month=month_key(local.year, local.month),
        state=v["state_id"],
        institution=v["institution_id"],
        municipality=v["municipality_id"] or "",
        day=local.day,
        slot=local.weekday() * 24 + local.hour,
        arrest_basis=v["arrest_basis"],
        sex=v["person__sex"] or Sex.UNKNOWN,
        age_band=age_band(v["person__age"]),
        outcome=v["status"],
        registration=delay_bucket(v["registered_at"] - detained),
        handover=delay_bucket(datetime.fromisoformat(handed) - detained) if handed else None,
        fields=_filled(v, officers),
        clocks=f"{breached}-{still_open}",
        warnings=" ".join(sorted(v["warning_codes"] or [])),
        recheck_at=recheck,
    )


def facts_of(now: datetime, policy: clocks.ClockPolicy, **lookups: Any) -> dict[int, Fact]:
    """The facts of the detentions matching ``lookups`` (Detention field lookups), from what
    the registry holds now. Two queries: the records with their people, and their officers."""
    officers = {
        pk: (n, without)
        for pk, n, without in Officer.objects.filter(
            **{f"detention__{name}": value for name, value in lookups.items()}
        )
        .order_by()
        .values("detention_id")
        .annotate(n=Count("id"), without=Count("id", filter=Q(cuip="")))
        .values_list("detention_id", "n", "without")
    }
    return {
        v["pk"]: fact_of(v, officers.get(v["pk"], (0, 0)), now, policy)
        for v in Detention.objects.filter(**lookups).order_by().values(*COLUMNS)
    }


def _stored(obj: DetentionFact) -> Fact:
    return Fact(**{name: getattr(obj, "institution_id" if name == "institution" else name)
                   for name in FACT_FIELDS})  # fmt: skip


def _row(pk: int, fact: Fact) -> tuple[Any, ...]:
    return (pk, *(getattr(fact, name) for name in FACT_FIELDS))


# --- counts -----------------------------------------------------------------------------------

StateCell = tuple[int, str, str, str]  # month, dimension, state, key
InstitutionCell = tuple[int, str, str, int, str]  # month, dimension, state, institution, key
STATE_KEY = ("month", "dimension", "state", "key")
INSTITUTION_KEY = ("month", "dimension", "state", "institution", "key")


@dataclass
class Delta:
    """Changes to the counts, not yet written."""

    states: Counter[StateCell]
    institutions: Counter[InstitutionCell]

    @classmethod
    def empty(cls) -> Delta:
        return cls(Counter(), Counter())

    def add(self, fact: Fact, sign: int) -> None:
        for per_institution, dimension, key in cells(fact):
            if per_institution:
                self.institutions[(fact.month, dimension, fact.state, fact.institution, key)] += (
                    sign
                )
            else:
                self.states[(fact.month, dimension, fact.state, key)] += sign

    def write(self) -> None:
        """Add to the stored counts."""
        _add(StateMonthCount, STATE_KEY, self.states)
        _add(InstitutionMonthCount, INSTITUTION_KEY, self.institutions)

    def insert(self) -> None:
        """Store as new counts, in bulk: for counts that do not exist yet (a rebuild)."""
        for model, key, counts in (
            (StateMonthCount, STATE_KEY, self.states),
            (InstitutionMonthCount, INSTITUTION_KEY, self.institutions),
        ):
            bulk.insert_rows(model, (*key, "n"), ((*k, n) for k, n in counts.items() if n))


UPSERT_ROWS = 500  # rows per statement: a registration changes about 20, a recount more


def _add(model: Any, key_columns: Sequence[str], delta: Mapping[tuple[Any, ...], int]) -> None:
    """Add ``delta`` to the counts, creating those that do not exist, rows in key order (so
    that concurrent writers would take their row locks in the same order)."""
    rows = sorted((k, n) for k, n in delta.items() if n)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(c) for c in (*key_columns, "n"))
    conflict = ", ".join(quote(c) for c in key_columns)
    row_marks = "(" + ", ".join(["%s"] * (len(key_columns) + 1)) + ")"
    upsert = f"ON CONFLICT ({conflict}) DO UPDATE SET n = {table}.n + excluded.n"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and rows:
            # The rows as one JSON parameter: a few hundred placeholders would each be quoted
            # into the statement in Python. Locks are taken in the order of the key.
            names = [*key_columns, "n"]
            types = ", ".join(
                f"{quote(c)} {model._meta.get_field(c).db_type(connection)}" for c in names
            )
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM "  # noqa: S608
                f"jsonb_to_recordset(%s::jsonb) AS r({types}) ORDER BY {conflict} {upsert}",
                [json.dumps([dict(zip(names, (*key, n), strict=True)) for key, n in rows])],
            )
            return
        for start in range(0, len(rows), UPSERT_ROWS):
            part = rows[start : start + UPSERT_ROWS]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_marks] * len(part))} "  # noqa: S608 - names are ours
                + upsert,
                [value for key, n in part for value in (*key, n)],
            )


def event_cells(
    kind: str, recorded_at: datetime, occurred_at: datetime, zone: str, institution_kind: str
) -> tuple[int, list[str]]:
    """The local month of an event's recording and the event dimensions it counts in."""
    local = recorded_at.astimezone(_zone(zone))
    found: list[str] = []
    if kind == "corrected":
        found.append("correction")
    elif kind not in ("registered", "redacted") and institution_kind not in POLICE_KINDS:
        found.append("update")
        late = timedelta(minutes=settings.CUSTODIA_LATE_UPDATE_MINUTES)
        if recorded_at - occurred_at > late:
            found.append("late_update")
    return month_key(local.year, local.month), found


EVENT_COLUMNS = (
    "kind",
    "recorded_at",
    "occurred_at",
    "local_zone",
    "institution_id",
    "institution__kind",
    "detention__state_id",
)


def _count_events(rows: Iterable[Sequence[Any]], delta: Delta) -> None:
    """Rows of ``EVENT_COLUMNS``: kind, instants, zone, the recording institution and its kind,
    and the state of the detention."""
    for kind, recorded, occurred, zone, institution, institution_kind, state in rows:
        month, dimensions = event_cells(kind, recorded, occurred, zone, institution_kind)
        for dimension in dimensions:
            delta.states[(month, dimension, state, "")] += 1
            delta.institutions[(month, dimension, state, institution, "")] += 1


# --- keeping the counts current ------------------------------------------------------------


def _recount(pks: Sequence[int], now: datetime) -> tuple[Delta, list[tuple[int, Fact]], set[int]]:
    """The new facts of these detentions, the change in the counts, and which had a fact."""
    policy = clock_policy()
    new = facts_of(now, policy, pk__in=list(pks))
    old = {f.pk: _stored(f) for f in DetentionFact.objects.filter(pk__in=list(pks))}
    delta = Delta.empty()
    changed = []
    for pk, fact in new.items():
        before = old.get(pk)
        if before == fact:
            continue
        delta.add(fact, +1)
        if before is not None:
            delta.add(before, -1)
        changed.append((pk, fact))
    return delta, changed, set(old)


def refresh(pks: Iterable[int], *, now: datetime | None = None) -> None:
    """Count these detentions again from what the registry holds now, in the caller's
    transaction: their facts, and the difference in the counts. Every registry write calls it."""
    pks = list(pks)
    if not pks:
        return
    delta, changed, existing = _recount(pks, now or timezone.now())
    if not changed:
        return
    delta.write()
    fresh = [(pk, fact) for pk, fact in changed if pk not in existing]
    if fresh:
        bulk.create(
            DetentionFact,
            [DetentionFact(detention_id=pk, **_model_values(fact)) for pk, fact in fresh],
        )
    for pk, fact in changed:
        if pk in existing:
            DetentionFact.objects.filter(pk=pk).update(**_model_values(fact))


def count_registrations(registered: Sequence[tuple[Any, Any, Sequence[Any], datetime]]) -> None:
    """New registrations' facts and counts, in the caller's transaction, from the objects just
    written rather than read back: the same ``fact_of`` as a recount, without its queries.
    (detention, person, officers, registered at) each; ``refresh`` recounts on later changes."""
    policy = clock_policy()
    delta = Delta.empty()
    facts = []
    for detention, person, officers, now in registered:
        values = {name: _attribute(detention, person, name) for name in COLUMNS}
        without_cuip = sum(1 for officer in officers if not officer.cuip)
        fact = fact_of(values, (len(officers), without_cuip), now, policy)
        delta.add(fact, +1)
        facts.append(_row(detention.pk, fact))
    delta.write()
    bulk.add_rows(DetentionFact, ("detention", *FACT_FIELDS), facts)


def _attribute(detention: Any, person: Any, name: str) -> Any:
    if name == "pk":
        return detention.pk
    if name.startswith("person__"):
        return getattr(person, name.removeprefix("person__"))
    return getattr(detention, name)


def _model_values(fact: Fact) -> dict[str, Any]:
    values = asdict(fact)
    values["institution_id"] = values.pop("institution")
    return values


def count_event(event: CustodyEvent, state: str) -> None:
    """Add a new event to the counts (corrections, receiving updates), in the caller's
    transaction. Events never change, so they are counted once."""
    delta = Delta.empty()
    _count_events(
        [
            (
                event.kind,
                event.recorded_at,
                event.occurred_at,
                event.local_zone,
                event.institution_id,
                event.institution.kind,
                state,
            )
        ],
        delta,
    )
    delta.write()


def due(month: int | None, state: str | None, now: datetime) -> list[int]:
    """Detentions whose fact a clock has changed since it was counted."""
    found = DetentionFact.objects.filter(recheck_at__lte=now)
    if month is not None:
        found = found.filter(month=month)
    if state:
        found = found.filter(state=state)
    return list(found.values_list("pk", flat=True))


def pending(month: int, state: str | None, now: datetime) -> Delta:
    """What the counts of a month lack because clocks fell due since they were written: read
    only (the report adds it to what it reads; ``refresh_due`` writes it)."""
    pks = due(month, state, now)
    delta = Delta.empty()
    for start in range(0, len(pks), CHUNK):
        part, _, _ = _recount(pks[start : start + CHUNK], now)
        delta.states.update(part.states)
        delta.institutions.update(part.institutions)
    return delta


def refresh_due(now: datetime | None = None) -> int:
    """Write what clocks changed since the facts were counted (``custodia notify`` runs it)."""
    now = now or timezone.now()
    pks = due(None, None, now)
    for start in range(0, len(pks), CHUNK):
        with transaction.atomic():
            refresh(pks[start : start + CHUNK], now=now)
    return len(pks)


# --- rebuilding and checking ------------------------------------------------------------------


def policy_fingerprint() -> str:
    """The settings the facts are counted with: the clocks' thresholds and the late-update
    limit. Counts made under other settings are stale."""
    text = repr((VERSION, clock_policy(), settings.CUSTODIA_LATE_UPDATE_MINUTES, CLOCK_BITS))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def is_current() -> bool:
    found = RollupState.objects.filter(pk=1).first()
    return found is not None and found.version == VERSION and found.policy == policy_fingerprint()


def mark_current() -> None:
    RollupState.objects.update_or_create(
        pk=1,
        defaults={"version": VERSION, "policy": policy_fingerprint(), "built_at": timezone.now()},
    )


def _ranges(model: Any) -> list[tuple[int, int]]:
    """Primary-key ranges of CHUNK covering the table, the last one ending after the last row."""
    top = model.objects.aggregate(top=Max("pk"))["top"] or 0
    return [(start, min(start + CHUNK, top + 1)) for start in range(1, top + 1, CHUNK)]


def rebuild(
    progress: Callable[[int], object] = lambda n: None, *, workers: int = 1
) -> dict[str, int]:
    """Count everything again from the registry, in one transaction: every fact (computed here,
    written in bulk), the detentions' counts (grouped by the database from the facts) and the
    events' counts. ``progress`` is told of each chunk of detentions and of events.

    ``workers`` > 1 (PostgreSQL): that many processes of their own read and judge the chunks
    while this one writes, so the Python of a large rebuild runs on every core. They read only
    committed rows of the registry, which this transaction does not change; they connect with
    this process's settings, so a test database renamed at run time cannot use them."""
    now = timezone.now()
    policy = clock_policy()
    if connection.vendor != "postgresql":
        workers = 1
    with transaction.atomic(), _judges(workers, now, policy) as judge:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # The registry's writers would add to counts being rebuilt: hold them off.
                cursor.execute(
                    f"LOCK TABLE {connection.ops.quote_name(DetentionFact._meta.db_table)} "
                    "IN EXCLUSIVE MODE"
                )
                # Thousands of small chunk queries: on a freshly loaded database the planner
                # overestimates them and compiles each one (seen: 1.7 s of JIT per chunk).
                cursor.execute("SET LOCAL jit = off")
        bulk.empty(DetentionFact, StateMonthCount, InstitutionMonthCount)
        facts = 0
        for rows in judge.map("_fact_rows", _ranges(Detention)):
            # Read a chunk, then write it: a COPY holds the connection until it ends.
            bulk.insert_rows(DetentionFact, ("detention", *FACT_FIELDS), rows)
            facts += len(rows)
            progress(len(rows))
        _counts_from_facts()
        delta = Delta.empty()
        events = 0
        ranges = _ranges(CustodyEvent)
        for (start, stop), (states, institutions, read) in zip(
            ranges, judge.map("_event_counts", ranges), strict=True
        ):
            delta.states.update(states)
            delta.institutions.update(institutions)
            events += read
            progress(stop - start)  # events read, registrations included
        delta.insert()
        mark_current()
    return {"facts": facts, "events": events}


class _Judge:
    """Runs the chunk functions here, or in processes of their own (``rebuild(workers=…)``)."""

    def __init__(
        self, pool: Any, now: datetime, policy: clocks.ClockPolicy, processes: int = 1
    ) -> None:
        self.pool, self.now, self.policy, self.processes = pool, now, policy, processes

    def map(self, name: str, ranges: list[tuple[int, int]]) -> Iterator[Any]:
        """``name`` (a function of this module) for each range, results in order."""
        return worker_pool.ordered_map(
            self.pool,
            f"{__name__}:{name}",
            [(bounds, self.now, self.policy) for bounds in ranges],
            ahead=2 * self.processes,
        )


@contextmanager
def _judges(processes: int, now: datetime, policy: clocks.ClockPolicy) -> Iterator[_Judge]:
    if processes <= 1:
        yield _Judge(None, now, policy)
        return
    with worker_pool.pool(processes) as pool:
        yield _Judge(pool, now, policy, processes)


def _without_jit() -> None:
    """As ``rebuild`` does in its own transaction, for a worker process's connection: thousands
    of small chunk queries, each of which the planner would otherwise compile."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET jit = off")


def _fact_rows(
    bounds: tuple[int, int], now: datetime, policy: clocks.ClockPolicy
) -> list[tuple[Any, ...]]:
    """The fact rows of the detentions with a primary key in [start, stop)."""
    _without_jit()
    start, stop = bounds
    found = facts_of(now, policy, pk__gte=start, pk__lt=stop)
    return [_row(pk, fact) for pk, fact in found.items()]


def _event_counts(
    bounds: tuple[int, int], now: datetime, policy: clocks.ClockPolicy
) -> tuple[Counter[StateCell], Counter[InstitutionCell], int]:
    """What the events with a primary key in [start, stop) add to the counts."""
    _without_jit()
    start, stop = bounds
    rows = list(
        CustodyEvent.objects.filter(pk__gte=start, pk__lt=stop)
        .exclude(kind="registered")
        .values_list(*EVENT_COLUMNS)
    )
    delta = Delta.empty()
    _count_events(rows, delta)
    return delta.states, delta.institutions, len(rows)


def _counts_from_facts() -> None:
    """Every detention count, grouped by the database from the facts (the same DIMENSIONS and
    keys as ``cells``)."""
    quote = connection.ops.quote_name
    facts = quote(DetentionFact._meta.db_table)
    bits = " UNION ALL ".join(
        f"SELECT {1 << bit} AS bit, '{name}' AS name" for bit, (name, _, _) in enumerate(FIELDS)
    )
    points = " + ".join(f"{p} * ((fields >> {bit}) & 1)" for bit, p in enumerate(FIELD_POINTS))
    with connection.cursor() as cursor:
        for dimension, (column, per_state, per_institution) in DIMENSIONS.items():
            source, where = facts, ""
            if column is None:
                key = "''"
            elif dimension == "field":
                source = f"{facts} JOIN ({bits}) AS field_bits ON (fields & field_bits.bit) <> 0"
                key = "field_bits.name"
            elif dimension == "points":
                key = f"CAST({points} AS VARCHAR(40))"
            else:
                key = f"COALESCE(CAST({quote(column)} AS VARCHAR(40)), '')"
            if dimension == "warnings":
                where = "WHERE warnings <> ''"
            for model, unit, wanted in (
                (StateMonthCount, "", per_state),
                (InstitutionMonthCount, "institution_id", per_institution),
            ):
                if not wanted:
                    continue
                groups = ["month", "state", *([unit] if unit else []), *([key] if column else [])]
                columns = ", ".join(
                    quote(c) for c in (*(INSTITUTION_KEY if unit else STATE_KEY), "n")
                )
                picked = ["month", "%s", "state", *([unit] if unit else []), key, "COUNT(*)"]
                cursor.execute(
                    f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608
                    f"SELECT {', '.join(picked)} FROM {source} {where} "
                    f"GROUP BY {', '.join(groups)}",
                    [dimension],
                )


def check(year: int, month: int) -> list[str]:
    """Where the stored facts and counts of a month differ from a recount of the registry (in
    Spanish, for the operator). Empty: they agree."""
    from .monthly import month_window

    now = timezone.now()
    policy = clock_policy()
    start, end = month_window(year, month)
    key = month_key(year, month)
    expected = {
        pk: fact
        for pk, fact in facts_of(now, policy, detained_at__gte=start, detained_at__lt=end).items()
        if fact.month == key
    }
    stored = {f.pk: _stored(f) for f in DetentionFact.objects.filter(month=key)}

    def same(pk: int) -> bool:
        mine, theirs = stored.get(pk), expected.get(pk)
        if mine is None or theirs is None or mine.recheck_at is None or mine.recheck_at > now:
            return mine == theirs
        # A fact whose clocks time has changed since is stale there by design until counted
        # again (``pending``): the rest of it must agree.
        return replace(mine, clocks="", recheck_at=None) == replace(
            theirs, clocks="", recheck_at=None
        )

    problems = [
        f"Detención {pk}: el hecho guardado no coincide con el registro."
        for pk in sorted(set(expected) | set(stored))
        if not same(pk)
    ]
    recount = Delta.empty()
    for fact in expected.values():
        recount.add(fact, +1)
    event_window = CustodyEvent.objects.filter(recorded_at__gte=start, recorded_at__lt=end)
    events = Delta.empty()
    _count_events(
        event_window.exclude(kind="registered").values_list(*EVENT_COLUMNS),
        events,
    )
    recount.states.update({k: n for k, n in events.states.items() if k[0] == key})
    recount.institutions.update({k: n for k, n in events.institutions.items() if k[0] == key})
    late = pending(key, None, now)  # what the stored counts lack until they are read
    for label, model, columns, wanted, lacking in (
        ("entidad", StateMonthCount, STATE_KEY, recount.states, late.states),
        ("institución", InstitutionMonthCount, INSTITUTION_KEY, recount.institutions,
         late.institutions),
    ):  # fmt: skip
        have: Counter[Any] = Counter(
            {
                tuple(row[:-1]): row[-1]
                for row in model.objects.filter(month=key).values_list(*columns, "n")
            }
        )
        have.update(lacking)
        recounted: Counter[Any] = Counter(wanted)
        for cell in sorted(set(have) | set(recounted), key=repr):
            if have[cell] != recounted[cell]:
                problems.append(
                    f"Conteo por {label} {cell}: guardado {have[cell]}, "
                    f"recontado {recounted[cell]}."
                )
    return problems


def ensure_current(say: Callable[[str], None] = lambda text: None) -> bool:
    """Rebuild, with a progress bar, when the stored counts were made by another version or
    under other settings (``custodia serve`` and ``custodia demo`` call it). True if it did."""
    if is_current():
        return False
    if not Detention.objects.exists():
        with transaction.atomic():
            bulk.empty(DetentionFact, StateMonthCount, InstitutionMonthCount)
            mark_current()
        return False
    import sys

    from tqdm import tqdm

    say("Las cifras del informe mensual no están al día: se cuentan de nuevo desde el registro.")
    total = Detention.objects.count() + CustodyEvent.objects.count()
    with tqdm(total=total, desc="Registros", unit="reg", disable=None, file=sys.stderr) as bar:
        rebuild(bar.update)
    return True
