"""Demo data: institutions in several states and time zones, one user per role, and synthetic
detentions registered through the same service as real captures (so they carry real warnings)."""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from faker import Faker
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.mx import curp as stdnum_curp

from custodia.core import access
from custodia.core.models import Channel, Institution, InstitutionKind, Municipality, Role, User

from .services import (
    EventRejected,
    RegistrationRejected,
    VersionConflict,
    detention_register,
    event_record,
)

K = InstitutionKind
# (code, name, kind, state, municipality)
INSTITUTIONS: tuple[tuple[str, str, str, str | None, str | None], ...] = (
    ("st-cnssp", "Secretaría Técnica de la CNSSP", K.SECRETARIAT, "09", None),
    ("cndh", "Comisión Nacional de los Derechos Humanos", K.HUMAN_RIGHTS, "09", None),
    ("ssc-tlax", "Secretaría de Seguridad Ciudadana de Tlaxcala", K.POLICE_STATE, "29", None),
    ("pm-tlaxcala", "Policía Municipal de Tlaxcala", K.POLICE_MUNICIPAL, "29", "29033"),
    ("pm-apizaco", "Policía Municipal de Apizaco", K.POLICE_MUNICIPAL, "29", "29005"),
    (
        "fgje-tlax",
        "Fiscalía General de Justicia del Estado de Tlaxcala",
        K.PUBLIC_PROSECUTOR,
        "29",
        "29033",
    ),
    ("jc-tlaxcala", "Juzgado Cívico de Tlaxcala", K.CIVIC_JUDGE, "29", "29033"),
    (
        "ja-tlax",
        "Fiscalía Especializada en Justicia para Adolescentes de Tlaxcala",
        K.ADOLESCENT_JUSTICE,
        "29",
        "29033",
    ),
    ("cereso-tlax", "Centro Penitenciario de Tlaxcala", K.PRISON, "29", "29033"),
    (
        "sspe-chih",
        "Secretaría de Seguridad Pública del Estado de Chihuahua",
        K.POLICE_STATE,
        "08",
        None,
    ),
    (
        "ssp-juarez",
        "Secretaría de Seguridad Pública Municipal de Juárez",
        K.POLICE_MUNICIPAL,
        "08",
        "08037",
    ),
    ("fge-chih", "Fiscalía General del Estado de Chihuahua", K.PUBLIC_PROSECUTOR, "08", "08019"),
    ("ssp-qroo", "Secretaría de Seguridad Ciudadana de Quintana Roo", K.POLICE_STATE, "23", None),
    ("fge-qroo", "Fiscalía General del Estado de Quintana Roo", K.PUBLIC_PROSECUTOR, "23", "23004"),
    (
        "ssc-cdmx",
        "Secretaría de Seguridad Ciudadana de la Ciudad de México",
        K.POLICE_STATE,
        "09",
        None,
    ),
    (
        "fgj-cdmx",
        "Fiscalía General de Justicia de la Ciudad de México",
        K.PUBLIC_PROSECUTOR,
        "09",
        "09015",
    ),
    ("jc-cdmx", "Juzgado Cívico de la Alcaldía Cuauhtémoc", K.CIVIC_JUDGE, "09", "09015"),
    ("sspc-son", "Secretaría de Seguridad Pública de Sonora", K.POLICE_STATE, "26", None),
    (
        "fge-son",
        "Fiscalía General de Justicia del Estado de Sonora",
        K.PUBLIC_PROSECUTOR,
        "26",
        "26030",
    ),
    ("ssp-bc", "Secretaría de Seguridad Ciudadana de Baja California", K.POLICE_STATE, "02", None),
    (
        "fge-bc",
        "Fiscalía General del Estado de Baja California",
        K.PUBLIC_PROSECUTOR,
        "02",
        "02002",
    ),
    ("ssp-yuc", "Secretaría de Seguridad Pública de Yucatán", K.POLICE_STATE, "31", None),
    ("fge-yuc", "Fiscalía General del Estado de Yucatán", K.PUBLIC_PROSECUTOR, "31", "31050"),
    ("gn", "Guardia Nacional", K.NATIONAL_GUARD, None, None),
)


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str
    institution: str


