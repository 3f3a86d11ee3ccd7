"""Shared fixtures. The suite runs on SQLite by default and on PostgreSQL when DATABASE_URL
points at a server (``make test`` does both when CUSTODIA_TEST_POSTGRES is set)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from custodia.core.models import ApiToken, Institution, InstitutionKind, Role, User

K = InstitutionKind

# Property tests assert behaviour, not speed: a busy machine must not fail them for slow input
# generation or a slow example.
hypothesis_settings.register_profile(
    "custodia", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("custodia")


@pytest.fixture(autouse=True)
def no_rate_limits(settings: Any) -> None:
    """Public rate limits are lifted (CUSTODIA_RATE_LIMITS=off); the tests of the limits turn
    them back on."""
    settings.CUSTODIA_RATE_LIMITS = False


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def ledger_key(tmp_path_factory: pytest.TempPathFactory) -> str:
    from custodia.ledger import signing

    path = tmp_path_factory.mktemp("ledger") / "ledger_ed25519.pem"
    signing.generate(path)
    return str(path)


@pytest.fixture(autouse=True)
def ledger_settings(settings: Any, ledger_key: str) -> None:
    """Each test signs with a throw-away key, and checkpoints follow every write."""
    settings.CUSTODIA_LEDGER_KEY_PATH = ledger_key
    settings.CUSTODIA_CHECKPOINT_INTERVAL_SECONDS = 0


@pytest.fixture(autouse=True)
def projection_matches_events(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test that touched the database, the stored current state of every detention
    must equal the replay of its events (what `custodia registry rebuild --check` verifies)."""
    uses_db = "db" in request.fixturenames and not request.node.get_closest_marker(
        "writes_projection_directly"
    )
    if uses_db:
        request.getfixturevalue("db")  # set up before this fixture, so torn down after it
    yield
    if not uses_db:
        return
    from django.db import connection

    if connection.needs_rollback or not connection.is_usable():
        return
    from custodia.registry.management.commands.registry import differences
    from custodia.registry.models import Detention
    from custodia.registry.services import replay_detention

    found = {
        d.folio: diff
        for d in Detention.objects.select_related(
            "institution", "state", "municipality", "current_institution"
        )
        if (diff := differences(d, replay_detention(d)))
    }
    assert not found, f"stored state differs from the events: {found}"
    assert_report_counts_match_the_registry()


