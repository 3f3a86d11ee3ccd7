"""The synthetic nation's geography and institutions: every state with its municipalities
(INEGI's codes where the catalogue has them, synthetic ones beyond), its police and receiving
institutions, national institutions of every other kind, one capture user per institution, and
each police institution's habits (its deliberate quality problems). Reproducible from the seed.

State populations (millions, Censo 2020) and numbers of municipalities are INEGI's public
figures, rounded; they only weight the draw.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

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
CRIMINAL_REASONS = (
    "robo a transeúnte", "robo de vehículo", "robo a casa habitación", "lesiones",
    "portación de arma prohibida", "posesión de narcóticos", "violencia familiar",
    "daño en propiedad ajena", "narcomenudeo",
)  # fmt: skip
ADMINISTRATIVE_REASONS = (
    "alterar el orden público", "riña en la vía pública", "conducir en estado de ebriedad",
    "ingerir bebidas alcohólicas en la vía pública", "faltas a la autoridad",
)  # fmt: skip
WARRANT_REASONS = ("orden de aprehensión por homicidio", "orden de aprehensión por extorsión",
                   "orden de aprehensión por robo")  # fmt: skip
DAY = timedelta(days=1)


def cumulative(weights: list[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def pick(rnd: random.Random, items: list[Any], cum: list[float]) -> Any:
    return items[bisect.bisect(cum, rnd.random() * cum[-1])]


POLICE = ("police_municipal", "police_state", "police_federal", "national_guard")


def role_of(kind: str) -> str:
    """The role of an institution's synthetic user: police capture, the rest receive."""
    from custodia.core.models import Role

    if kind in POLICE:
        return Role.CAPTURE
    if kind in ("secretariat",):
        return Role.NATIONAL_ANALYST
    if kind == "human_rights":
        return Role.AUDITOR
    return Role.RECEIVING


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
    name: str
    zone: str
    municipalities: list[str]
    municipality_names: dict[str, str]
    zones: dict[str, str]  # municipality -> its own time zone, where it differs from the state's
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
    federal_police: int
    migration: int
    operating: dict[int, tuple[date | None, date | None]]


def build_nation(seed: int, start: date, end: date) -> Nation:
    """Municipalities (synthetic codes where the catalog has none), institutions, one user per
    institution, and each police institution's habits."""
    from custodia.core.models import Institution, InstitutionKind, Municipality, State, User

    rnd = random.Random(seed)
    states = {s.code: s for s in State.objects.all()}
    known = set(Municipality.objects.values_list("code", flat=True))
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
    institution("fgr-pfm", "Policía Federal Ministerial", InstitutionKind.POLICE_FEDERAL, None)
    institution("inm", "Instituto Nacional de Migración", InstitutionKind.MIGRATION, None)
    institution("sesnsp", "Secretariado Ejecutivo del SNSP", InstitutionKind.SECRETARIAT, "09")
    institution("cndh", "Comisión Nacional de los Derechos Humanos", InstitutionKind.HUMAN_RIGHTS,
                "09")  # fmt: skip
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
    Institution.objects.bulk_create(made, batch_size=2000, ignore_conflicts=True)
    institutions = list(Institution.objects.filter(code__in=[i.code for i in made]))
    User.objects.bulk_create(
        [
            User(username=f"synth-{i.code}", role=role_of(i.kind), institution=i, password="!")  # noqa: S106 - unusable
            for i in institutions
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )
    user_of = dict(
        User.objects.filter(username__startswith="synth-").values_list("institution_id", "pk")
    )
    by_code = {i.code: i for i in institutions}
    habits: dict[int, Habits] = {}
    for i in institutions:
        if i.kind in POLICE:
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
    municipality_names = dict(Municipality.objects.values_list("code", "name"))
    own_zones = dict(Municipality.objects.exclude(timezone="").values_list("code", "timezone"))
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
            name=states[code].name,
            municipality_names={m: municipality_names[m] for m in munis},
            zones={m: own_zones[m] for m in munis if m in own_zones},
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
        federal_police=by_code["fgr-pfm"].pk,
        migration=by_code["inm"].pk,
        operating={i.pk: (i.operating_since, i.operating_until) for i in institutions},
    )
