"""A synthetic nation for the benchmarks: every state with its municipalities, their police and
receiving institutions, and millions of detentions with realistic custody chains and delays,
loaded in bulk (COPY on PostgreSQL). Reproducible from the seed.

Each institution draws its own habits, so that the monthly report has something to find: how
late it registers, how often it leaves optional fields empty, whether it files zero reports,
when it opened or closed, how late its receiving authorities write. People's names are drawn
from short lists (the report does not read them; the name-search benchmark has its own set).

State populations (millions, Censo 2020) and numbers of municipalities are INEGI's public
figures, rounded; they only weight the draw.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

# code: (population in millions, municipalities)
STATES = {
    "01": (1.43, 11), "02": (3.77, 6), "03": (0.80, 5), "04": (0.93, 13), "05": (3.15, 38),
    "06": (0.73, 10), "07": (5.54, 124), "08": (3.74, 67), "09": (9.21, 16), "10": (1.83, 39),
    "11": (6.17, 46), "12": (3.54, 85), "13": (3.08, 84), "14": (8.35, 125), "15": (16.99, 125),
    "16": (4.75, 113), "17": (1.97, 36), "18": (1.24, 20), "19": (5.78, 51), "20": (4.13, 570),
    "21": (6.58, 217), "22": (2.37, 18), "23": (1.86, 11), "24": (2.82, 58), "25": (3.03, 20),
    "26": (2.94, 72), "27": (2.40, 17), "28": (3.53, 43), "29": (1.34, 60), "30": (8.06, 212),
    "31": (2.32, 106), "32": (1.62, 58),
}  # fmt: skip

# Hour of the day (local), relative weights: most detentions happen at night and on weekends.
HOUR_WEIGHTS = (
    7, 6, 5, 4, 3, 2, 2, 2, 3, 3, 4, 4, 4, 4, 5, 5, 5, 6, 6, 7, 8, 9, 9, 8,
)  # fmt: skip
WEEKDAY_WEIGHTS = (9, 9, 9, 10, 12, 15, 14)
BASES = (("administrative", 0.42), ("flagrante", 0.43), ("warrant", 0.12), ("urgent_case", 0.03))
GIVEN = ("JOSÉ", "JUAN", "LUIS", "CARLOS", "JESÚS", "MIGUEL", "MARÍA", "ANA", "GUADALUPE")
SURNAMES = ("HERNÁNDEZ", "GARCÍA", "MARTÍNEZ", "LÓPEZ", "GONZÁLEZ", "PÉREZ", "RODRÍGUEZ")
REASONS = ("riña en vía pública", "robo a transeúnte", "alterar el orden", "portación de arma")
DAY = timedelta(days=1)


def cumulative(weights: list[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def pick(rnd: random.Random, items: list[Any], cum: list[float]) -> Any:
    return items[bisect.bisect(cum, rnd.random() * cum[-1])]


@dataclass
class Habits:
    """How one police institution captures: its deliberate quality problems."""

    registration_median: float  # minutes
    handover_median: float  # hours
    missing: float  # chance that each optional field is left empty
    unknown_sex: float
    zero_reports: float  # chance of filing a zero report on a day without captures
    never_handed: float  # chance that a detention is never handed over in the record
    late_receiver: float  # chance that the receiving authority records hours late


@dataclass
class Place:
    state: str
    zone: str
    municipalities: list[str]
    muni_cum: list[float]
    police: list[int]  # institution pks: state police first, then municipal police
    police_cum: list[float]
    municipal_of: dict[int, str]
    prosecutor: int
    civic_judge: int
    adolescents: int
    prison: int


@dataclass
class Nation:
    places: dict[str, Place]
    state_cum: list[float]
    state_codes: list[str]
    habits: dict[int, Habits]
    user_of: dict[int, int]  # institution pk -> user pk
    code_of: dict[int, str]
    name_of: dict[int, str]
    kind_of: dict[int, str]
    national_guard: int
    operating: dict[int, tuple[date, date | None]]


def build_nation(seed: int, start: date, end: date) -> Nation:
    """Municipalities (synthetic codes where the catalog has none), institutions, one user per
    institution, and each police institution's habits."""
    from custodia.core.models import Institution, InstitutionKind, Municipality, Role, State, User

    rnd = random.Random(seed)
    states = {s.code: s for s in State.objects.all()}
    known = {m.code for m in Municipality.objects.all()}
    Municipality.objects.bulk_create(
        [
            Municipality(code=f"{code}{n:03d}", state_id=code, name=f"Municipio {code}{n:03d}")
            for code, (_, count) in STATES.items()
            for n in range(1, count + 1)
            if f"{code}{n:03d}" not in known
        ],
        batch_size=2000,
    )
    made: list[Institution] = []
    opened = datetime(2020, 6, 30).date()

    def institution(code: str, name: str, kind: str, state: str | None, **extra: Any) -> None:
        made.append(
            Institution(code=code, name=name, kind=kind, state_id=state, operating_since=opened,
                        **extra)
        )  # fmt: skip

    institution("gn", "Guardia Nacional", InstitutionKind.NATIONAL_GUARD, None)
    for code, (_, count) in STATES.items():
        name = states[code].name
        institution(f"sspe-{code}", f"Policía Estatal de {name}", InstitutionKind.POLICE_STATE,
                    code)  # fmt: skip
        institution(f"fge-{code}", f"Fiscalía de {name}", InstitutionKind.PUBLIC_PROSECUTOR, code)
        institution(f"jc-{code}", f"Juzgados Cívicos de {name}", InstitutionKind.CIVIC_JUDGE, code)
        institution(f"ja-{code}", f"Justicia para Adolescentes de {name}",
                    InstitutionKind.ADOLESCENT_JUSTICE, code)  # fmt: skip
        institution(f"cp-{code}", f"Centro Penitenciario de {name}", InstitutionKind.PRISON, code)
        if code == "09":  # Mexico City's boroughs have no police of their own
            continue
        for n in range(1, count + 1):
            muni = f"{code}{n:03d}"
            since, until = opened, None
            roll = rnd.random()
            if roll < 0.08:  # opened during the period
                since = start + timedelta(days=rnd.randrange((end - start).days))
            elif roll < 0.10:  # closed during the period
                until = start + timedelta(days=rnd.randrange((end - start).days))
            made.append(
                Institution(
                    code=f"pm-{muni}",
                    name=f"Policía Municipal {muni}",
                    kind=InstitutionKind.POLICE_MUNICIPAL,
                    state_id=code,
                    municipality_id=muni,
                    operating_since=since,
                    operating_until=until,
                )
            )
    Institution.objects.bulk_create(made, batch_size=2000)
    institutions = list(Institution.objects.filter(code__in=[i.code for i in made]))
    User.objects.bulk_create(
        [
            User(username=f"bench-{i.code}", role=Role.CAPTURE, institution=i, password="!")  # noqa: S106 - unusable
            for i in institutions
        ],
        batch_size=2000,
    )
    user_of = dict(
        User.objects.filter(username__startswith="bench-").values_list("institution_id", "pk")
    )
    by_code = {i.code: i for i in institutions}
    habits: dict[int, Habits] = {}
    for i in institutions:
        if i.kind in ("police_municipal", "police_state", "national_guard"):
            habits[i.pk] = Habits(
                registration_median=math.exp(rnd.uniform(math.log(4), math.log(150))),
                handover_median=rnd.uniform(0.7, 6.0),
                missing=rnd.choice((0.02, 0.05, 0.15, 0.3, 0.6)),
                unknown_sex=rnd.choice((0.0, 0.005, 0.02, 0.1)),
                zero_reports=rnd.choice((0.0, 0.2, 0.6, 0.9, 0.98)),
                never_handed=rnd.choice((0.002, 0.01, 0.03)),
                late_receiver=rnd.choice((0.02, 0.1, 0.3)),
            )
    places: dict[str, Place] = {}
    for code, (_, count) in STATES.items():
        munis = [f"{code}{n:03d}" for n in range(1, count + 1)]
        sizes = [1 / (rank**0.9) for rank in range(1, count + 1)]
        rnd.shuffle(sizes)
        police = [by_code[f"sspe-{code}"].pk]
        weights = [0.3 if code != "09" else 1.0]
        municipal_of: dict[int, str] = {}
        if code != "09":
            total = sum(sizes)
            for muni, size in zip(munis, sizes, strict=True):
                pk = by_code[f"pm-{muni}"].pk
                police.append(pk)
                weights.append(0.7 * size / total)
                municipal_of[pk] = muni
        places[code] = Place(
            state=code,
            zone=states[code].timezone,
            municipalities=munis,
            muni_cum=cumulative(sizes),
            police=police,
            police_cum=cumulative(weights),
            municipal_of=municipal_of,
            prosecutor=by_code[f"fge-{code}"].pk,
            civic_judge=by_code[f"jc-{code}"].pk,
            adolescents=by_code[f"ja-{code}"].pk,
            prison=by_code[f"cp-{code}"].pk,
        )
    codes = list(STATES)
    return Nation(
        places=places,
        state_cum=cumulative([STATES[c][0] for c in codes]),
        state_codes=codes,
        habits=habits,
        user_of=user_of,
        code_of={i.pk: i.code for i in institutions},
        name_of={i.pk: i.name for i in institutions},
        kind_of={i.pk: i.kind for i in institutions},
        national_guard=by_code["gn"].pk,
        operating={i.pk: (i.operating_since, i.operating_until) for i in institutions},
    )


