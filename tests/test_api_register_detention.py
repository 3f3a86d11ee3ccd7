"""A state police system registers a detention through the API and reads it back (API.md)."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from conftest import DELETE, capture, client_for, codes
from custodia.core.models import AccessLog, Role
from custodia.registry.models import CustodyEvent, DetainedPerson, Detention, Officer


def post(api: Client, body: Any, **headers: str) -> Any:
    return api.post("/api/v1/detentions", body, content_type="application/json", headers=headers)


def test_registers_a_detention_and_returns_the_full_record(api: Client) -> None:
    response = post(api, capture())

    assert response.status_code == 201, response.content
    record = response.json()
    assert re.fullmatch(r"29-\d{4}-[0-9A-Z]{8}-[0-9A-Z]", record["folio"])
    assert record["status"] == "in_police_custody"
    assert record["person"]["first_surname"] == "Hernández"
    assert record["place"]["municipality"] == "29033"
    assert record["local_zone"] == "America/Mexico_City"
    assert record["detained_at"].endswith("Z")
    assert [e["kind"] for e in record["events"]] == ["registered"]
    assert record["officers"][0]["name"] == "Pedro Ruiz Soto"
    assert record["warnings"] == []
    assert "Hernández".encode() in response.content, "UTF-8, not \\u escapes"


def test_registration_writes_record_person_officers_event_and_access_log(api: Client) -> None:
    folio = post(api, capture()).json()["folio"]

    detention = Detention.objects.get(folio=folio)
    assert DetainedPerson.objects.get(detention=detention).given_names == "Juan Carlos"
    assert Officer.objects.filter(detention=detention).count() == 1
    event = CustodyEvent.objects.get(detention=detention)
    assert (event.kind, event.sequence) == ("registered", 1)
    assert "Juan" not in str(event.data), "events carry no personal data"
    actions = set(AccessLog.objects.filter(folio=folio).values_list("action", flat=True))
    assert {"detention.register", "detention.read"} <= actions


def test_get_returns_the_record_and_logs_the_read(api: Client) -> None:
    folio = post(api, capture()).json()["folio"]
    before = AccessLog.objects.filter(folio=folio, action="detention.read").count()

    response = api.get(f"/api/v1/detentions/{folio.lower().replace('-', '')}")

    assert response.status_code == 200
    assert response.json()["folio"] == folio
    assert AccessLog.objects.filter(folio=folio, action="detention.read").count() == before + 1


def test_events_endpoint_lists_history_oldest_first(api: Client) -> None:
    folio = post(api, capture()).json()["folio"]
    response = api.get(f"/api/v1/detentions/{folio}/events")
    assert response.status_code == 200
    assert [e["kind"] for e in response.json()["events"]] == ["registered"]
    assert isinstance(response.json()["events"][0]["ledger_leaf_index"], int)


def test_late_registration_is_accepted_with_a_warning(api: Client) -> None:
    from datetime import timedelta

    from django.utils import timezone

    late = (timezone.now() - timedelta(hours=2)).isoformat()
    response = post(api, capture(detained_at=late))

    assert response.status_code == 201
    assert "RND-W201" in {w["code"] for w in response.json()["warnings"]}


def without_clock_ages(record: dict[str, Any]) -> dict[str, Any]:
    """The record but how long its clocks have run (which changes between two reads)."""
    ageing = ("overdue_by", "remaining_text", "overdue_text", "breached")
    clocks = [{k: v for k, v in c.items() if k not in ageing} for c in record["open_clocks"]]
    return {**record, "open_clocks": clocks}


def test_the_answer_is_exactly_the_record_as_read_back(api: Client) -> None:
    """The POST's answer is built from the rows just written, not read back: it must be what
    reading the record returns, field for field, warnings, officers, events and leaf included
    (a late capture with two officers and a warning, a local offset, a second surname)."""
    from datetime import timedelta

    from django.utils import timezone

    late = (timezone.now() - timedelta(hours=2)).astimezone(timezone.get_fixed_timezone(-300))
    body = capture(detained_at=late.isoformat())
    body["officers"].append({"name": "Ana Torres Gil", "cuip": ""})
    posted = post(api, body)
    assert posted.status_code == 201, posted.content
    answer = posted.json()
    assert answer["warnings"], "the late capture carries a warning"
    assert len(answer["officers"]) == 2 and answer["open_clocks"]

    read = api.get(f"/api/v1/detentions/{answer['folio']}")
    assert read.status_code == 200
    assert without_clock_ages(answer) == without_clock_ages(read.json())
    assert set(
        AccessLog.objects.filter(folio=answer["folio"]).values_list("action", flat=True)
    ) == {"detention.register", "detention.read"}


def test_missing_required_fields_are_rejected_with_codes_and_nothing_written(api: Client) -> None:
    response = post(api, capture(person__given_names=DELETE, reason="  "))

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert {"code": "RND-E101", "field": "person.given_names"} in [
        {"code": e["code"], "field": e["field"]} for e in errors
    ]
    assert "reason" in {e["field"] for e in errors}
    assert all(e["message"] for e in errors)
    assert Detention.objects.count() == 0


def test_unknown_fields_are_rejected(api: Client) -> None:
    body = capture()
    body["person"]["apellido"] = "typo"
    response = post(api, body)
    assert response.status_code == 422
    assert "RND-E142" in codes(response)


def test_wrong_token_gets_401_in_spanish(db: Any) -> None:
    response = Client(headers={"Authorization": "Bearer cst_nope"}).post(
        "/api/v1/detentions", capture(), content_type="application/json"
    )
    assert response.status_code == 401
    assert "token" in response.json()["errors"][0]["message"]


def test_receiving_role_cannot_register(make_user: Any) -> None:
    prosecutor = client_for(make_user(Role.RECEIVING, "fgje-tlax"))
    response = post(prosecutor, capture())
    assert response.status_code == 403
    assert Detention.objects.count() == 0
