"""The server-rendered pages: login, capture form, detention page, list, rules, tokens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.test import Client
from django.utils import timezone

from custodia.core.models import AccessLog, ApiToken, Role, User
from custodia.registry.models import CustodyEvent, Detention


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form(**overrides: str) -> dict[str, str]:
    local = (timezone.now() - timedelta(minutes=15)).astimezone(ZoneInfo("America/Mexico_City"))
    data = {
        "person.given_names": "Ana María",
        "person.first_surname": "Pérez",
        "person.second_surname": "Cuamatzi",
        "person.sex": "female",
        "person.age": "29",
        "person.physical_condition": "sin lesiones visibles",
        "detained_at": local.strftime("%Y-%m-%dT%H:%M"),
        "arrest_basis": "flagrante",
        "reason": "robo a transeúnte",
        "place.state": "29",
        "place.municipality": "29033",
        "place.latitude": "19.31",
        "place.longitude": "-98.24",
        "officers[0].name": "Pedro Ruiz Soto",
        "officers[0].rank": "policía tercero",
        "receiving_authority.kind": "public_prosecutor",
        "receiving_authority.name": "MP Centro",
        "receiving_authority.institution": "fgje-tlax",
    }
    data.update(overrides)
    return data


def test_login_page_is_spanish_and_rejects_a_wrong_password(make_user: Callable[..., User]) -> None:
    user = make_user(Role.CAPTURE)
    client = Client()
    page = client.get("/entrar/")
    assert page.status_code == 200 and 'lang="es-MX"' in page.content.decode()
    bad = client.post("/entrar/", {"username": user.username, "password": "mala"})
    assert "Usuario o contraseña incorrectos" in bad.content.decode()
    good = client.post(
        "/entrar/", {"username": user.username, "password": "contraseña-de-prueba-123"}
    )
    assert good.status_code == 302
    assert client.get("/").url == "/detenciones/nueva/"


def test_anonymous_users_are_sent_to_login(db: Any) -> None:
    response = Client().get("/detenciones/")
    assert response.status_code == 302 and response.url.startswith("/entrar/")


def test_capture_form_registers_and_shows_the_detention(officer: User) -> None:
    client = logged_in(officer)
    response = client.post("/detenciones/nueva/", form(), follow=True)
    assert response.status_code == 200
    detention = Detention.objects.get()
    html = response.content.decode()
    assert detention.folio in html
    assert "Ana María Pérez Cuamatzi" in html
    assert "Registro de la detención" in html
    # The time typed at the place is read in the place's time zone.
    local = detention.detained_at.astimezone(ZoneInfo("America/Mexico_City"))
    assert local.strftime("%Y-%m-%dT%H:%M") == form()["detained_at"][:16] or abs(
        (timezone.now() - detention.detained_at) - timedelta(minutes=15)
    ) < timedelta(minutes=2)
    assert CustodyEvent.objects.filter(detention=detention, kind="registered").exists()
    assert AccessLog.objects.filter(folio=detention.folio, channel="web").exists()


def test_capture_in_another_time_zone_uses_that_places_offset(officer: User) -> None:
    client = logged_in(officer)
    client.post(
        "/detenciones/nueva/",
        form(
            **{
                "place.state": "08",
                "place.municipality": "08037",
                "place.latitude": "31.69",
                "place.longitude": "-106.42",
                "receiving_authority.institution": "",
                "detained_at": (timezone.now() - timedelta(minutes=15))
                .astimezone(ZoneInfo("America/Ciudad_Juarez"))
                .strftime("%Y-%m-%dT%H:%M"),
            }
        ),
    )
    detention = Detention.objects.get()
    assert detention.place_timezone == "America/Ciudad_Juarez"
    delay = timezone.now() - detention.detained_at
    assert timedelta(minutes=13) < delay < timedelta(minutes=17)
    assert "RND-W201" not in detention.warning_codes


def test_form_errors_are_shown_beside_their_fields_and_nothing_is_written(officer: User) -> None:
    client = logged_in(officer)
    response = client.post(
        "/detenciones/nueva/",
        form(
            **{
                "person.given_names": "",
                "officers[0].name": "",
                "officers[0].rank": "",
            }
        ),
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "No se registró la detención" in html
    assert 'id="f-person-given_names-err"' in html
    assert 'id="f-officers-0-name-err"' in html
    assert 'value="Pérez"' in html, "what was typed is kept"
    # Once the shape is right, the rules about meaning speak, also beside their fields.
    second = client.post("/detenciones/nueva/", form(**{"person.curp": "HELJ860211HTLRPN01"}))
    assert second.status_code == 422
    assert 'id="f-person-curp-err"' in second.content.decode()
    assert "RND-E111" in second.content.decode()
    assert Detention.objects.count() == 0


def test_warnings_are_shown_after_registration(officer: User) -> None:
    late = (timezone.now() - timedelta(hours=3)).astimezone(ZoneInfo("America/Mexico_City"))
    response = logged_in(officer).post(
        "/detenciones/nueva/", form(detained_at=late.strftime("%Y-%m-%dT%H:%M")), follow=True
    )
    assert "RND-W201" in response.content.decode()


def test_html_in_text_is_shown_escaped(officer: User) -> None:
    client = logged_in(officer)
    response = client.post(
        "/detenciones/nueva/",
        form(reason="<script>alert(1)</script>'; DROP TABLE x;--"),
        follow=True,
    )
    html = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert Detention.objects.get().reason.startswith("<script>")


def test_list_page_filters_and_links_to_detail(
    officer: User, make_user: Callable[..., User]
) -> None:
    client = logged_in(officer)
    client.post("/detenciones/nueva/", form())
    folio = Detention.objects.get().folio
    page = client.get("/detenciones/", {"state": "29"}).content.decode()
    assert f'href="/detenciones/{folio}/"' in page
    assert folio not in client.get("/detenciones/", {"state": "08"}).content.decode()
    bad = client.get("/detenciones/", {"from": "ayer", "state": "99", "cursor": "zz"})
    assert bad.status_code == 200
    assert "AAAA-MM-DD" in bad.content.decode()


def test_unknown_folio_page_is_a_spanish_404(officer: User) -> None:
    response = logged_in(officer).get("/detenciones/29-2020-AAAAAAAA-1/")
    assert response.status_code == 404
    assert "folio" in response.content.decode()


def test_rules_page_lists_the_catalog(db: Any) -> None:
    html = Client().get("/reglas/").content.decode()
    assert "RND-E101" in html and "RND-W201" in html


def test_tokens_page_creates_shows_once_and_revokes(officer: User) -> None:
    client = logged_in(officer)
    html = client.post("/cuenta/tokens/", {"name": "sistema estatal"}).content.decode()
    token = ApiToken.objects.get(user=officer)
    assert token.hint in html and "cst_" in html
    assert "no se volverá a mostrar" in html
    assert "cst_" not in client.get("/cuenta/tokens/").content.decode().split("Sus tokens")[0]
    client.post("/cuenta/tokens/", {"revoke": str(token.pk)})
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client.post("/cuenta/tokens/", {"revoke": "abc"}).status_code == 302


def test_admin_is_for_administrators_only(make_user: Callable[..., User]) -> None:
    admin_user = make_user(Role.ADMIN, "st-cnssp", is_staff=True, is_superuser=True)
    assert logged_in(admin_user).get("/admin/core/institution/").status_code == 200
    assert logged_in(admin_user).get("/admin/core/accesslog/").status_code == 200
    officer = make_user(Role.CAPTURE)
    assert logged_in(officer).get("/admin/").status_code == 302


def test_openapi_document_describes_the_detention_endpoints(db: Any) -> None:
    document = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/detentions" in document["paths"]
    assert "/api/v1/detentions/{folio}" in document["paths"]
    assert Client().get("/api/v1/docs").status_code == 200
    rules = Client().get("/api/v1/rules").json()
    assert {"code", "severity", "field", "message", "basis"} <= set(rules[0])