def _folio_part(i: int) -> str:
    from custodia.registry.folio import ALPHABET

    digits = []
    for _ in range(8):
        i, r = divmod(i, len(ALPHABET))
        digits.append(ALPHABET[r])
    return "".join(reversed(digits))


@dataclass
class Chunk:
    detentions: list[tuple[Any, ...]] = field(default_factory=list)
    people: list[tuple[Any, ...]] = field(default_factory=list)
    officers: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)


DETENTION_FIELDS = (
    "id", "folio", "institution", "state", "municipality", "address", "latitude", "longitude",
    "place_timezone", "detained_at", "registered_at", "arrest_basis", "reason", "receiving_kind",
    "receiving_name", "receiving_institution", "contact_name", "contact_relationship",
    "contact_phone", "force_used", "registered_by", "warning_codes", "status",
    "current_authority", "current_institution", "current_location", "legal_status",
    "last_event_at", "version", "age_group", "custody_state",
)  # fmt: skip
PERSON_FIELDS = (
    "id", "detention", "given_names", "first_surname", "second_surname", "alias", "sex", "age",
    "birth_date", "curp", "nationality", "physical_condition", "distinguishing_marks",
)  # fmt: skip
OFFICER_FIELDS = ("id", "detention", "position", "name", "rank", "unit", "cuip")
EVENT_FIELDS = (
    "id", "detention", "sequence", "kind", "occurred_at", "recorded_at", "recorded_by",
    "institution", "local_zone", "data",
)  # fmt: skip


