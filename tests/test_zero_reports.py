"""Zero reports and constancy (issue 6): silence is not zero, and only operating days count."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from conftest import capture, client_for
from custodia.core.models import AccessLog, Institution, Role, User
from custodia.registry.services import detention_register
from custodia.reports import queries
from custodia.reports.models import ZeroReport

ZERO = "/api/v1/reports/zero"
CONSTANCY = "/api/v1/reports/constancy"
TLAX = ZoneInfo("America/Mexico_City")


def local_today() -> date:
    return timezone.now().astimezone(TLAX).date()


@pytest.fixture
def police(institutions: dict[str, Institution]) -> Institution:
    institution = institutions["ssc-tlax"]
    institution.operating_since = local_today() - timedelta(days=90)
    institution.save()
    return institution


def test_an_officer_files_a_zero_report_and_the_day_is_no_longer_silent(
    officer: User, police: Institution
) -> None:
    yesterday = local_today() - timedelta(days=1)
    api = client_for(officer)
    response = api.post(
        ZERO, {"day": yesterday.isoformat(), "note": "Sin eventos"}, "application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["institution"] == "ssc-tlax" and body["day"] == yesterday.isoformat()
    assert AccessLog.objects.filter(
        action="reports.zero_report", username=officer.username
    ).exists()
    month = f"{yesterday:%Y-%m}"
    days = {d["day"]: d for d in api.get(CONSTANCY, {"month": month}).json()["days"]}
    assert days[yesterday.isoformat()]["status"] == "zero"


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("mañana", "use una fecha AAAA-MM-DD"),
        ("2020-02-30", "use una fecha AAAA-MM-DD"),
        ("+1", "no puede ser posterior a hoy"),
        ("-200", "no operaba ese día"),
    ],
)
def test_bad_days_get_a_spanish_400_and_nothing_is_written(
    officer: User, police: Institution, day: str, message: str
) -> None:
    if day.startswith(("+", "-")):
        day = (local_today() + timedelta(days=int(day))).isoformat()
    response = client_for(officer).post(ZERO, {"day": day}, "application/json")
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert errors[0]["field"] == "day" and message in errors[0]["message"], errors
    assert not ZeroReport.objects.exists()


def test_a_day_is_reported_once_and_never_over_captures(officer: User, police: Institution) -> None:
    api = client_for(officer)
    today = local_today().isoformat()
    assert api.post(ZERO, {"day": today}, "application/json").status_code == 201
    again = api.post(ZERO, {"day": today}, "application/json")
    assert (
        again.status_code == 400
        and "ya hay un reporte en cero" in again.json()["errors"][0]["message"]
    )
    # A detention registered afterwards for that day is a contradiction, not an edit. Halfway
    # between local midnight and now: today whatever the hour the test runs at.
    now = timezone.now().astimezone(TLAX)
    midnight = datetime.combine(now.date(), datetime.min.time(), TLAX)
    today_at = midnight + (now - midnight) / 2
    detention_register(actor=officer, data=capture(detained_at=today_at.isoformat()), channel="api")
    yesterday = local_today() - timedelta(days=1)
    detention_register(
        actor=officer,
        data=capture(
            detained_at=datetime.combine(yesterday, datetime.min.time(), TLAX)
            .replace(hour=12)
            .isoformat()
        ),
        channel="api",
    )
    refused = api.post(ZERO, {"day": yesterday.isoformat()}, "application/json")
    assert refused.status_code == 400
    assert "ya registró 1 detención(es)" in refused.json()["errors"][0]["message"]
    result = queries.constancy(police, local_today().year, local_today().month).as_dict()
    assert local_today().isoformat() in result["contradictions"]
    assert ZeroReport.objects.count() == 1


def test_only_police_capture_and_supervision_file_zero_reports(
    make_user: Callable[..., User], police: Institution
) -> None:
    day = {"day": local_today().isoformat()}
    for role, institution in (
        (Role.RECEIVING, "fgje-tlax"),
        (Role.STATE_ANALYST, "ssc-tlax"),
        (Role.CAPTURE, "fgje-tlax"),
    ):
        response = client_for(make_user(role, institution)).post(ZERO, day, "application/json")
        assert response.status_code == 403, (role, institution, response.content)
    supervisor = client_for(make_user(Role.SUPERVISOR, "ssc-tlax"))
    assert supervisor.post(ZERO, day, "application/json").status_code == 201


def test_zero_reports_are_append_only_in_the_database(officer: User, police: Institution) -> None:
    client_for(officer).post(ZERO, {"day": local_today().isoformat()}, "application/json")
    report = ZeroReport.objects.get()
    for change in (
        lambda: ZeroReport.objects.filter(pk=report.pk).update(note="cambiado"),
        lambda: ZeroReport.objects.filter(pk=report.pk).delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            change()
    assert ZeroReport.objects.get().note == ""


def test_expected_days_are_prorated_by_operating_dates(
    institutions: dict[str, Institution],
) -> None:
    institution = institutions["pm-apizaco"]
    institution.operating_since = date(2020, 6, 10)
    institution.operating_until = date(2020, 6, 24)
    institution.save()
    result = queries.constancy(institution, 2020, 6).as_dict()
    assert result["expected_days"] == 15
    assert result["silent_days"] == 15
    statuses = {d["day"]: d["status"] for d in result["days"]}
    assert statuses["2020-06-09"] == "not_expected" and statuses["2020-06-25"] == "not_expected"
    assert statuses["2020-06-10"] == "silent" and statuses["2020-06-24"] == "silent"
    assert queries.constancy(institution, 2020, 7).as_dict()["expected_days"] == 0


def test_days_are_the_institutions_local_days(
    make_user: Callable[..., User], institutions: dict[str, Institution]
) -> None:
    """23:30 on the last day of a month, local time, belongs to that day and month, whatever
    the UTC date."""
    chihuahua = institutions["sspe-chih"]
    chihuahua.operating_since = date(2024, 1, 1)
    chihuahua.save()
    officer = make_user(Role.CAPTURE, "sspe-chih")
    late = datetime(2026, 5, 31, 23, 30, tzinfo=ZoneInfo("America/Chihuahua"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: late + timedelta(minutes=20))
        detention_register(actor=officer, data=capture(detained_at=late.isoformat()), channel="api")
    may = queries.constancy(chihuahua, 2026, 5).as_dict()
    june = queries.constancy(chihuahua, 2026, 6).as_dict()
    assert {d["day"]: d["detentions"] for d in may["days"]}["2026-05-31"] == 1
    assert sum(d["detentions"] for d in june["days"]) == 0


def test_constancy_follows_jurisdiction(
    make_user: Callable[..., User], police: Institution
) -> None:
    month = {"month": f"{local_today():%Y-%m}", "institution": "ssc-tlax"}
    assert (
        client_for(make_user(Role.NATIONAL_ANALYST, "st-cnssp")).get(CONSTANCY, month).status_code
        == 200
    )
    assert (
        client_for(make_user(Role.STATE_ANALYST, "sspe-chih")).get(CONSTANCY, month).status_code
        == 403
    )
    bad = client_for(make_user(Role.NATIONAL_ANALYST, "st-cnssp")).get(
        CONSTANCY, {"month": "2020-13", "institution": "ssc-tlax"}
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "month"


def test_the_page_files_a_zero_report_and_shows_the_month(
    officer: User, police: Institution
) -> None:
    from django.test import Client

    browser = Client()
    browser.force_login(officer)
    page = browser.get("/reportes/cero/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Reporte en cero" in text and "Sin información" in text
    today = local_today().isoformat()
    sent = browser.post("/reportes/cero/", {"day": today, "note": ""})
    assert sent.status_code == 302
    shown = browser.get(sent["Location"]).content.decode()
    assert f"Reporte en cero del {today} presentado" in shown
    again = browser.post("/reportes/cero/", {"day": "31/12/2020"})
    assert again.status_code == 400
    assert "use una fecha AAAA-MM-DD" in again.content.decode()
    assert ZeroReport.objects.count() == 1
    assert browser.get("/reportes/cero/", {"mes": "junio"}).status_code == 400
    earlier = browser.get("/reportes/cero/", {"mes": "2026-01"}).content.decode()
    assert 'href="?mes=2025-12"' in earlier and 'href="?mes=2026-02"' in earlier


def test_the_page_is_for_police_filers_only(
    make_user: Callable[..., User], police: Institution
) -> None:
    from django.test import Client

    browser = Client()
    browser.force_login(make_user(Role.STATE_ANALYST, "ssc-tlax"))
    assert browser.get("/reportes/cero/").status_code == 403
    assert Client().get("/reportes/cero/").status_code == 302  # to the login page


def test_days_still_to_come_are_not_expected(police: Institution) -> None:
    today = local_today()
    result = queries.constancy(police, today.year, today.month).as_dict()
    assert result["expected_days"] == today.day
    statuses = {d["day"]: d["status"] for d in result["days"]}
    assert statuses[today.isoformat()] == "silent"
    tomorrow = today + timedelta(days=1)
    if tomorrow.month == today.month:
        assert statuses[tomorrow.isoformat()] == "not_expected"