DEMO_USERS = (
    DemoUser("captura", "captura-demo-2020", Role.CAPTURE, "ssc-tlax"),
    DemoUser("supervisor", "supervisor-demo-2020", Role.SUPERVISOR, "ssc-tlax"),
    DemoUser("receptor", "receptor-demo-2020", Role.RECEIVING, "fgje-tlax"),
    DemoUser("analista.estatal", "estatal-demo-2020", Role.STATE_ANALYST, "ssc-tlax"),
    DemoUser("analista.nacional", "nacional-demo-2020", Role.NATIONAL_ANALYST, "st-cnssp"),
    DemoUser("auditor", "auditor-demo-2020", Role.AUDITOR, "cndh"),
    DemoUser("admin", "admin-demo-2020", Role.ADMIN, "st-cnssp"),
)

CRIMINAL_REASONS = (
    "robo a transeúnte",
    "robo de vehículo",
    "lesiones",
    "portación de arma prohibida",
    "posesión de narcóticos con fines de venta",
    "violencia familiar",
    "daño en propiedad ajena",
)
WARRANT_REASONS = ("orden de aprehensión por homicidio", "orden de aprehensión por extorsión")
ADMINISTRATIVE_REASONS = (
    "alterar el orden público",
    "ingerir bebidas alcohólicas en la vía pública",
    "conducir en estado de ebriedad",
    "orinar en la vía pública",
)
RANKS = ("policía", "policía tercero", "policía segundo", "policía primero", "suboficial")


DEMO_OPERATING_SINCE = date(2020, 6, 1)


def ensure_institutions() -> dict[str, Institution]:
    found = {}
    for code, name, kind, state, municipality in INSTITUTIONS:
        institution, _ = Institution.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "state_id": state,
                "municipality": Municipality.objects.filter(code=municipality).first()
                if municipality
                else None,
                # Demo detentions go back three months: the institutions operated all along.
                "operating_since": DEMO_OPERATING_SINCE,
            },
        )
        found[code] = institution
    return found


def ensure_users(institutions: dict[str, Institution]) -> list[DemoUser]:
    for demo in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=demo.username)
        user.role = demo.role
        user.institution = institutions[demo.institution]
        user.is_staff = user.is_superuser = demo.role == Role.ADMIN
        user.set_password(demo.password)
        user.save()
    return list(DEMO_USERS)


def ensure_subscriptions(institutions: dict[str, Institution]) -> None:
    """The Tlaxcala prosecutor hears of its detainees by email (written under var/mail/ by
    default), so that `custodia notify` has something to deliver in the demo."""
    from custodia.notify.models import ChannelKind, Scope, Subscription

    receptor = User.objects.get(username="receptor")
    Subscription.objects.get_or_create(
        institution=institutions["fgje-tlax"],
        channel=ChannelKind.EMAIL,
        target="guardia@fiscalia-tlaxcala.example",
        defaults={"scope": Scope.OWN, "created_by": receptor},
    )


def _ascii(text: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFD", text.upper()) if unicodedata.category(c) != "Mn"
    )


def synthetic_curp(
    given: str, first: str, second: str, born: datetime, sex: str, state: str
) -> str | None:
    """A CURP with a valid check digit built from the person's data the way RENAPO composes
    one, or None when the letters happen to form a word RENAPO replaces (rare)."""
    f, s, g = _ascii(first), _ascii(second or "X"), _ascii(given)
    vowel = next((c for c in f[1:] if c in "AEIOU"), "X")

    def inner_consonant(word: str) -> str:
        return next((c for c in word[1:] if c.isalpha() and c not in "AEIOU"), "X")

    stem = (
        f[0]
        + vowel
        + s[0]
        + g[0]
        + born.strftime("%y%m%d")
        + ("H" if sex == "male" else "M")
        + _CURP_STATES[state]
        + inner_consonant(f)
        + inner_consonant(s)
        + inner_consonant(g)
        + ("0" if born.year < 2000 else "A")
    )
    try:
        return str(stdnum_curp.validate(stem + stdnum_curp.calc_check_digit(stem)))
    except StdnumError:
        return None


