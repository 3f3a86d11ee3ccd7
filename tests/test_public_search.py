"""The public consultation (issue 5): API and page, privacy, rate limits, the index kept current."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from conftest import register_person
from custodia.core.models import AccessLog, Role, User
from custodia.lookup.models import NameEntry, NameKey
from custodia.lookup.public import PUBLIC_FIELDS
from custodia.registry.models import Detention
from custodia.registry.services import detention_redact, event_record

SEARCH = "/api/v1/public/search"
ANSWER_KEYS = {"results", "total_matches", "notice"}


def register(officer: User, given: str, first: str, second: str = "", **extra: Any) -> Detention:
    """No CURP, birth date or alias unless given: the search must work from the name alone."""
    person = {"curp": "", "birth_date": None, "alias": ""} | extra.pop("person", {})
    detention: Detention = register_person(officer, given, first, second, person=person, **extra)
    return detention


def search(client: Client, **params: Any) -> Any:
    return client.get(SEARCH, params)


def names_in(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [r["name"] for r in response.json()["results"]]


def assert_only_public_fields(body: dict[str, Any]) -> None:
    assert set(body) <= ANSWER_KEYS, body
    for row in body["results"]:
        assert set(row) == set(PUBLIC_FIELDS), row


@pytest.fixture
def population(officer: User) -> dict[str, Detention]:
    return {
        "jose": register(officer, "José Luis", "Hernández", "López"),
        "brother": register(officer, "Juan Carlos", "Hernández", "López"),
        "cousin": register(officer, "José Luis", "Hernández", "Martínez"),
        "namesake": register(officer, "José Luis", "Fernández", "López"),
        "ximena": register(officer, "Ximena", "Gutiérrez", "Valdovinos", person={"sex": "female"}),
        "lupe": register(officer, "María Guadalupe", "Sánchez", "", person={"sex": "female"}),
    }


@pytest.mark.parametrize(
    ("typed", "who"),
    [
        (
            {"given_names": "Jose Luis", "first_surname": "Hernandez", "second_surname": "Lopez"},
            "jose",
        ),
        ({"given_names": "JOSÉ LUIS", "first_surname": "HERNÁNDEZ LÓPEZ"}, "jose"),
        (
            {"given_names": "Jose Luis", "first_surname": "Lopez", "second_surname": "Hernandez"},
            "jose",
        ),
        (
            {"given_names": "Jsoe Luis", "first_surname": "Hernadez", "second_surname": "Lopez"},
            "jose",
        ),
        ({"given_names": "Pepe", "first_surname": "Hernández", "second_surname": "López"}, "jose"),
        (
            {"given_names": "Jimena", "first_surname": "Gutierrez", "second_surname": "Baldobinos"},
            "ximena",
        ),
        ({"given_names": "Lupe", "first_surname": "Sanchez"}, "lupe"),
        ({"given_names": "Maria", "first_surname": "Sanches"}, "lupe"),
    ],
)
def test_a_family_finds_the_person_the_way_they_type_the_name(
    population: dict[str, Detention], typed: dict[str, str], who: str
) -> None:
    response = search(Client(), **typed)
    found = names_in(response)
    assert found, typed
    assert found[0] == population[who].person.full_name, found
    assert_only_public_fields(response.json())


def test_an_answer_carries_only_the_allowed_fields_with_the_right_values(
    population: dict[str, Detention],
) -> None:
    body = search(
        Client(), given_names="José Luis", first_surname="Hernández", second_surname="López"
    ).json()
    assert_only_public_fields(body)
    top = body["results"][0]
    d = Detention.objects.get(pk=population["jose"].pk)
    assert top["name"] == "José Luis Hernández López"
    assert top["detaining_authority"] == d.institution.name
    assert top["current_authority"] == d.current_authority
    assert top["current_location"] == d.current_location
    assert (
        top["detained_on"]
        == d.detained_at.astimezone(timezone.get_fixed_timezone(-360)).date().isoformat()
    )
    assert top["updated_at"].endswith("Z")
    text = str(body)
    for secret in (d.folio, "El Güero", "robo", "María López", "+522461234567", "Pedro Ruiz"):
        assert secret not in text


def test_released_people_disappear_at_once_and_come_back_if_held_again(
    population: dict[str, Detention], make_user: Callable[..., User]
) -> None:
    officer = User.objects.get(pk=population["jose"].registered_by_id)
    folio = population["jose"].folio
    typed = {"given_names": "José Luis", "first_surname": "Hernández", "second_surname": "López"}
    assert "José Luis Hernández López" in names_in(search(Client(), **typed))
    event_record(
        actor=officer,
        folio=folio,
        data={
            "kind": "released",
            "occurred_at": timezone.now().isoformat(),
            "details": "sin cargos",
        },
        channel="api",
    )
    assert "José Luis Hernández López" not in names_in(search(Client(), **typed))
    assert not NameKey.objects.filter(entry_id=population["jose"].pk, held=True).exists()
    # The record stays for officials: the entry is kept, only out of the public view.
    assert NameEntry.objects.filter(pk=population["jose"].pk, held=False).exists()


def test_redaction_takes_the_person_out_of_every_search(
    population: dict[str, Detention], make_user: Callable[..., User]
) -> None:
    admin = make_user(Role.ADMIN, "st-cnssp")
    detention_redact(
        actor=admin, folio=population["ximena"].folio, reason="Resolución del INAI 123/2026"
    )
    assert names_in(search(Client(), given_names="Ximena", first_surname="Gutiérrez")) == []
    assert not NameEntry.objects.filter(pk=population["ximena"].pk).exists()


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({}, {"given_names", "first_surname"}),
        ({"given_names": "José"}, {"first_surname"}),
        ({"first_surname": "Hernández"}, {"given_names"}),
        ({"given_names": "J", "first_surname": "H"}, {"given_names", "first_surname"}),
        ({"given_names": "José", "first_surname": "Pérez", "state": "99"}, {"state"}),
        ({"given_names": "José", "first_surname": "Pérez", "age": "diez"}, {"age"}),
        ({"given_names": "José", "first_surname": "Pérez", "age": "300"}, {"age"}),
        (
            {"given_names": "José", "first_surname": "Pérez", "detained_from": "30/06/2020"},
            {"detained_from"},
        ),
        (
            {
                "given_names": "José",
                "first_surname": "Pérez",
                "detained_from": "2020-07-01",
                "detained_to": "2020-06-01",
            },
            {"detained_to"},
        ),
        ({"given_names": "x" * 121, "first_surname": "Pérez"}, {"given_names"}),
    ],
)
def test_bad_queries_get_a_spanish_400_naming_each_field(
    db: Any, params: dict[str, str], fields: set[str]
) -> None:
    response = search(Client(), **params)
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert {e["field"] for e in errors} == fields
    for error in errors:
        assert error["code"] == "HTTP-400"
        assert any(
            word in error["message"]
            for word in ("obligatorio", "use", "Elija", "elija", "número", "máximo", "posterior")
        )


def test_no_listing_without_a_specific_query(population: dict[str, Detention]) -> None:
    """Wildcards and punctuation are not names: nothing is listed."""
    for params in (
        {"given_names": "*", "first_surname": "*"},
        {"given_names": "%", "first_surname": "%"},
        {"given_names": "a", "first_surname": "e"},
    ):
        assert search(Client(), **params).status_code == 400


def test_many_equally_good_matches_ask_for_a_narrowing_field(officer: User) -> None:
    for _ in range(12):
        register(officer, "Juan", "Hernández", "Pérez")
    register(officer, "Juan", "Hernández", "Ortiz", place={"state": "08", "municipality": "08019"})
    body = search(Client(), given_names="Juan", first_surname="Hernández").json()
    assert body["results"] == []
    assert body["total_matches"] == 13
    assert "segundo apellido" in body["notice"]
    narrowed = search(Client(), given_names="Juan", first_surname="Hernández", state="08").json()
    assert [r["name"] for r in narrowed["results"]] == ["Juan Hernández Ortiz"]
    exact = search(
        Client(), given_names="Juan", first_surname="Hernández", second_surname="Ortiz"
    ).json()
    assert exact["results"][0]["name"] == "Juan Hernández Ortiz"


def test_narrowing_by_age_and_detention_dates(officer: User) -> None:
    register(officer, "Pedro", "Ramírez", "Luna", person={"age": 19})
    register(officer, "Pedro", "Ramírez", "Luna", person={"age": 52})
    both = search(Client(), given_names="Pedro", first_surname="Ramírez", second_surname="Luna")
    assert len(names_in(both)) == 2
    young = search(
        Client(), given_names="Pedro", first_surname="Ramírez", second_surname="Luna", age="20"
    )
    assert len(names_in(young)) == 1
    today = timezone.now().date()
    later = search(
        Client(),
        given_names="Pedro",
        first_surname="Ramírez",
        detained_from=(today + timedelta(days=2)).isoformat(),
    )
    assert names_in(later) == []


def test_every_public_search_is_access_logged(population: dict[str, Detention]) -> None:
    before = AccessLog.objects.filter(action="public.search").count()
    search(Client(), given_names="José Luis", first_surname="Hernández", second_surname="López")
    search(Client(), given_names="Nadie", first_surname="Existente")
    rows = list(AccessLog.objects.filter(action="public.search").order_by("id"))[before:]
    assert population["jose"].folio in {r.folio for r in rows}
    assert any(r.folio == "" for r in rows)  # the search that found nobody is logged too
    assert all(r.user_id is None and r.channel in ("api", "web") for r in rows)


def test_rate_limit_answers_429_with_retry_after(db: Any, settings: Any) -> None:
    settings.CUSTODIA_RATE_LIMITS = True
    settings.CUSTODIA_PUBLIC_SEARCH_RATES = "3/minute"
    cache.clear()
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(3):
        assert search(client, given_names="Ana", first_surname="Ruiz").status_code == 200
    limited = search(client, given_names="Ana", first_surname="Ruiz")
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert "Demasiadas consultas" in limited.json()["errors"][0]["message"]
    # Another client is not affected; the page is limited by the same count.
    assert (
        search(
            Client(REMOTE_ADDR="203.0.113.8"), given_names="Ana", first_surname="Ruiz"
        ).status_code
        == 200
    )
    page = client.get("/consulta/", {"given_names": "Ana", "first_surname": "Ruiz"})
    assert page.status_code == 429
    assert "Demasiadas consultas" in page.content.decode()
    cache.clear()


def test_the_page_shows_matches_and_only_the_allowed_fields(
    population: dict[str, Detention],
) -> None:
    page = Client().get(
        "/consulta/",
        {"given_names": "Pepe", "first_surname": "Hernandez", "second_surname": "Lopez"},
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "José Luis Hernández López" in html
    assert population["jose"].folio not in html
    assert "El Güero" not in html and "robo" not in html


def test_the_page_explains_what_no_match_means_and_what_to_do(
    db: Any, settings: Any, tmp_path: Any
) -> None:
    page = Client().get("/consulta/", {"given_names": "Nadie", "first_surname": "Existente"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "no significa que la persona no esté detenida" in html
    assert "911" in html
    custom = tmp_path / "ayuda.txt"
    custom.write_text("Comisión Local de Búsqueda: 800 000 0000\n\nOtra línea", encoding="utf-8")
    settings.CUSTODIA_PUBLIC_HELP_FILE = custom
    html = (
        Client()
        .get("/consulta/", {"given_names": "Nadie", "first_surname": "Existente"})
        .content.decode()
    )
    assert "Comisión Local de Búsqueda: 800 000 0000" in html


def test_the_page_reports_bad_fields_in_spanish_without_a_500(db: Any) -> None:
    page = Client().get("/consulta/", {"given_names": "José", "first_surname": "", "age": "x"})
    assert page.status_code == 400
    html = page.content.decode()
    assert "Primer apellido: es obligatorio" in html
    assert "Edad aproximada" in html
    assert 'aria-invalid="true"' in html


def test_the_empty_page_needs_no_login(db: Any) -> None:
    page = Client().get("/consulta/")
    assert page.status_code == 200
    assert "¿Está detenida esta persona?" in page.content.decode()


def test_reindex_rebuilds_the_same_index_and_keeps_redacted_people_out(
    population: dict[str, Detention], make_user: Callable[..., User]
) -> None:
    from django.core.management import call_command

    from custodia.lookup.models import NameVariant

    admin = make_user(Role.ADMIN, "st-cnssp")
    detention_redact(actor=admin, folio=population["lupe"].folio, reason="Orden judicial 9/2026")

    def snapshot() -> tuple[set[Any], set[Any], set[Any]]:
        return (
            set(NameEntry.objects.values_list("pk", "held", "given", "first", "second", "state")),
            set(NameKey.objects.values_list("entry_id", "key", "held", "state", "entry_keys")),
            set(NameVariant.objects.values_list("variant", "key")),
        )

    before = snapshot()
    # Every key carries how many keys its entry has.
    per_entry = Counter(entry for entry, *_ in before[1])
    assert per_entry and all(count == per_entry[entry] for entry, *_, count in before[1])
    NameKey.objects.all().delete()
    call_command("lookup", "reindex")
    after = snapshot()
    assert after[0] == before[0] and after[1] == before[1]
    # The vocabulary holds every word of the indexed names (and the redacted name's no more).
    vocabulary = {k for v, k in after[2] if v == k}
    assert after[2] <= before[2]
    pairs = [key for _, key, *_ in after[1] if not key.startswith("alias/")]
    assert {part for key in pairs for part in key.split("/")} <= vocabulary
    assert "guadalupe" not in vocabulary
    assert population["lupe"].pk not in {pk for pk, *_ in after[0]}
    assert names_in(search(Client(), given_names="Pepe", first_surname="Hernández"))


def test_an_exact_match_is_shown_with_a_notice_when_many_others_are_close(officer: User) -> None:
    register(officer, "José", "Ruiz", "")  # registered without a second surname
    for second in (
        "López",
        "Pérez",
        "Soto",
        "Luna",
        "Vega",
        "Mora",
        "Leal",
        "Rey",
        "Paz",
        "Ríos",
        "Gil",
    ):
        register(officer, "José", "Ruiz", second)
    body = search(Client(), given_names="José", first_surname="Ruiz").json()
    assert [r["name"] for r in body["results"]] == ["José Ruiz"]
    assert body["total_matches"] == 12
    assert "hay 11 personas más" in body["notice"]


def test_a_bad_rate_limit_setting_stops_start_up_with_a_spanish_message(settings: Any) -> None:
    from custodia.core.ratelimit import check_rate_settings

    assert check_rate_settings() == []
    settings.CUSTODIA_PUBLIC_SEARCH_RATES = "diez/minuto"
    [error] = check_rate_settings()
    assert "CUSTODIA_PUBLIC_SEARCH_RATES" in error.msg
    assert "Límite de solicitudes no válido" in error.msg


def test_the_last_update_is_the_last_custody_event(population: dict[str, Detention]) -> None:
    from custodia.registry.models import CustodyEvent

    detention = population["jose"]
    officer = User.objects.get(pk=detention.registered_by_id)
    typed = {"given_names": "José Luis", "first_surname": "Hernández", "second_surname": "López"}

    def shown() -> str:
        rows = search(Client(), **typed).json()["results"]
        return str(next(r["updated_at"] for r in rows if r["name"] == "José Luis Hernández López"))

    def iso(moment: Any) -> str:
        return str(moment.astimezone(UTC).isoformat().replace("+00:00", "Z"))

    registered = CustodyEvent.objects.filter(detention=detention).latest("recorded_at")
    assert shown() == iso(registered.recorded_at)
    event_record(
        actor=officer,
        folio=detention.folio,
        data={"kind": "note", "occurred_at": timezone.now().isoformat(), "details": "visita"},
        channel="api",
    )
    note = CustodyEvent.objects.filter(detention=detention).latest("recorded_at")
    assert note.recorded_at > registered.recorded_at
    assert shown() == iso(note.recorded_at)


def test_the_closest_names_survive_the_candidate_limit(officer: User, monkeypatch: Any) -> None:
    """Candidates are cut before any name is read: of those sharing as many keys with the query,
    the ones without extra given names or surnames must be kept, however recent the others."""
    from custodia.lookup import search as name_search

    exact = register(officer, "José", "García", "Hernández")
    for given in ("José Luis", "José Antonio", "José Manuel", "José Ramón"):
        register(officer, given, "García", "Hernández")
    monkeypatch.setattr(name_search, "CANDIDATE_LIMIT", 2)
    typed = {"given_names": "José", "first_surname": "García", "second_surname": "Hernández"}
    found = names_in(search(Client(), **typed))
    assert found[0] == exact.person.full_name, found
