"""Institutions manage their notification subscriptions on /notificaciones/."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client

from custodia.core.models import Role, User
from custodia.notify.models import Subscription


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_prosecutor_subscribes_a_webhook_and_sees_the_secret_once(
    make_user: Callable[..., User],
) -> None:
    client = logged_in(make_user(Role.RECEIVING, "fgje-tlax"))
    response = client.post(
        "/notificaciones/",
        {
            "channel": "webhook",
            "target": "https://guardia.fiscalia.example/custodia",
            "custody_changes": "on",
            "breaches": "on",
            "scope": "own",
        },
    )
    assert response.status_code == 200
    subscription = Subscription.objects.get()
    assert subscription.institution.code == "fgje-tlax"
    assert subscription.secret in response.content.decode()
    assert subscription.secret not in client.get("/notificaciones/").content.decode()
    client.post("/notificaciones/", {"deactivate": str(subscription.pk)})
    subscription.refresh_from_db()
    assert not subscription.active


def test_bad_targets_and_scopes_are_refused_in_spanish(make_user: Callable[..., User]) -> None:
    client = logged_in(make_user(Role.RECEIVING, "fgje-tlax"))
    cases = [
        {"channel": "email", "target": "no-es-correo", "scope": "own", "breaches": "on"},
        {"channel": "webhook", "target": "http://ejemplo.mx/x", "scope": "own", "breaches": "on"},
        {
            "channel": "webhook",
            "target": "https://ejemplo.mx/x",
            "scope": "national",
            "breaches": "on",
        },
        {"channel": "email", "target": "a@b.mx", "scope": "own"},
    ]
    for data in cases:
        response = client.post("/notificaciones/", data)
        assert response.status_code == 422, data
        html = response.content.decode()
        assert any(word in html for word in ("válid", "https://", "Elija", "opción")), data
    assert not Subscription.objects.exists()


def test_http_is_allowed_only_for_localhost(make_user: Callable[..., User]) -> None:
    client = logged_in(make_user(Role.STATE_ANALYST, "ssc-tlax"))
    response = client.post(
        "/notificaciones/",
        {
            "channel": "webhook",
            "target": "http://127.0.0.1:9000/hook",
            "scope": "state",
            "breaches": "on",
        },
    )
    assert response.status_code == 200
    assert Subscription.objects.get().scope == "state"


def test_capture_staff_do_not_manage_subscriptions(make_user: Callable[..., User]) -> None:
    assert logged_in(make_user(Role.CAPTURE)).get("/notificaciones/").status_code == 403
