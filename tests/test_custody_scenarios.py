"""Custody chains end to end through the API (issue 3, "Done means")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from conftest import capture, client_for
from custodia.core.models import Role, User
from custodia.registry.models import CustodyEvent, Detention
from custodia.registry.services import detention_register

NOW = timezone.now


def at(start: datetime, hours: float) -> str:
    return (start + timedelta(hours=hours)).isoformat()


def post_event(client: Client, folio: str, **body: Any) -> Any:
    return client.post(f"/api/v1/detentions/{folio}/events", body, content_type="application/json")


@pytest.fixture
def people(make_user: Callable[..., User]) -> dict[str, Client]:
    return {
        "police": client_for(make_user(Role.CAPTURE, "ssc-tlax")),
        "supervisor": client_for(make_user(Role.SUPERVISOR, "ssc-tlax")),
        "prosecutor": client_for(make_user(Role.RECEIVING, "fgje-tlax")),
        "civic": client_for(make_user(Role.RECEIVING, "jc-tlaxcala")),
        "adolescent": client_for(make_user(Role.RECEIVING, "ja-tlax")),
        "prison": client_for(make_user(Role.RECEIVING, "cereso-tlax")),
        "analyst": client_for(make_user(Role.STATE_ANALYST, "ssc-tlax")),
        "chih_analyst": client_for(make_user(Role.STATE_ANALYST, "sspe-chih")),
        "auditor": client_for(make_user(Role.AUDITOR, "cndh")),
    }


def register(officer: User, hours_ago: float, **overrides: Any) -> tuple[str, datetime]:
    detained = NOW() - timedelta(hours=hours_ago)
    result = detention_register(
        actor=officer,
        data=capture(detained_at=detained.isoformat(), **overrides),
        channel="api",
        now=detained + timedelta(minutes=10),
    )
    return result.detention.folio, detained


def alerts(client: Client, folio: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/alerts")
    assert response.status_code == 200, response.content
    return [a for a in response.json()["results"] if a["folio"] == folio]


def record(client: Client, folio: str, **body: Any) -> dict[str, Any]:
    response = post_event(client, folio, **body)
    assert response.status_code == 201, response.content
    result: dict[str, Any] = response.json()
    return result


PROSECUTOR = {"kind": "public_prosecutor", "name": "MP Centro", "institution": "fgje-tlax"}
JUDGE = {"kind": "judge", "name": "Juez de Control de Tlaxcala"}
PRISON = {"kind": "prison", "name": "CERESO de Tlaxcala", "institution": "cereso-tlax"}
CIVIC = {"kind": "civic_judge", "name": "Juzgado Cívico", "institution": "jc-tlaxcala"}


def test_arrest_prosecutor_judge_prison(officer: User, people: dict[str, Client]) -> None:
    folio, t0 = register(officer, hours_ago=6 * 24)
    record(
        people["police"],
        folio,
        kind="handed_over",
        occurred_at=at(t0, 1),
        authority=PROSECUTOR,
        place={"name": "Agencia del MP Centro", "state": "29"},
        legal_status="retencion_ministerial",
    )
    record(
        people["prosecutor"],
        folio,
        kind="presented_to_judge",
        occurred_at=at(t0, 40),
        authority=JUDGE,
    )
    record(
        people["prosecutor"],
        folio,
        kind="legal_status_changed",
        occurred_at=at(t0, 100),
        legal_status="vinculacion_a_proceso",
    )
    result = record(
        people["prison"],
        folio,
        kind="admitted_to_prison",
        occurred_at=at(t0, 101),
        authority=PRISON,
        legal_status="prision_preventiva",
    )

    assert result["status"] == "in_prison"
    record_now = people["prison"].get(f"/api/v1/detentions/{folio}").json()
    assert record_now["current"]["authority"] == "CERESO de Tlaxcala"
    assert record_now["current"]["legal_status"] == "prision_preventiva"
    assert [e["kind"] for e in record_now["events"]] == [
        "registered",
        "handed_over",
        "presented_to_judge",
        "legal_status_changed",
        "admitted_to_prison",
    ]
    # 39 h with the prosecutor (< 48 h) and 60 h before the binding order (< 72 h): no alert.
    assert alerts(people["analyst"], folio) == []
    # The police no longer hold the person, but the prosecutor keeps reading the history.
    assert people["prosecutor"].get(f"/api/v1/detentions/{folio}").status_code == 200


def test_prosecutor_over_48_hours_is_an_open_breach(
    officer: User, people: dict[str, Client]
) -> None:
    folio, t0 = register(officer, hours_ago=60)
    record(people["police"], folio, kind="handed_over", occurred_at=at(t0, 2), authority=PROSECUTOR)
    found = alerts(people["prosecutor"], folio)
    assert [a["clock"] for a in found] == ["prosecutor_retention"]
    assert 9 * 3600 < found[0]["overdue_by"] < 11 * 3600
    assert found[0]["severity"] == "critical"


def test_organized_crime_gives_the_prosecutor_96_hours(
    officer: User, people: dict[str, Client]
) -> None:
    folio, t0 = register(officer, hours_ago=60)
    record(
        people["police"],
        folio,
        kind="handed_over",
        occurred_at=at(t0, 2),
        authority=PROSECUTOR,
        organized_crime=True,
    )
    assert alerts(people["prosecutor"], folio) == []


def test_arrest_civic_judge_release_within_36_hours(
    officer: User, people: dict[str, Client]
) -> None:
    folio, t0 = register(
        officer,
        hours_ago=40,
        arrest_basis="administrative",
        reason="alterar el orden público",
        receiving_authority={
            "kind": "civic_judge",
            "name": "Juzgado Cívico",
            "institution": "jc-tlaxcala",
        },
    )
    record(people["police"], folio, kind="handed_over", occurred_at=at(t0, 1), authority=CIVIC)
    result = record(
        people["civic"],
        folio,
        kind="released",
        occurred_at=at(t0, 30),
        details="cumplió el arresto",
    )
    assert result["status"] == "released"
    assert alerts(people["analyst"], folio) == []
    # A second release is refused and changes nothing.
    again = post_event(people["civic"], folio, kind="released", occurred_at=at(t0, 31))
    assert again.status_code == 422
    assert {e["code"] for e in again.json()["errors"]} == {"RND-E306"}
    assert Detention.objects.get(folio=folio).version == 3


def test_administrative_arrest_over_36_hours_is_a_breach(
    officer: User, people: dict[str, Client]
) -> None:
    folio, t0 = register(
        officer,
        hours_ago=40,
        arrest_basis="administrative",
        reason="riña",
        receiving_authority={
            "kind": "civic_judge",
            "name": "Juzgado Cívico",
            "institution": "jc-tlaxcala",
        },
    )
    record(people["police"], folio, kind="handed_over", occurred_at=at(t0, 1), authority=CIVIC)
    assert "administrative_arrest" in {a["clock"] for a in alerts(people["civic"], folio)}


def test_no_handover_for_five_hours_is_visible(officer: User, people: dict[str, Client]) -> None:
    folio, t0 = register(officer, hours_ago=5)
    found = alerts(people["analyst"], folio)
    assert [a["clock"] for a in found] == ["handover"]
    alert = found[0]
    assert alert["severity"] == "warning"
    assert alert["started_at"].startswith(t0.astimezone(UTC).strftime("%Y-%m-%dT%H:%M"))
    assert 55 * 60 < alert["overdue_by"] < 65 * 60
    # Another state's analyst does not see it; the detail shows the open clock.
    assert alerts(people["chih_analyst"], folio) == []
    detail = people["analyst"].get(f"/api/v1/detentions/{folio}").json()
    assert any(c["clock"] == "handover" and c["breached"] for c in detail["open_clocks"])


def test_a_minor_goes_to_adolescent_justice(officer: User, people: dict[str, Client]) -> None:
    teen = {
        "person__age": 16,
        "person__birth_date": None,
        "person__curp": None,
        "receiving_authority": {
            "kind": "adolescent_justice",
            "name": "MP Adolescentes",
            "institution": "ja-tlax",
        },
    }
    folio, t0 = register(officer, hours_ago=3, **teen)
    record(
        people["police"],
        folio,
        kind="handed_over",
        occurred_at=at(t0, 1),
        authority={
            "kind": "adolescent_justice",
            "name": "MP Adolescentes",
            "institution": "ja-tlax",
        },
    )
    assert alerts(people["analyst"], folio) == []
    assert Detention.objects.get(folio=folio).age_group == "adolescent"

    wrong, t1 = register(officer, hours_ago=3, **teen)
    record(people["police"], wrong, kind="handed_over", occurred_at=at(t1, 1), authority=PROSECUTOR)
    assert [a["clock"] for a in alerts(people["analyst"], wrong)] == ["adolescent"]


def test_death_in_custody_is_critical_at_once_and_ends_the_chain(
    officer: User, people: dict[str, Client]
) -> None:
    folio, t0 = register(officer, hours_ago=3)
    record(
        people["police"],
        folio,
        kind="died_in_custody",
        occurred_at=at(t0, 2),
        details="paro cardiaco en celdas",
    )
    found = alerts(people["auditor"], folio)
    assert [(a["clock"], a["severity"]) for a in found] == [("death_in_custody", "critical")]
    after = post_event(people["police"], folio, kind="released", occurred_at=at(t0, 2.5))
    assert after.status_code in {403, 422}
    supervisor_note = post_event(
        people["supervisor"], folio, kind="note", details="se dio vista a la CEDH"
    )
    assert supervisor_note.status_code == 201
    late = post_event(
        people["supervisor"],
        folio,
        kind="transferred",
        occurred_at=at(t0, 2.5),
        authority={"kind": "other", "name": "SEMEFO"},
    )
    assert late.status_code == 422
    assert {e["code"] for e in late.json()["errors"]} == {"RND-E305"}


def test_a_correction_names_what_it_corrects_and_why(
    officer: User, people: dict[str, Client]
) -> None:
    folio, t0 = register(officer, hours_ago=10)
    handover = record(
        people["police"], folio, kind="handed_over", occurred_at=at(t0, 6), authority=PROSECUTOR
    )["event"]
    # Handed over at +6 h: the handover clock was breached (warning, > 4 h).
    assert (
        Detention.objects.get(folio=folio)
        .custody_state["handed_over_at"]
        .startswith((t0 + timedelta(hours=6)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M"))
    )
    denied = post_event(
        people["police"],
        folio,
        kind="corrected",
        corrects=handover["id"],
        field="occurred_at",
        value=at(t0, 2),
        reason="se capturó mal la hora",
    )
    assert denied.status_code == 403, "capture staff do not correct"
    fixed = record(
        people["supervisor"],
        folio,
        kind="corrected",
        corrects=handover["id"],
        field="occurred_at",
        value=at(t0, 2),
        reason="se capturó mal la hora",
    )
    assert fixed["event"]["corrects"] == handover["id"]
    state = Detention.objects.get(folio=folio).custody_state
    assert state["handed_over_at"].startswith(
        (t0 + timedelta(hours=2)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
    )
    # Nothing was overwritten: the original event still says +6 h.
    original = CustodyEvent.objects.get(pk=handover["id"])
    assert original.occurred_at == t0 + timedelta(hours=6)
    events = people["prosecutor"].get(f"/api/v1/detentions/{folio}/events").json()["events"]
    assert [e["kind"] for e in events] == ["registered", "handed_over", "corrected"]
    assert events[2]["data"]["reason"] == "se capturó mal la hora"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"kind": "handed_over", "hours": -1, "authority": PROSECUTOR}, "RND-E302"),
        ({"kind": "handed_over", "hours": 100, "authority": PROSECUTOR}, "RND-E303"),
        ({"kind": "admitted_to_prison", "hours": 1, "authority": PRISON}, "RND-E304"),
        ({"kind": "recaptured", "hours": 1}, "RND-E301"),
        ({"kind": "handed_over", "hours": 1}, "RND-E101"),
        ({"kind": "legal_status_changed", "hours": 1, "legal_status": "libre"}, "RND-E144"),
        ({"kind": "teleported", "hours": 1}, "RND-E144"),
        ({"kind": "note", "details": "x", "extra": 1}, "RND-E142"),
    ],
)
def test_invalid_events_are_422_with_a_code_and_change_nothing(
    officer: User, people: dict[str, Client], body: dict[str, Any], code: str
) -> None:
    folio, t0 = register(officer, hours_ago=3)
    before = Detention.objects.get(folio=folio)
    hours = body.pop("hours", None)
    if hours is not None:
        body["occurred_at"] = at(t0, hours)
    response = post_event(people["police"], folio, **body)
    assert response.status_code == 422, response.content
    errors = response.json()["errors"]
    assert code in {e["code"] for e in errors}
    assert all(e["message"] for e in errors)
    after = Detention.objects.get(folio=folio)
    assert (after.version, after.status, after.custody_state) == (
        before.version,
        before.status,
        before.custody_state,
    )
    assert CustodyEvent.objects.filter(detention=after).count() == 1


def test_stale_expected_version_is_409(officer: User, people: dict[str, Client]) -> None:
    folio, _ = register(officer, hours_ago=3)
    first = post_event(people["police"], folio, kind="note", details="uno", expected_version=1)
    assert first.status_code == 201
    stale = post_event(people["police"], folio, kind="note", details="dos", expected_version=1)
    assert stale.status_code == 409
    assert "versión actual: 2" in stale.json()["errors"][0]["message"]


def test_outsiders_cannot_record_events(officer: User, make_user: Callable[..., User]) -> None:
    folio, _ = register(officer, hours_ago=3)
    chih_police = client_for(make_user(Role.CAPTURE, "sspe-chih"))
    response = post_event(chih_police, folio, kind="note", details="x")
    assert response.status_code == 403
    analyst = client_for(make_user(Role.STATE_ANALYST, "ssc-tlax"))
    assert post_event(analyst, folio, kind="note", details="x").status_code == 403


def test_rebuild_check_finds_no_difference_after_the_scenarios(
    officer: User, people: dict[str, Client], capsys: pytest.CaptureFixture[str]
) -> None:
    test_arrest_prosecutor_judge_prison(officer, people)
    test_a_correction_names_what_it_corrects_and_why(officer, people)
    test_death_in_custody_is_critical_at_once_and_ends_the_chain(officer, people)
    call_command("registry", "rebuild", "--check")
    assert "0 diferencias" in capsys.readouterr().out