class Generator:
    """Detentions between ``start`` and ``end`` (local dates), in chunks ready for COPY."""

    def __init__(self, nation: Nation, seed: int, start: date, end: date, now: datetime):
        self.nation = nation
        self.rnd = random.Random(seed + 1)
        self.start, self.end, self.now = start, end, now
        self.days = (end - start).days
        self.hour_cum = cumulative(list(HOUR_WEIGHTS))
        self.weekday_cum = cumulative(list(WEEKDAY_WEIGHTS))
        self.basis_cum = cumulative([w for _, w in BASES])
        self.zones: dict[str, ZoneInfo] = {}
        self.captured: set[tuple[int, date]] = set()  # (institution, local day)
        self.officer_id = 0
        self.event_id = 0

    def zone(self, name: str) -> ZoneInfo:
        if name not in self.zones:
            self.zones[name] = ZoneInfo(name)
        return self.zones[name]

    def local_moment(self, zone: ZoneInfo, institution: int) -> datetime:
        rnd = self.rnd
        since, until = self.nation.operating[institution]
        first = max(self.start, since or self.start)
        last = min(self.end - DAY, until or self.end)
        span = max(1, (last - first).days + 1)
        while True:  # weekday weights by rejection: cheap, exact
            day = first + timedelta(days=rnd.randrange(span))
            if rnd.random() * 15 < WEEKDAY_WEIGHTS[day.weekday()]:
                break
        hour = bisect.bisect(self.hour_cum, rnd.random() * self.hour_cum[-1])
        return datetime(day.year, day.month, day.day, hour, rnd.randrange(60), rnd.randrange(60),
                        tzinfo=zone)  # fmt: skip

    def chunk(self, first_id: int, count: int) -> Chunk:
        from custodia.registry import custody

        n = self.nation
        rnd = self.rnd
        out = Chunk()
        for did in range(first_id, first_id + count):
            state = n.state_codes[bisect.bisect(n.state_cum, rnd.random() * n.state_cum[-1])]
            place = n.places[state]
            institution = (
                n.national_guard
                if rnd.random() < 0.06
                else place.police[
                    bisect.bisect(place.police_cum, rnd.random() * place.police_cum[-1])
                ]
            )
            habits = n.habits[institution]
            muni = place.municipal_of.get(institution) or pick(
                rnd, place.municipalities, place.muni_cum
            )
            zone = self.zone(place.zone)
            detained = self.local_moment(zone, institution).astimezone(UTC)
            self.captured.add((institution, detained.astimezone(zone).date()))
            delay = min(rnd.lognormvariate(math.log(habits.registration_median), 1.1), 20 * 24 * 60)
            registered = detained + timedelta(seconds=int(delay * 60) + 30)
            roll = rnd.random()
            age = (
                rnd.randint(8, 11) if roll < 0.002
                else rnd.randint(12, 17) if roll < 0.06
                else rnd.randint(18, 29) if roll < 0.45
                else rnd.randint(30, 44) if roll < 0.80
                else rnd.randint(45, 59) if roll < 0.96
                else rnd.randint(60, 80)
            )  # fmt: skip
            basis = BASES[bisect.bisect(self.basis_cum, rnd.random())][0]
            if age < 18:
                basis = "flagrante"
                receiver, receiving_kind = place.adolescents, "adolescent_justice"
            elif basis == "administrative":
                receiver, receiving_kind = place.civic_judge, "civic_judge"
            else:
                receiver, receiving_kind = place.prosecutor, "public_prosecutor"
            missing = habits.missing
            sex = (
                "unknown" if rnd.random() < habits.unknown_sex
                else "male" if rnd.random() < 0.88 else "female"
            )  # fmt: skip
            has_coords = rnd.random() >= missing
            has_condition = rnd.random() >= missing
            curp = "" if rnd.random() < 0.5 + missing / 2 else f"XXXX{did:06d}HTLRRR09"[:18]
            warnings = []
            if delay > 360:
                warnings.append("RND-W202")
            elif delay > 60:
                warnings.append("RND-W201")
            if not curp:
                warnings.append("RND-W203")
            if not has_coords:
                warnings.append("RND-W205")
            if not has_condition:
                warnings.append("RND-W206")
            location = f"Municipio {muni}"
            age_group = "child" if age < 12 else "adolescent" if age < 18 else "adult"
            police_user = n.user_of[institution]
            state_now = custody.initial(
                custody.Registration(
                    detained_at=detained,
                    registered_at=registered,
                    institution=n.code_of[institution],
                    institution_name=n.name_of[institution],
                    location=location,
                    arrest_basis=basis,
                    age_group=age_group,
                )
            )
            events: list[tuple[Any, ...]] = []
            self.event_id += 1
            events.append(
                (self.event_id, did, 1, "registered", detained, registered, police_user,
                 institution, place.zone, "{}")
            )  # fmt: skip
            for kind, at, actor, inst, data in self.chain(
                habits, detained, receiver, receiving_kind, institution, police_user
            ):
                recorded = at + timedelta(minutes=rnd.randint(1, 20))
                if inst != institution and rnd.random() < habits.late_receiver:
                    recorded += timedelta(minutes=rnd.randint(61, 24 * 60))
                if recorded > self.now:
                    break
                seq = state_now.version + 1
                state_now = custody.apply(
                    state_now, custody.Event.from_data(kind, at, data, sequence=seq)
                )
                self.event_id += 1
                events.append(
                    (self.event_id, did, seq, kind, at, recorded, actor, inst, place.zone,
                     json.dumps(data, ensure_ascii=False))
                )  # fmt: skip
            out.events.extend(events)
            holder = state_now.holder_institution
            out.detentions.append(
                (
                    did, _bench_folio(state, detained, did),
                    institution, state, muni,
                    "" if rnd.random() < missing else "Calle sin nombre",
                    19.3 if has_coords else None, -98.2 if has_coords else None,
                    place.zone, detained, registered, basis, rnd.choice(REASONS),
                    receiving_kind, n.name_of[receiver],
                    receiver if rnd.random() >= missing else None,
                    "" if rnd.random() < 0.3 + missing else "Familiar",
                    "", "" if rnd.random() < 0.5 else "+522220000000", False, police_user,
                    json.dumps(warnings), state_now.status, state_now.holder_name[:120],
                    self._pk_of(holder), state_now.location[:300], state_now.legal_status or "",
                    state_now.last_event_at, state_now.version, age_group,
                    json.dumps(custody.state_to_json(state_now)),
                )
            )  # fmt: skip
            out.people.append(
                (did, did, rnd.choice(GIVEN), rnd.choice(SURNAMES),
                 "" if rnd.random() < 0.05 + missing / 3 else rnd.choice(SURNAMES), "", sex, age,
                 None, curp, "" if rnd.random() < missing else "MEX",
                 "sin lesiones visibles" if has_condition else "", "")
            )  # fmt: skip
            for position in range(1, 2 + (rnd.random() < 0.4)):
                self.officer_id += 1
                out.officers.append(
                    (self.officer_id, did, position, "Elemento", "policía", "Sector",
                     "" if rnd.random() < missing else f"CUIP{did:08d}{position}")
                )  # fmt: skip
        return out

    def _pk_of(self, code: str | None) -> int | None:
        if code is None:
            return None
        if not hasattr(self, "_pks"):
            self._pks = {c: pk for pk, c in self.nation.code_of.items()}
        return self._pks.get(code)

    def chain(
        self,
        habits: Habits,
        detained: datetime,
        receiver: int,
        receiving_kind: str,
        police: int,
        police_user: int,
    ) -> Iterator[tuple[str, datetime, int, int, dict[str, Any]]]:
        """The custody events after the registration: (kind, when, user, institution, data)."""
        rnd, n = self.rnd, self.nation
        if rnd.random() < habits.never_handed:
            return  # silent custody, on purpose
        authority = {"kind": receiving_kind, "name": n.name_of[receiver],
                     "institution": n.code_of[receiver]}  # fmt: skip
        at = detained + timedelta(hours=rnd.expovariate(1 / habits.handover_median))
        data: dict[str, Any] = {"authority": authority}
        if receiving_kind == "public_prosecutor":
            data["legal_status"] = "retencion_ministerial"
        yield "handed_over", at, police_user, police, data
        who = n.user_of[receiver]
        if receiving_kind == "civic_judge":
            hours = rnd.uniform(37, 44) if rnd.random() < 0.04 else rnd.uniform(2, 35)
            yield "released", at + timedelta(hours=hours), who, receiver, {"details": "arresto"}
        elif receiving_kind == "adolescent_justice":
            yield "released", at + timedelta(hours=rnd.uniform(5, 30)), who, receiver, {}
        else:
            hours = rnd.uniform(49, 60) if rnd.random() < 0.05 else rnd.uniform(6, 47)
            if rnd.random() < 0.45:
                yield (
                    "released",
                    at + timedelta(hours=hours),
                    who,
                    receiver,
                    {"legal_status": "libertad"},
                )
            else:
                judge = {"kind": "judge", "name": "Juez de Control"}
                yield (
                    "presented_to_judge",
                    at + timedelta(hours=hours),
                    who,
                    receiver,
                    {"authority": judge},
                )


