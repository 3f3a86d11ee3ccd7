"""Each role sees exactly the detentions its role and jurisdiction allow, on pages and API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from conftest import capture, client_for
from custodia.core.models import AccessLog, Role, User
from custodia.registry.models import Detention
from custodia.registry.services import detention_register


def register(user: User, **overrides: Any) -> str:
    return detention_register(actor=user, data=capture(**overrides), channel="api").detention.folio


@pytest.fixture
def world(make_user: Callable[..., User]) -> dict[str, Any]:
    """Two detentions in Tlaxcala (state police, handed to the Tlaxcala prosecutor), one by a
    municipal police of Tlaxcala, and one in Chihuahua."""
    tlax = make_user(Role.CAPTURE, "ssc-tlax")
    apizaco = make_user(Role.CAPTURE, "pm-apizaco")
    chih = make_user(Role.CAPTURE, "sspe-chih")
    folios = {
        "tlax1": register(tlax),
        "tlax2": register(tlax),
        "apizaco": register(apizaco, receiving_authority__institution=None),
        "chih": register(
            chih,
            place__state="08",
            place__municipality="08037",
            place__latitude=31.69,
            place__longitude=-106.42,
            receiving_authority__institution="fge-chih",
        ),
    }
    return {"folios": folios, "tlax": tlax}


def visible(user: User) -> set[str]:
    response = client_for(user).get("/api/v1/detentions")
    assert response.status_code == 200
    return {d["folio"] for d in response.json()["results"]}


@pytest.mark.parametrize(
    ("role", "institution", "expected"),
    [
        (Role.CAPTURE, "ssc-tlax", {"tlax1", "tlax2"}),
        (Role.SUPERVISOR, "pm-apizaco", {"apizaco"}),
        (Role.RECEIVING, "fgje-tlax", {"tlax1", "tlax2"}),
        (Role.RECEIVING, "fge-chih", {"chih"}),
        (Role.STATE_ANALYST, "ssc-tlax", {"tlax1", "tlax2", "apizaco"}),
        (Role.STATE_ANALYST, "sspe-chih", {"chih"}),
        (Role.NATIONAL_ANALYST, "st-cnssp", {"tlax1", "tlax2", "apizaco", "chih"}),
        (Role.AUDITOR, "cndh", {"tlax1", "tlax2", "apizaco", "chih"}),
        (Role.ADMIN, "st-cnssp", set()),
    ],
)
def test_list_shows_only_the_jurisdiction(
    world: dict[str, Any],
    make_user: Callable[..., User],
    role: str,
    institution: str,
    expected: set[str],
) -> None:
    user = make_user(role, institution)
    assert visible(user) == {world["folios"][k] for k in expected}


def test_reading_outside_the_jurisdiction_is_403_and_not_logged_as_read(
    world: dict[str, Any], make_user: Callable[..., User]
) -> None:
    outsider = make_user(Role.STATE_ANALYST, "sspe-chih")
    folio = world["folios"]["tlax1"]
    response = client_for(outsider).get(f"/api/v1/detentions/{folio}")
    assert response.status_code == 403
    assert "jurisdicción" in response.json()["errors"][0]["message"]
    assert not AccessLog.objects.filter(folio=folio, username=outsider.username).exists()


@pytest.mark.writes_projection_directly
def test_capture_loses_sight_of_closed_detentions_but_supervisor_keeps_it(
    world: dict[str, Any], make_user: Callable[..., User]
) -> None:
    from custodia.core.access import detention_scope

    tlax: User = world["tlax"]
    supervisor = make_user(Role.SUPERVISOR, "ssc-tlax")
    released = Detention.objects.get(folio=world["folios"]["tlax1"])
    # The projection column is what the scope reads; a released person is no longer "open".
    Detention.objects.filter(pk=released.pk).update(status="released")
    assert not Detention.objects.filter(detention_scope(tlax), pk=released.pk).exists()
    assert Detention.objects.filter(detention_scope(supervisor), pk=released.pk).exists()


def test_inactive_user_sees_nothing(world: dict[str, Any]) -> None:
    user: User = world["tlax"]
    token_client = client_for(user)
    user.is_active = False
    user.save()
    assert token_client.get("/api/v1/detentions").status_code == 401


def test_list_read_is_written_to_the_access_log_per_folio(
    world: dict[str, Any], make_user: Callable[..., User]
) -> None:
    analyst = make_user(Role.NATIONAL_ANALYST, "st-cnssp")
    visible(analyst)
    logged = set(
        AccessLog.objects.filter(username=analyst.username, action="detention.list").values_list(
            "folio", flat=True
        )
    )
    assert logged == set(world["folios"].values())


def test_list_pages_with_an_opaque_cursor(make_user: Callable[..., User]) -> None:
    officer = make_user(Role.CAPTURE, "ssc-tlax")
    folios = {register(officer) for _ in range(5)}
    api = client_for(officer)
    seen: list[str] = []
    pages = 0
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = api.get("/api/v1/detentions", params).json()
        pages += 1
        seen += [d["folio"] for d in page["results"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert pages == 3
    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == folios


def test_list_filters_by_state_and_time(
    world: dict[str, Any], make_user: Callable[..., User]
) -> None:
    analyst = make_user(Role.NATIONAL_ANALYST, "st-cnssp")
    api = client_for(analyst)
    only_chih = api.get("/api/v1/detentions", {"state": "08"}).json()["results"]
    assert {d["folio"] for d in only_chih} == {world["folios"]["chih"]}
    none = api.get("/api/v1/detentions", {"to": "2020-01-01T00:00:00-06:00"}).json()["results"]
    assert none == []


def test_pages_apply_the_same_scope(world: dict[str, Any], make_user: Callable[..., User]) -> None:
    receiver = make_user(Role.RECEIVING, "fge-chih")
    web = Client()
    web.force_login(receiver)
    page = web.get("/detenciones/")
    assert page.status_code == 200
    html = page.content.decode()
    assert world["folios"]["chih"] in html
    assert world["folios"]["tlax1"] not in html
    assert web.get(f"/detenciones/{world['folios']['tlax1']}/").status_code == 403
    assert web.get("/detenciones/nueva/").status_code == 403
