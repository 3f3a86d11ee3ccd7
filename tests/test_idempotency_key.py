"""Writes with an Idempotency-Key: a retry gets the first answer, a reused key a 409."""

from __future__ import annotations

from typing import Any

from django.test import Client

from conftest import capture
from custodia.registry.models import CustodyEvent, Detention


def post(api: Client, body: dict[str, Any], key: str) -> Any:
    return api.post(
        "/api/v1/detentions",
        body,
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )


def test_same_key_and_body_returns_the_first_result_and_creates_nothing_new(api: Client) -> None:
    body = capture()
    first = post(api, body, "clave-1")
    second = post(api, body, "clave-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Detention.objects.count() == 1
    assert CustodyEvent.objects.count() == 1


def test_same_key_with_another_body_is_a_conflict(api: Client) -> None:
    assert post(api, capture(), "clave-2").status_code == 201
    response = post(api, capture(reason="otro motivo"), "clave-2")
    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()["errors"][0]["message"]
    assert Detention.objects.count() == 1


def test_different_keys_create_different_detentions(api: Client) -> None:
    body = capture()
    a = post(api, body, "clave-a").json()["folio"]
    b = post(api, body, "clave-b").json()["folio"]
    assert a != b
    assert Detention.objects.count() == 2


def test_a_rejected_body_does_not_burn_the_key(api: Client) -> None:
    assert post(api, capture(reason=""), "clave-3").status_code == 422
    assert post(api, capture(), "clave-3").status_code == 201