def assert_report_counts_match_the_registry() -> None:
    """The monthly report's rollup, kept current by every write, must equal a recount of the
    registry for every month that has detentions, events or counts (``rollup.check``)."""
    from zoneinfo import ZoneInfo

    from custodia.registry.models import CustodyEvent, Detention
    from custodia.reports import rollup
    from custodia.reports.models import StateMonthCount

    months = set(StateMonthCount.objects.values_list("month", flat=True))
    for moment, zone in [
        *Detention.objects.values_list("detained_at", "place_timezone"),
        *CustodyEvent.objects.values_list("recorded_at", "local_zone"),
    ]:
        local = moment.astimezone(ZoneInfo(zone))
        months.add(local.year * 100 + local.month)
    problems = [p for m in sorted(months) for p in rollup.check(m // 100, m % 100)]
    assert not problems, f"the report's counts differ from the registry: {problems[:5]}"


@pytest.fixture
def institutions(db: Any) -> dict[str, Institution]:
    specs = [
        ("ssc-tlax", "Secretaría de Seguridad Ciudadana de Tlaxcala", K.POLICE_STATE, "29"),
        ("pm-apizaco", "Policía Municipal de Apizaco", K.POLICE_MUNICIPAL, "29"),
        (
            "fgje-tlax",
            "Fiscalía General de Justicia del Estado de Tlaxcala",
            K.PUBLIC_PROSECUTOR,
            "29",
        ),
        ("jc-tlaxcala", "Juzgado Cívico de Tlaxcala", K.CIVIC_JUDGE, "29"),
        ("ja-tlax", "Justicia para Adolescentes de Tlaxcala", K.ADOLESCENT_JUSTICE, "29"),
        ("cereso-tlax", "Centro Penitenciario de Tlaxcala", K.PRISON, "29"),
        ("sspe-chih", "Secretaría de Seguridad Pública de Chihuahua", K.POLICE_STATE, "08"),
        ("fge-chih", "Fiscalía General del Estado de Chihuahua", K.PUBLIC_PROSECUTOR, "08"),
        ("st-cnssp", "Secretaría Técnica de la CNSSP", K.SECRETARIAT, "09"),
        ("cndh", "Comisión Nacional de los Derechos Humanos", K.HUMAN_RIGHTS, "09"),
    ]
    return {
        code: Institution.objects.create(code=code, name=name, kind=kind, state_id=state)
        for code, name, kind, state in specs
    }


@pytest.fixture
def make_user(institutions: dict[str, Institution]) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(role: str = Role.CAPTURE, institution: str = "ssc-tlax", **extra: Any) -> User:
        user = User.objects.create_user(
            username=f"{role}-{institution}-{next(counter)}",
            password="contraseña-de-prueba-123",
            role=role,
            institution=institutions[institution],
            **extra,
        )
        return user

    return make


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(Role.CAPTURE, "ssc-tlax")


def client_for(user: User) -> Client:
    """An API client that sends the user's bearer token."""
    _, raw = ApiToken.issue(user, name="pruebas")
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture
def api(officer: User) -> Client:
    return client_for(officer)


BIRTH_DATE = date(1986, 2, 11)
# Valid check digit for Juan Carlos Hernández López, man, born 1986-02-11 in Tlaxcala.
CURP = "HELJ860211HTLRPN09"


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def capture(**overrides: Any) -> dict[str, Any]:
    """A valid capture, as API.md shows it, detained 20 minutes ago in Tlaxcala."""
    detained = (timezone.now() - timedelta(minutes=20)).astimezone(
        timezone.get_fixed_timezone(-360)
    )
    body: dict[str, Any] = {
        "person": {
            "given_names": "Juan Carlos",
            "first_surname": "Hernández",
            "second_surname": "López",
            "alias": "El Güero",
            "sex": "male",
            "age": age_on(BIRTH_DATE, detained.date()),
            "birth_date": BIRTH_DATE.isoformat(),
            "curp": CURP,
            "nationality": "Mexicana",
            "physical_condition": "sin lesiones visibles",
            "distinguishing_marks": "tatuaje brazo izquierdo",
        },
        "detained_at": detained.isoformat(),
        "place": {
            "state": "29",
            "municipality": "29033",
            "address": "Av. Juárez 12, Centro",
            "latitude": 19.3139,
            "longitude": -98.2404,
        },
        "arrest_basis": "flagrante",
        "reason": "robo a transeúnte",
        "officers": [{"name": "Pedro Ruiz Soto", "rank": "policía tercero", "unit": "Sector 3"}],
        "receiving_authority": {
            "kind": "public_prosecutor",
            "name": "Fiscalía General de Justicia del Estado de Tlaxcala, MP Centro",
            "institution": "fgje-tlax",
        },
        "contact": {"name": "María López", "relationship": "madre", "phone": "+522461234567"},
        "force_used": False,
    }
    for path, value in overrides.items():
        target = body
        *parents, last = path.split("__")
        for key in parents:
            target = target[key]
        if value is _DELETE:
            target.pop(last, None)
        else:
            target[last] = value
    return body


_DELETE = object()
DELETE = _DELETE


def codes(response: Any) -> set[str]:
    return {e["code"] for e in response.json()["errors"]}


def register_person(
    officer: User,
    given: str,
    first: str,
    second: str = "",
    *,
    person: dict[str, Any] | None = None,
    **overrides: Any,
) -> Any:
    """Register, through the service, a person of this name detained 30 minutes ago; the rest
    is ``capture()``'s, with ``person`` and ``overrides`` on top. Returns the Detention."""
    from custodia.registry.services import detention_register

    fields = capture()["person"] | {
        "given_names": given,
        "first_surname": first,
        "second_surname": second,
    }
    fields.update(person or {})
    detained = timezone.now() - timedelta(minutes=30)
    return detention_register(
        actor=officer,
        data=capture(person=fields, detained_at=detained.isoformat(), **overrides),
        channel="api",
    ).detention