_CURP_STATES = {
    "01": "AS",
    "02": "BC",
    "03": "BS",
    "04": "CC",
    "05": "CL",
    "06": "CM",
    "07": "CS",
    "08": "CH",
    "09": "DF",
    "10": "DG",
    "11": "GT",
    "12": "GR",
    "13": "HG",
    "14": "JC",
    "15": "MC",
    "16": "MN",
    "17": "MS",
    "18": "NT",
    "19": "NL",
    "20": "OC",
    "21": "PL",
    "22": "QT",
    "23": "QR",
    "24": "SP",
    "25": "SL",
    "26": "SR",
    "27": "TC",
    "28": "TS",
    "29": "TL",
    "30": "VZ",
    "31": "YN",
    "32": "ZS",
}


def _registration_delay(rnd: random.Random) -> timedelta:
    roll = rnd.random()
    if roll < 0.80:
        return timedelta(minutes=rnd.randint(3, 55))
    if roll < 0.95:
        return timedelta(minutes=rnd.randint(61, 340))
    return timedelta(minutes=rnd.randint(361, 1440))


def synthetic_capture(
    rnd: random.Random,
    fake: Faker,
    police: Institution,
    municipalities: list[Municipality],
    receivers: dict[tuple[str | None, str], Institution],
    now: datetime,
) -> tuple[dict[str, Any], datetime]:
    """One plausible capture and the moment it was registered."""
    municipality = rnd.choice(municipalities)
    state = municipality.state_id
    zone = ZoneInfo(municipality.effective_timezone)
    # A fifth of the detentions are recent, so that chains in progress are seen too.
    recent = rnd.random() < 0.2
    registered_at = now - timedelta(minutes=rnd.randint(10, 60 * 60 if recent else 90 * 24 * 60))
    detained_at = (
        (registered_at - _registration_delay(rnd)).astimezone(zone).replace(second=0, microsecond=0)
    )
    sex = "male" if rnd.random() < 0.87 else "female"
    given = fake.first_name_male() if sex == "male" else fake.first_name_female()
    first, second = fake.last_name(), fake.last_name()
    roll = rnd.random()
    age = rnd.randint(15, 17) if roll < 0.04 else rnd.randint(18, 70)
    administrative = rnd.random() < 0.35
    basis = (
        "administrative"
        if administrative
        else rnd.choice(("flagrante", "flagrante", "flagrante", "warrant", "urgent_case"))
    )
    if administrative:
        kind = "civic_judge"
    elif age < 18:
        kind = "adolescent_justice"
    else:
        kind = "public_prosecutor"
    receiver = receivers.get((state, kind))
    born = detained_at - timedelta(days=age * 365 + rnd.randint(10, 350))
    person: dict[str, Any] = {
        "given_names": given,
        "first_surname": first,
        "second_surname": second,
        "sex": sex,
        "age": age,
        "nationality": "Mexicana",
    }
    if rnd.random() < 0.4:
        person["birth_date"] = born.date().isoformat()
        curp = synthetic_curp(given, first, second, born, sex, state)
        if curp:
            person["curp"] = curp
    if rnd.random() < 0.85:
        person["physical_condition"] = rnd.choice(
            (
                "sin lesiones visibles",
                "sin lesiones visibles",
                "escoriación en rodilla derecha",
                "aliento alcohólico, sin lesiones",
            )
        )
    if rnd.random() < 0.15:
        person["alias"] = rnd.choice(("El Güero", "El Flaco", "La Chata", "El Negro", "Toño"))
    place: dict[str, Any] = {
        "state": state,
        "municipality": municipality.code,
        "address": f"{fake.street_name()} {rnd.randint(1, 400)}, {fake.city_suffix()}",
    }
    if rnd.random() < 0.7 and municipality.code in _CENTRES:
        lat, lon = _CENTRES[municipality.code]
        place["latitude"] = round(lat + rnd.uniform(-0.03, 0.03), 5)
        place["longitude"] = round(lon + rnd.uniform(-0.03, 0.03), 5)
    capture = {
        "person": person,
        "detained_at": detained_at.isoformat(),
        "place": place,
        "arrest_basis": basis,
        "reason": rnd.choice(
            ADMINISTRATIVE_REASONS
            if administrative
            else WARRANT_REASONS
            if basis == "warrant"
            else CRIMINAL_REASONS
        ),
        "officers": [
            {"name": fake.name(), "rank": rnd.choice(RANKS), "unit": f"Sector {rnd.randint(1, 9)}"}
            for _ in range(rnd.randint(1, 3))
        ],
        "receiving_authority": {
            "kind": kind,
            "name": receiver.name if receiver else _RECEIVER_NAMES[kind],
            "institution": receiver.code if receiver else None,
        },
        "force_used": rnd.random() < 0.08,
    }
    if rnd.random() < 0.5:
        capture["contact"] = {
            "name": fake.name(),
            "relationship": rnd.choice(("madre", "padre", "hermana", "esposa", "hijo", "amigo")),
        }
    return capture, registered_at


