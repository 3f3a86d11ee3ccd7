"""Officials' search of the whole history (issue 5): roles, jurisdiction, purpose, access log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import CURP, client_for, register_person
from custodia.core.models import AccessLog, Role, User
from custodia.registry.models import Detention
from custodia.registry.services import event_record

SEARCH = "/api/v1/people/search"
PURPOSE = "Carpeta de investigación 123/2026"


def register(officer: User, given: str, first: str, second: str, **extra: Any) -> Detention:
    detention: Detention = register_person(officer, given, first, second, **extra)
    return detention


@pytest.fixture
def history(make_user: Callable[..., User]) -> dict[str, Detention]:
    tlax = make_user(Role.CAPTURE, "ssc-tlax")
    chih = make_user(Role.CAPTURE, "sspe-chih")
    released = register(
        tlax, "Rosario", "Domínguez", "Peña", person={"alias": "La Chayo", "curp": ""}
    )
    event_record(
        actor=tlax,
        folio=released.folio,
        data={"kind": "released", "occurred_at": timezone.now().isoformat()},
        channel="api",
    )
    return {
        "released": released,
        "held": register(tlax, "Juan Carlos", "Hernández", "López", person={"curp": CURP}),
        "chihuahua": register(
            chih,
            "Juan Carlos",
            "Hernández",
            "López",
            person={"curp": "", "alias": "El Flaco"},
            place={"state": "08", "municipality": "08019"},
            receiving_authority={
                "kind": "public_prosecutor",
                "name": "Fiscalía de Chihuahua",
                "institution": "fge-chih",
            },
        ),
    }


def folios(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [r["folio"] for r in response.json()["results"]]


def test_released_people_are_found_by_name_alias_curp_and_folio(
    history: dict[str, Detention], make_user: Callable[..., User]
) -> None:
    analyst = client_for(make_user(Role.STATE_ANALYST, "ssc-tlax"))
    folio = history["released"].folio
    by_name = analyst.get(
        SEARCH, {"given_names": "Chayo", "first_surname": "Dominguez", "purpose": PURPOSE}
    )
    assert folios(by_name) == [folio]
    assert by_name.json()["results"][0]["status"] == "released"
    assert folios(analyst.get(SEARCH, {"alias": "chayo", "purpose": PURPOSE})) == [folio]
    assert folios(analyst.get(SEARCH, {"folio": folio.lower(), "purpose": PURPOSE})) == [folio]
    assert folios(analyst.get(SEARCH, {"curp": CURP, "purpose": PURPOSE})) == [
        history["held"].folio
    ]


def test_search_stays_within_jurisdiction(
    history: dict[str, Detention], make_user: Callable[..., User]
) -> None:
    query = {"given_names": "Juan Carlos", "first_surname": "Hernández", "purpose": PURPOSE}
    tlaxcala = client_for(make_user(Role.STATE_ANALYST, "ssc-tlax"))
    chihuahua = client_for(make_user(Role.STATE_ANALYST, "sspe-chih"))
    national = client_for(make_user(Role.NATIONAL_ANALYST, "st-cnssp"))
    assert folios(tlaxcala.get(SEARCH, query)) == [history["held"].folio]
    assert folios(chihuahua.get(SEARCH, query)) == [history["chihuahua"].folio]
    assert set(folios(national.get(SEARCH, query))) == {
        history["held"].folio,
        history["chihuahua"].folio,
    }
    # Another state's folio or alias is not found, not even as "forbidden".
    assert folios(tlaxcala.get(SEARCH, {"alias": "El Flaco", "purpose": PURPOSE})) == []
    assert (
        folios(tlaxcala.get(SEARCH, {"folio": history["chihuahua"].folio, "purpose": PURPOSE}))
        == []
    )


def test_capture_role_and_anonymous_callers_may_not_search(
    history: dict[str, Detention], make_user: Callable[..., User]
) -> None:
    police = client_for(make_user(Role.CAPTURE, "ssc-tlax"))
    query = {"given_names": "Juan", "first_surname": "Hernández", "purpose": PURPOSE}
    assert police.get(SEARCH, query).status_code == 403
    assert Client().get(SEARCH, query).status_code == 401
    page = Client()
    page.force_login(make_user(Role.CAPTURE, "ssc-tlax"))
    assert page.get("/busqueda/", query).status_code == 403
    assert Client().get("/busqueda/").status_code == 302  # to the login page


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"given_names": "Juan", "first_surname": "Hernández"}, {"purpose"}),
        ({"given_names": "Juan", "first_surname": "Hernández", "purpose": "ver"}, {"purpose"}),
        ({"purpose": PURPOSE}, {"given_names"}),
        ({"given_names": "Juan", "purpose": PURPOSE}, {"given_names"}),
        ({"curp": "ABC", "purpose": PURPOSE}, {"curp"}),
        ({"folio": "29-2026-XXXX", "purpose": PURPOSE}, {"folio"}),
    ],
)
def test_bad_searches_get_a_spanish_400(
    db: Any, make_user: Callable[..., User], params: dict[str, str], fields: set[str]
) -> None:
    response = client_for(make_user(Role.AUDITOR, "cndh")).get(SEARCH, params)
    assert response.status_code == 400, response.content
    assert {e["field"] for e in response.json()["errors"]} == fields


def test_every_search_and_every_result_opened_is_logged_with_its_purpose(
    history: dict[str, Detention], make_user: Callable[..., User]
) -> None:
    auditor = make_user(Role.AUDITOR, "cndh")
    api = client_for(auditor)
    before = AccessLog.objects.count()
    api.get(SEARCH, {"given_names": "Rosario", "first_surname": "Domínguez", "purpose": PURPOSE})
    api.get(SEARCH, {"given_names": "Nadie", "first_surname": "Jamás", "purpose": PURPOSE})
    folio = history["released"].folio
    api.get(f"/api/v1/detentions/{folio}", {"purpose": PURPOSE})
    page = Client()
    page.force_login(auditor)
    html = page.get(
        "/busqueda/", {"given_names": "Rosario", "first_surname": "Domínguez", "purpose": PURPOSE}
    ).content.decode()
    assert f"/detenciones/{folio}/?proposito=" in html
    page.get(f"/detenciones/{folio}/", {"proposito": PURPOSE})
    rows = list(AccessLog.objects.order_by("id"))[before:]
    searches = [r for r in rows if r.action == "people.search"]
    assert [(r.folio, r.channel) for r in searches] == [
        (folio, "api"),
        ("", "api"),
        (folio, "web"),
    ]
    assert all(r.purpose == PURPOSE and r.username == auditor.username for r in searches)
    opened = [r for r in rows if r.folio == folio and r.action != "people.search"]
    assert {r.channel for r in opened} == {"api", "web"}
    assert all(r.purpose == PURPOSE for r in opened)


def test_the_page_lists_results_with_their_status(
    history: dict[str, Detention], make_user: Callable[..., User]
) -> None:
    page = Client()
    page.force_login(make_user(Role.SUPERVISOR, "ssc-tlax"))
    response = page.get(
        "/busqueda/",
        {"given_names": "Juan Carlos", "first_surname": "Hernandez", "purpose": PURPOSE},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert history["held"].folio in html and history["chihuahua"].folio not in html
    assert "Bajo custodia policial" in html
    bad = page.get("/busqueda/", {"given_names": "Juan", "first_surname": "Pérez"})
    assert bad.status_code == 400
    assert "Propósito: indique para qué consulta" in bad.content.decode()
