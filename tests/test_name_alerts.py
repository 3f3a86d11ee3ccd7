"""Name alerts for the public (issue 5): double opt-in, matches through the outbox with only the
public fields, one-click unsubscribe."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from conftest import register_person
from custodia.core.models import AccessLog, User
from custodia.lookup.models import NameAlert
from custodia.notify.models import Delivery, DeliveryStatus
from custodia.notify.worker import run_once
from custodia.registry.models import Detention
from custodia.registry.services import event_record

LINK = re.compile(r"https?://\S+/consulta/avisos/(confirmar|baja)/(\S+)/")


@pytest.fixture(autouse=True)
def memory_mail(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CUSTODIA_PUBLIC_URL = "https://rnd.example.mx"


def subscribe(client: Client, **fields: str) -> Any:
    body = {"email": "madre@example.mx", "given_names": "Jose Luis", "first_surname": "Hernandez"}
    return client.post("/consulta/avisos/", body | fields)


def links(message: Any) -> dict[str, str]:
    return {kind: f"/consulta/avisos/{kind}/{token}/" for kind, token in LINK.findall(message.body)}


def register(officer: User, given: str, first: str, second: str) -> Detention:
    person = {"curp": "", "birth_date": None}  # the alias stays: it must never reach an email
    detention: Detention = register_person(officer, given, first, second, person=person)
    return detention


def test_the_whole_life_of_an_alert(officer: User) -> None:
    client = Client()
    page = subscribe(client)
    assert page.status_code == 200
    assert "Revise su correo" in page.content.decode()
    alert = NameAlert.objects.get()
    assert alert.confirmed_at is None

    # Unconfirmed: a matching registration sends nothing but the confirmation.
    register(officer, "José Luis", "Hernández", "López")
    run_once()
    [confirmation] = mail.outbox
    assert confirmation.to == ["madre@example.mx"]
    assert "confirme" in confirmation.subject.lower()
    assert "Jose Luis Hernandez" in confirmation.body
    assert confirmation.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    found = links(confirmation)
    assert set(found) == {"confirmar", "baja"}

    assert "Aviso activado" in client.get(found["confirmar"]).content.decode()
    assert NameAlert.objects.get().confirmed_at is not None

    # Confirmed: the next matching registration is announced, with the public fields only.
    mail.outbox.clear()
    detention = register(officer, "José Luis", "Hernández", "Martínez")
    register(officer, "Pedro", "Ramírez", "Luna")  # does not match: no email
    run_once()
    [notice] = mail.outbox
    assert "José Luis Hernández Martínez" in notice.body
    assert detention.institution.name in notice.body
    for secret in (detention.folio, "robo", "María López", "+522461234567", "El Güero"):
        assert secret not in notice.body
    unsubscribe = links(notice)["baja"]
    assert notice.extra_headers["List-Unsubscribe"] == f"<https://rnd.example.mx{unsubscribe}>"
    assert AccessLog.objects.filter(
        action="alert.email", folio=detention.folio, channel="email"
    ).exists()

    # A custody change is announced too; a note is not.
    mail.outbox.clear()
    event_record(
        actor=officer,
        folio=detention.folio,
        data={"kind": "note", "details": "se le dio agua"},
        channel="api",
    )
    run_once()
    assert mail.outbox == []
    event_record(
        actor=officer,
        folio=detention.folio,
        data={"kind": "released", "occurred_at": timezone.now().isoformat()},
        channel="api",
    )
    run_once()
    [released] = mail.outbox
    assert "ya no aparece como detenida" in released.body
    assert detention.institution.name not in released.body

    # One click (RFC 8058: the mail client POSTs to the List-Unsubscribe URL, no form, no CSRF).
    mail.outbox.clear()
    one_click = Client(enforce_csrf_checks=True).post(
        unsubscribe, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert one_click.status_code == 200
    assert NameAlert.objects.get().unsubscribed_at is not None
    register(officer, "José Luis", "Hernández", "Ortiz")
    run_once()
    assert mail.outbox == []


def test_the_unsubscribe_link_in_the_body_asks_before_cancelling(db: Any) -> None:
    subscribe(Client())
    run_once()
    page = Client().get(links(mail.outbox[0])["baja"])
    assert page.status_code == 200
    assert "Cancelar el aviso" in page.content.decode()
    assert NameAlert.objects.get().unsubscribed_at is None  # a link scanner's GET cancels nothing


def test_forged_or_expired_links_are_refused(db: Any, settings: Any) -> None:
    subscribe(Client())
    run_once()
    confirm = links(mail.outbox[0])["confirmar"]
    assert Client().get(confirm.replace("/confirmar/", "/confirmar/x")).status_code == 404
    assert Client().post("/consulta/avisos/baja/1:abc/").status_code == 404
    settings.CUSTODIA_NAME_ALERTS = settings.CUSTODIA_NAME_ALERTS | {"confirm_hours": 0}
    assert Client().get(confirm).status_code == 404
    assert NameAlert.objects.get().confirmed_at is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "no-es-correo"}, "Correo: escriba una dirección válida"),
        ({"given_names": ""}, "Nombre(s): es obligatorio"),
        ({"first_surname": "-"}, "Primer apellido: es obligatorio"),
    ],
)
def test_bad_subscriptions_get_a_spanish_400_and_create_nothing(
    db: Any, fields: dict[str, str], message: str
) -> None:
    page = subscribe(Client(), **fields)
    assert page.status_code == 400
    assert message in page.content.decode()
    assert not NameAlert.objects.exists()


def test_an_address_holds_a_limited_number_of_alerts_without_saying_so(
    db: Any, settings: Any
) -> None:
    settings.CUSTODIA_NAME_ALERTS = settings.CUSTODIA_NAME_ALERTS | {"per_email": 2}
    answers = [subscribe(Client(), first_surname=f"Apellido{n}") for n in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].content == answers[2].content  # the third answer gives nothing away
    assert NameAlert.objects.count() == 2


def test_alert_creation_is_rate_limited(db: Any, settings: Any) -> None:
    settings.CUSTODIA_RATE_LIMITS = True
    settings.CUSTODIA_PUBLIC_ALERT_RATES = "2/hour"
    cache.clear()
    client = Client(REMOTE_ADDR="198.51.100.4")
    assert [subscribe(client).status_code for _ in range(2)] == [200, 200]
    limited = subscribe(client)
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    cache.clear()


def test_a_cancelled_alert_is_not_sent_even_if_already_queued(
    officer: User, make_user: Callable[..., User]
) -> None:
    subscribe(Client())
    run_once()
    Client().get(links(mail.outbox[0])["confirmar"])
    alert = NameAlert.objects.get()
    register(officer, "José Luis", "Hernández", "Soto")
    from custodia.notify.worker import fan_out

    fan_out(timezone.now())  # the delivery is queued...
    Client().post(links(mail.outbox[0])["baja"])  # ...then the person cancels
    mail.outbox.clear()
    run_once()
    assert mail.outbox == []
    delivery = Delivery.objects.get(name_alert=alert, message__topic="custody.changed")
    assert delivery.status == DeliveryStatus.FAILED


def test_the_consulta_page_offers_the_alert_form_after_a_search(db: Any) -> None:
    html = (
        Client().get("/consulta/", {"given_names": "Ana", "first_surname": "Ruiz"}).content.decode()
    )
    assert "Avísenme por correo" in html
    assert 'name="email"' in html and 'value="Ana"' in html