_RECEIVER_NAMES = {
    "public_prosecutor": "Ministerio Público del fuero común",
    "civic_judge": "Juzgado Cívico municipal",
    "adolescent_justice": "Ministerio Público especializado en adolescentes",
}
# Approximate centres, for plausible coordinates.
_CENTRES = {
    "29033": (19.3139, -98.2404),
    "29005": (19.4173, -98.1406),
    "08019": (28.6353, -106.0889),
    "08037": (31.6904, -106.4245),
    "23004": (18.5001, -88.2961),
    "23005": (21.1619, -86.8515),
    "09015": (19.4326, -99.1332),
    "09007": (19.3574, -99.0671),
    "26030": (29.0729, -110.9559),
    "02002": (32.6245, -115.4523),
    "02004": (32.5149, -117.0382),
    "31050": (20.9674, -89.5926),
}


def load_detentions(
    count: int, seed: int, progress: Callable[[int], None] | None = None
) -> tuple[int, int]:
    """Register ``count`` synthetic detentions. Returns (registered, rejected)."""
    rnd = random.Random(seed)
    fake = Faker("es_MX")
    fake.seed_instance(seed)
    police = list(
        Institution.objects.filter(kind__in=[K.POLICE_STATE, K.POLICE_MUNICIPAL]).select_related(
            "state", "municipality"
        )
    )
    receivers = {
        (i.state_id, i.kind): i
        for i in Institution.objects.filter(
            kind__in=[K.PUBLIC_PROSECUTOR, K.CIVIC_JUDGE, K.ADOLESCENT_JUSTICE]
        )
    }
    officers = {}
    for institution in police:
        officer, _ = User.objects.get_or_create(
            username=f"demo.{institution.code}",
            defaults={"role": Role.CAPTURE, "institution": institution},
        )
        if officer.has_usable_password():
            officer.set_unusable_password()
            officer.save()
        officers[institution.pk] = officer
    by_state: dict[str, list[Municipality]] = {}
    for m in Municipality.objects.select_related("state"):
        by_state.setdefault(m.state_id, []).append(m)
    receiving_users = {}
    for institution in Institution.objects.filter(
        kind__in=[K.PUBLIC_PROSECUTOR, K.CIVIC_JUDGE, K.ADOLESCENT_JUSTICE, K.PRISON]
    ):
        user, _ = User.objects.get_or_create(
            username=f"demo.{institution.code}",
            defaults={"role": Role.RECEIVING, "institution": institution},
        )
        if user.has_usable_password():
            user.set_unusable_password()
            user.save()
        receiving_users[institution.code] = user
    prisons = {i.state_id: i for i in Institution.objects.filter(kind=K.PRISON)}
    now = timezone.now()
    registered = rejected = 0
    for number in range(count):
        institution = rnd.choice(police)
        assert institution.state_id is not None
        municipalities = (
            [institution.municipality]
            if institution.municipality
            else by_state[institution.state_id]
        )
        capture, registered_at = synthetic_capture(
            rnd, fake, institution, municipalities, receivers, now
        )
        try:
            with transaction.atomic():
                result = detention_register(
                    actor=officers[institution.pk],
                    data=capture,
                    channel=Channel.CLI,
                    now=registered_at,
                )
            registered += 1
        except RegistrationRejected:
            rejected += 1
        else:
            advance_chain(
                rnd,
                result.detention.folio,
                capture,
                officers[institution.pk],
                receiving_users,
                prisons.get(institution.state_id or ""),
                now,
            )
        if progress:
            progress(number + 1)
    return registered, rejected


def _authority(receiver_code: str | None, kind: str, name: str) -> dict[str, Any]:
    return {"kind": kind, "name": name, "institution": receiver_code}