def _bench_folio(state: str, detained: datetime, did: int) -> str:
    from custodia.registry.folio import new_folio

    return new_folio(state, detained.year, _folio_part(did))


def zero_reports(
    nation: Nation, captured: set[tuple[int, date]], seed: int, start: date, end: date
) -> Iterator[tuple[Any, ...]]:
    """Each police institution's zero reports on days it did not capture, as diligent as its
    habits say; a few on days it did capture (contradictions)."""
    rnd = random.Random(seed + 2)
    for pk, habits in nation.habits.items():
        since, until = nation.operating[pk]
        day = max(start, since or start)
        last = min(end - DAY, until or end)
        user = nation.user_of[pk]
        while day <= last:
            busy = (pk, day) in captured
            if (not busy and rnd.random() < habits.zero_reports) or (busy and rnd.random() < 0.002):
                filed = datetime(day.year, day.month, day.day, 23, 50, tzinfo=UTC)
                yield (pk, day, "", user, filed, "api")
            day += DAY


def load(
    count: int,
    seed: int,
    start: date,
    end: date,
    *,
    chunk_size: int = 50_000,
    progress: Callable[[int], None] = lambda n: None,
) -> Nation:
    """Build the nation and COPY ``count`` detentions (people, officers, events) and the zero
    reports into the current database, one transaction per chunk."""
    from django.db import connection, transaction

    from custodia.core import bulk
    from custodia.registry.models import CustodyEvent, DetainedPerson, Detention, Officer
    from custodia.reports.models import ZeroReport

    with transaction.atomic():
        nation = build_nation(seed, start, end)
    now = datetime.combine(end, datetime.min.time(), tzinfo=UTC) + timedelta(days=2)
    gen = Generator(nation, seed, start, end, now)
    done = 0
    while done < count:
        size = min(chunk_size, count - done)
        chunk = gen.chunk(done + 1, size)
        with transaction.atomic():
            bulk.insert_rows(Detention, DETENTION_FIELDS, chunk.detentions)
            bulk.insert_rows(DetainedPerson, PERSON_FIELDS, chunk.people)
            bulk.insert_rows(Officer, OFFICER_FIELDS, chunk.officers)
            bulk.insert_rows(CustodyEvent, EVENT_FIELDS, chunk.events)
        done += size
        progress(size)
    with transaction.atomic():
        bulk.insert_rows(
            ZeroReport,
            ("institution", "day", "note", "filed_by", "filed_at", "channel"),
            zero_reports(nation, gen.captured, seed, start, end),
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Detention, DetainedPerson, Officer, CustodyEvent):
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {table}))"
                )
    return nation
