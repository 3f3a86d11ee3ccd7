"""Bad custody events never get a 500 and never change anything."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import capture, client_for
from custodia.core.models import Role, User
from custodia.notify.models import OutboxMessage
from custodia.registry.models import CustodyEvent, Detention
from custodia.registry.services import detention_register

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "",
            "handed_over",
            "released",
            "2020-06-30T14:05:00",
            "29",
            "fgje-tlax",
            "2020-06-30T14:05:00-06:00",
            "\x00",
            "<script>",
            "judge",
            "1",
        ]
    )
)
json_values = st.recursive(
    json_leaves,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3)
    ),
    max_leaves=6,
)
FIELDS = [
    "kind",
    "occurred_at",
    "authority",
    "place",
    "legal_status",
    "organized_crime",
    "details",
    "expected_version",
    "corrects",
    "field",
    "value",
    "reason",
]


def valid_event() -> dict[str, Any]:
    return {
        "kind": "handed_over",
        "occurred_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
        "authority": {"kind": "public_prosecutor", "name": "MP", "institution": "fgje-tlax"},
        "place": {"name": "Agencia", "state": "29"},
        "legal_status": "retencion_ministerial",
        "expected_version": 1,
    }


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.data())
def test_mutated_events_never_500_and_rejections_change_nothing(
    officer: User, data: st.DataObject
) -> None:
    folio = detention_register(actor=officer, data=capture(), channel="api").detention.folio
    api = client_for(officer)
    body: Any = valid_event()
    for _ in range(data.draw(st.integers(1, 3))):
        action = data.draw(st.sampled_from(["replace", "drop", "add", "whole"]))
        key = data.draw(st.sampled_from(FIELDS))
        if action == "replace":
            body[key] = data.draw(json_values)
        elif action == "drop":
            body.pop(key, None)
        elif action == "add":
            body[data.draw(st.text(min_size=1, max_size=10))] = data.draw(json_values)
        else:
            body = data.draw(json_values)
            break
    detention = Detention.objects.get(folio=folio)
    events = CustodyEvent.objects.filter(detention=detention).count()
    outbox = OutboxMessage.objects.filter(detention=detention).count()

    response = api.post(f"/api/v1/detentions/{folio}/events", body, content_type="application/json")

    assert response.status_code in {201, 400, 403, 409, 422}, (body, response.content)
    if response.status_code != 201:
        errors = response.json()["errors"]
        assert errors and all(e["message"] for e in errors)
        after = Detention.objects.get(pk=detention.pk)
        assert after.version == detention.version
        assert after.custody_state == detention.custody_state
        assert CustodyEvent.objects.filter(detention=detention).count() == events
        assert OutboxMessage.objects.filter(detention=detention).count() == outbox


def test_garbage_bodies_and_folios_for_events(officer: User, make_user: Any) -> None:
    folio = detention_register(actor=officer, data=capture(), channel="api").detention.folio
    api = client_for(officer)
    url = f"/api/v1/detentions/{folio}/events"
    for raw in (b"{", b"\xff\xfe", b"[1,2]", b"NaN", b""):
        response = api.post(url, raw, content_type="application/json")
        assert response.status_code in {400, 422}, raw
    assert (
        api.post(
            "/api/v1/detentions/NO-ES-FOLIO/events", {}, content_type="application/json"
        ).status_code
        == 404
    )
    reader = client_for(make_user(Role.AUDITOR, "cndh"))
    denied = reader.post(url, valid_event(), content_type="application/json")
    assert denied.status_code == 403
    assert Client().post(url, valid_event(), content_type="application/json").status_code == 401
    assert CustodyEvent.objects.filter(detention__folio=folio).count() == 1