def advance_chain(
    rnd: random.Random,
    folio: str,
    capture: dict[str, Any],
    police: User,
    receiving_users: dict[str, User],
    prison: Institution | None,
    now: datetime,
) -> None:
    """Walk a detention along a plausible custody chain, stopping at the present: recent
    detentions are still early in their chain, old ones are finished. A few chains are late on
    purpose, so the alerts page and the monthly report have breaches to find."""
    start = datetime.fromisoformat(capture["detained_at"])
    receiving = capture["receiving_authority"]
    receiver = receiving_users.get(receiving.get("institution") or "")
    late = rnd.random() < 0.06
    steps: list[tuple[User, float, dict[str, Any]]] = []
    handover_at = rnd.uniform(5, 14) if late else rnd.uniform(0.4, 3)
    handover = _authority(receiving.get("institution"), receiving["kind"], receiving["name"])
    roll = rnd.random()
    if roll < 0.015:
        steps.append(
            (
                police,
                rnd.uniform(0.5, 3),
                {
                    "kind": "died_in_custody",
                    "details": "Se dio vista al Ministerio Público y a la comisión de derechos "
                    "humanos.",
                },
            )
        )
    elif roll < 0.035:
        steps.append((police, rnd.uniform(0.5, 2), {"kind": "escaped"}))
        steps.append((police, rnd.uniform(30, 200), {"kind": "recaptured"}))
    else:
        steps.append(
            (
                police,
                handover_at,
                {
                    "kind": "handed_over",
                    "authority": handover,
                    "legal_status": "retencion_ministerial"
                    if receiving["kind"] == "public_prosecutor"
                    else None,
                },
            )
        )
    actor = receiver or police
    if receiving["kind"] == "civic_judge" and roll >= 0.035:
        hours = rnd.uniform(38, 45) if late else rnd.uniform(4, 34)
        steps.append(
            (
                actor,
                handover_at + hours,
                {"kind": "released", "details": "Cumplió el arresto administrativo."},
            )
        )
    elif receiving["kind"] == "public_prosecutor" and roll >= 0.035:
        judge_at = handover_at + (rnd.uniform(49, 60) if late else rnd.uniform(12, 46))
        if rnd.random() < 0.3:
            steps.append(
                (
                    actor,
                    judge_at,
                    {
                        "kind": "released",
                        "legal_status": "libertad",
                        "details": "Libertad por falta de elementos.",
                    },
                )
            )
        else:
            steps.append(
                (
                    actor,
                    judge_at,
                    {
                        "kind": "presented_to_judge",
                        "authority": {
                            "kind": "judge",
                            "name": "Juez de Control del Distrito Judicial",
                        },
                    },
                )
            )
            decision_at = judge_at + rnd.uniform(20, 70)
            steps.append(
                (
                    actor,
                    decision_at,
                    {"kind": "legal_status_changed", "legal_status": "vinculacion_a_proceso"},
                )
            )
            if rnd.random() < 0.65:
                prison_code = prison.code if prison else None
                prison_user = receiving_users.get(prison_code or "") or actor
                steps.append(
                    (
                        prison_user,
                        decision_at + rnd.uniform(1, 6),
                        {
                            "kind": "admitted_to_prison",
                            "legal_status": "prision_preventiva",
                            "authority": _authority(
                                prison_code,
                                "prison",
                                prison.name if prison else "Centro penitenciario",
                            ),
                        },
                    )
                )
            else:
                steps.append(
                    (
                        actor,
                        decision_at + 0.5,
                        {"kind": "released", "legal_status": "medida_cautelar_distinta"},
                    )
                )
    elif receiving["kind"] == "adolescent_justice" and roll >= 0.035:
        steps.append(
            (
                actor,
                handover_at + rnd.uniform(10, 30),
                {"kind": "released", "details": "Entregado a su madre; proceso en libertad."},
            )
        )
    for user, hours, body in steps:
        occurred = start + timedelta(hours=hours)
        if occurred > now:
            return
        data = {k: v for k, v in body.items() if v is not None}
        data["occurred_at"] = occurred.isoformat()
        try:
            event_record(
                actor=user,
                folio=folio,
                data=data,
                channel=Channel.CLI,
                now=min(now, occurred + timedelta(minutes=rnd.randint(2, 40))),
            )
        except (EventRejected, VersionConflict, access.AccessDenied):
            return
