"""The monthly report's figures (issue 6) against a plain recount of a seeded synthetic month."""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from conftest import capture
from custodia.core.models import POLICE_KINDS, Institution, Role, User
from custodia.registry.models import Detention
from custodia.registry.services import detention_register, event_record
from custodia.reports import monthly
from custodia.reports.models import ZeroReport
from custodia.reports.services import file_zero_report

TLAX = ZoneInfo("America/Mexico_City")
CHIH = ZoneInfo("America/Chihuahua")


def register_at(officer: User, moment: datetime, delay_minutes: int, **overrides: Any) -> Any:
    """A detention at ``moment``, registered ``delay_minutes`` later (the clock is moved)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: moment + timedelta(minutes=delay_minutes))
        return detention_register(
            actor=officer, data=capture(detained_at=moment.isoformat(), **overrides), channel="api"
        ).detention


def hand_over(
    actor: User, detention: Detention, after_minutes: int, recorded_after: int = 1
) -> None:
    """Handed to the prosecutor ``after_minutes`` after the detention; recorded by ``actor``
    ``recorded_after`` minutes later still."""
    moment = detention.detained_at + timedelta(minutes=after_minutes)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: moment + timedelta(minutes=recorded_after))
        event_record(
            actor=actor,
            folio=detention.folio,
            data={
                "kind": "handed_over",
                "occurred_at": moment.isoformat(),
                "authority": {
                    "kind": "public_prosecutor",
                    "name": "MP",
                    "institution": "fgje-tlax",
                },
                "place": {"name": "Agencia", "state": "29"},
                "legal_status": "retencion_ministerial",
            },
            channel="api",
        )


@pytest.fixture
def june(make_user: Callable[..., User]) -> dict[str, Any]:
    """About forty detentions in Tlaxcala, June 2026, with varied basis, sex, age, delays and
    handovers; plus the month's edges in Chihuahua."""
    rnd = random.Random(62026)
    officers = [make_user(Role.CAPTURE, "ssc-tlax"), make_user(Role.CAPTURE, "pm-apizaco")]
    prosecutor = make_user(Role.RECEIVING, "fgje-tlax")
    operating = {"ssc-tlax": date(2026, 6, 10), "pm-apizaco": date(2025, 1, 1)}
    for code, since in operating.items():
        Institution.objects.filter(code=code).update(operating_since=since)
    for user in officers:
        user.institution.refresh_from_db()
    for n in range(40):
        moment = datetime(2026, 6, 1, tzinfo=TLAX) + timedelta(minutes=rnd.randrange(30 * 24 * 60))
        officer = officers[n % 2]
        sex = rnd.choice(["male", "male", "female", "unknown"])
        age = rnd.choice([15, 19, 33, 47, 61])
        basis = rnd.choice(["flagrante", "flagrante", "warrant", "administrative"])
        person = capture()["person"] | {"sex": sex, "age": age, "birth_date": None, "curp": ""}
        extra: dict[str, Any] = {}
        if rnd.random() < 0.3:
            person["second_surname"] = ""
        if rnd.random() < 0.4:
            extra["contact"] = {}
        if rnd.random() < 0.5:
            extra["place"] = capture()["place"] | {"latitude": None, "longitude": None}
        if age < 18:  # to the specialised authority, who is not handed over to a prosecutor
            basis = "flagrante"
            extra["receiving_authority"] = {
                "kind": "adolescent_justice",
                "name": "Justicia para Adolescentes de Tlaxcala",
                "institution": "ja-tlax",
            }
        elif basis == "administrative":  # an administrative arrest goes to a civic judge
            extra["receiving_authority"] = {
                "kind": "civic_judge",
                "name": "Juzgado Cívico de Tlaxcala",
                "institution": "jc-tlaxcala",
            }
        detention = register_at(
            officer, moment, rnd.randrange(2, 400), person=person, arrest_basis=basis, **extra
        )
        if age >= 18 and basis != "administrative" and rnd.random() < 0.6:
            if rnd.random() < 0.5:
                hand_over(officer, detention, rnd.randrange(10, 900))
            else:  # the prosecutor records the intake, sometimes hours late
                hand_over(prosecutor, detention, rnd.randrange(10, 900), rnd.randrange(1, 300))
    apizaco = officers[1]
    captured_days = {
        d.detained_at.astimezone(TLAX).date()
        for d in Detention.objects.filter(institution__code="pm-apizaco")
    }
    for day in (date(2026, 6, n) for n in range(1, 31)):
        if day not in captured_days and rnd.random() < 0.5:
            file_zero_report(actor=apizaco, day=day, channel="api")
    chihuahua = make_user(Role.CAPTURE, "sspe-chih")
    place = capture()["place"] | {
        "state": "08",
        "municipality": None,
        "latitude": None,
        "longitude": None,
    }
    # 23:30 on 30 June local time is 1 July in UTC: June's. 00:30 on 1 July local time: July's.
    inside = register_at(chihuahua, datetime(2026, 6, 30, 23, 30, tzinfo=CHIH), 10, place=place)
    outside = register_at(chihuahua, datetime(2026, 7, 1, 0, 30, tzinfo=CHIH), 10, place=place)
    return {"inside": inside, "outside": outside}


def recount(state: str | None) -> list[Detention]:
    """The month's detentions, found the slow obvious way: every detention, its local time."""
    found = []
    for d in Detention.objects.select_related("person", "institution"):
        local = d.detained_at.astimezone(ZoneInfo(d.place_timezone))
        if (local.year, local.month) == (2026, 6) and (state is None or d.state_id == state):
            found.append(d)
    return found


def nearest_rank(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = 0
    while (index + 1) / len(ordered) < share:  # smallest rank covering the share
        index += 1
    return ordered[index]


@pytest.mark.parametrize("state", ["29", None])
def test_volume_matches_a_plain_recount(june: dict[str, Any], state: str | None) -> None:
    report = monthly.monthly(2026, 6, state)
    expected = recount(state)
    volume = report["volume"]
    assert volume["total"] == len(expected) > 30
    as_counts = lambda items: {i["key"]: i["count"] for i in items}  # noqa: E731
    assert as_counts(volume["by_arrest_basis"]) == Counter(d.arrest_basis for d in expected)
    assert as_counts(volume["by_sex"]) == Counter(d.person.sex for d in expected)
    if state:  # a state's report by institution, the nation's by state
        assert as_counts(volume["by_institution"]) == Counter(d.institution.code for d in expected)
        assert "by_state" not in volume
    else:
        assert as_counts(volume["by_state"]) == Counter(d.state_id for d in expected)
        assert report["unit"] == "state" and "by_institution" not in volume
    assert as_counts(volume["by_outcome"]) == Counter(d.status for d in expected)
    bands = Counter(
        "sin dato" if d.person.age is None
        else "12-17" if d.person.age < 18
        else "18-29" if d.person.age < 30
        else "30-44" if d.person.age < 45
        else "45-59" if d.person.age < 60
        else "60+"
        for d in expected
    )  # fmt: skip
    assert as_counts(volume["by_age_band"]) == bands
    heat = Counter()
    for d in expected:
        local = d.detained_at.astimezone(ZoneInfo(d.place_timezone))
        heat[(local.weekday(), local.hour)] += 1
    grid = volume["weekday_hour"]["counts"]
    assert {(w, h): grid[w][h] for w in range(7) for h in range(24) if grid[w][h]} == heat


def test_the_month_is_local_time(june: dict[str, Any]) -> None:
    folios = {d.folio for d in recount("08")}
    assert june["inside"].folio in folios and june["outside"].folio not in folios
    assert monthly.monthly(2026, 6, "08")["volume"]["total"] == 1
    assert monthly.monthly(2026, 7, "08")["volume"]["total"] == 1


def bucket(minutes: float) -> int:
    """The report's delay buckets (docs/reports.md), restated: whole minutes rounded up, then
    rounded up to 5 minutes past two hours, to the hour past a day, to the day past a week."""
    whole = math.ceil(minutes)
    step = 1 if whole <= 120 else 5 if whole <= 1440 else 60 if whole <= 10080 else 1440
    return math.ceil(whole / step) * step


def test_delay_buckets() -> None:
    from custodia.reports.rollup import delay_bucket

    for seconds in (-300, -1, 0, 1, 59, 60, 61, 3599, 3600, 7199, 7200, 7201, 7260, 86_399,
                    86_400, 86_401, 604_800, 604_801, 1_000_000):  # fmt: skip
        assert delay_bucket(timedelta(seconds=seconds)) == bucket(seconds / 60), seconds
    assert delay_bucket(timedelta(minutes=60, microseconds=1)) == 61  # 60 min is not "within"


def test_timeliness_matches_a_plain_recount(june: dict[str, Any]) -> None:
    report = monthly.monthly(2026, 6, "29")["timeliness"]
    expected = recount("29")
    registration = [(d.registered_at - d.detained_at).total_seconds() / 60 for d in expected]
    figures = report["all"]["registration"]
    assert figures["count"] == len(expected)
    assert figures["median_minutes"] == statistics.median_low(map(bucket, registration))
    assert figures["p90_minutes"] == nearest_rank(list(map(bucket, registration)), 0.9)
    within = sum(1 for v in registration if v <= 60) / len(registration)
    assert figures["within"]["warning"] == pytest.approx(within)
    critical = sum(1 for v in registration if v <= 360) / len(registration)
    assert figures["within"]["critical"] == pytest.approx(critical)
    handed = []
    for d in expected:
        event = d.events.filter(kind="handed_over").order_by("occurred_at").first()
        if event:
            handed.append((event.occurred_at - d.detained_at).total_seconds() / 60)
    assert 0 < len(handed) < len(expected)
    assert report["all"]["handover"]["count"] == len(handed)
    assert report["all"]["handover"]["median_minutes"] == statistics.median_low(map(bucket, handed))
    assert report["all"]["not_handed_over"] == len(expected) - len(handed)
    for code, section in report["by_institution"].items():
        mine = [
            (d.registered_at - d.detained_at).total_seconds() / 60
            for d in expected
            if d.institution.code == code
        ]
        assert section["registration"]["median_minutes"] == statistics.median_low(map(bucket, mine))


def test_an_empty_month_has_zeros_not_errors(db: Any) -> None:
    report = monthly.monthly(2019, 2, "29")
    assert report["volume"]["total"] == 0
    assert report["timeliness"]["all"]["registration"]["median_minutes"] is None
    assert report["timeliness"]["all"]["registration"]["within"]["warning"] is None


def test_the_api_serves_the_report_within_jurisdiction(
    june: dict[str, Any], make_user: Callable[..., User]
) -> None:
    from conftest import client_for

    national = client_for(make_user(Role.NATIONAL_ANALYST, "st-cnssp"))
    body = national.get("/api/v1/reports/monthly", {"month": "2026-06"}).json()
    assert body["state"] is None and body["volume"]["total"] == len(recount(None))
    state = client_for(make_user(Role.STATE_ANALYST, "ssc-tlax"))
    own = state.get("/api/v1/reports/monthly", {"month": "2026-06"})
    assert own.status_code == 200 and own.json()["state"] == "29"
    assert (
        state.get("/api/v1/reports/monthly", {"month": "2026-06", "state": "08"}).status_code == 403
    )
    officer = client_for(make_user(Role.CAPTURE, "ssc-tlax"))
    assert officer.get("/api/v1/reports/monthly", {"month": "2026-06"}).status_code == 403
    html = national.get("/api/v1/reports/monthly", {"month": "2026-06", "format": "html"})
    assert html.status_code == 200 and html["Content-Type"].startswith("text/html")
    page = html.content.decode()
    assert "Nacional, junio de 2026" in page and '<svg xmlns="http://www.w3.org/2000/svg"' in page
    assert "Ver informe" not in page  # the report alone, without the page's form
    for params, field in (
        ({"month": "junio"}, "month"),
        ({"month": "2026-06", "state": "99"}, "state"),
        ({"month": "2026-06", "format": "docx"}, "format"),
    ):
        bad = national.get("/api/v1/reports/monthly", params)
        assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == field, bad.content


def test_completeness_matches_a_plain_recount(june: dict[str, Any]) -> None:
    report = monthly.monthly(2026, 6, "29")["completeness"]
    expected = recount("29")
    checks = {
        "second_surname": lambda d: bool(d.person.second_surname),
        "sex": lambda d: d.person.sex != "unknown",
        "contact": lambda d: bool(d.contact_name or d.contact_phone),
        "coordinates": lambda d: d.latitude is not None and d.longitude is not None,
        "curp": lambda d: bool(d.person.curp),
        "officers": lambda d: d.officers.exists(),
    }
    shares = {f["field"]: f["share"] for f in report["all"]}
    for name, check in checks.items():
        assert shares[name] == pytest.approx(sum(map(check, expected)) / len(expected)), name
    assert 0 < shares["coordinates"] < 1 and 0 < shares["contact"] < 1 and shares["curp"] == 0
    required = {f["field"] for f in report["all"] if f["required"]}
    assert {"given_names", "age", "officers", "receiving_authority"} <= required
    for code, fields in report["by_institution"].items():
        mine = [d for d in expected if d.institution.code == code]
        by_name = {f["field"]: f["share"] for f in fields}
        assert by_name["contact"] == pytest.approx(
            sum(1 for d in mine if d.contact_name or d.contact_phone) / len(mine)
        )


def test_constancy_matches_a_plain_recount(june: dict[str, Any]) -> None:
    section = monthly.monthly(2026, 6, "29")["constancy"]
    expected = recount("29")
    rows = {i["institution"]: i for i in section["institutions"]}
    police = Institution.objects.filter(state_id="29", kind__in=POLICE_KINDS)
    assert set(rows) == {i.code for i in police}
    for institution in police:
        days = [date(2026, 6, n) for n in range(1, 31)]
        since = institution.operating_since
        expected_days = [d for d in days if since and d >= since]
        captured = {
            d.detained_at.astimezone(ZoneInfo(d.place_timezone)).date()
            for d in expected
            if d.institution_id == institution.pk
        }
        zero = set(ZeroReport.objects.filter(institution=institution).values_list("day", flat=True))
        row = rows[institution.code]
        assert row["expected_days"] == len(expected_days)
        assert row["days_with_captures"] == len([d for d in expected_days if d in captured])
        assert row["days_with_zero_report"] == len(
            [d for d in expected_days if d in zero and d not in captured]
        )
        assert row["silent_days"] == len(
            [d for d in expected_days if d not in captured and d not in zero]
        )
    assert rows["ssc-tlax"]["expected_days"] == 21  # from 10 June: prorated
    assert rows["pm-apizaco"]["days_with_zero_report"] > 0
    totals = section["totals"]
    assert totals["reporting_rate"] == pytest.approx(
        (totals["days_with_captures"] + totals["days_with_zero_report"]) / totals["expected_days"]
    )


def test_registration_and_handover_breaches_match_a_recount(june: dict[str, Any]) -> None:
    section = monthly.monthly(2026, 6, "29")["legal_clocks"]
    clocks = {c["clock"]: c for c in section["clocks"]}
    expected = recount("29")
    late_registrations = sum(
        1 for d in expected if d.registered_at - d.detained_at > timedelta(minutes=60)
    )
    assert clocks["registration_delay"]["breached"] == late_registrations > 0
    assert clocks["registration_delay"]["open_at_month_end"] == 0
    month_end = datetime(2026, 7, 1, tzinfo=TLAX)
    breached = still_open = 0
    for d in expected:
        due = d.detained_at + timedelta(hours=4)
        event = d.events.filter(kind="handed_over").order_by("occurred_at").first()
        ended = event.occurred_at if event else None
        if due >= month_end:
            continue
        if ended is None or ended > month_end:
            breached += 1
            still_open += 1
        elif ended > due:
            breached += 1
    assert clocks["handover"]["breached"] == breached > 0
    assert clocks["handover"]["open_at_month_end"] == still_open


def test_late_receiving_updates_match_a_recount(june: dict[str, Any]) -> None:
    section = monthly.monthly(2026, 6, "29")["corrections"]
    from custodia.registry.models import CustodyEvent

    updates = late = 0
    for e in CustodyEvent.objects.filter(detention__state_id="29").select_related("institution"):
        local = e.recorded_at.astimezone(ZoneInfo(e.local_zone))
        if (local.year, local.month) != (2026, 6) or e.kind in ("registered", "corrected"):
            continue
        if e.institution.kind not in POLICE_KINDS:
            updates += 1
            late += (e.recorded_at - e.occurred_at) > timedelta(minutes=60)
    assert section["receiving_updates"] == updates > 0
    assert section["late_receiving_updates"] == late > 0
    assert section["corrections"] == 0


def test_quality_index_follows_its_documented_formula(june: dict[str, Any]) -> None:
    quality = monthly.monthly(2026, 6, "29")["quality"]
    expected = recount("29")
    parts = quality["overall"]["components"]
    within = sum(1 for d in expected if d.registered_at - d.detained_at <= timedelta(minutes=60))
    assert parts["timeliness"] == pytest.approx(within / len(expected))
    weights = monthly.QUALITY_WEIGHTS
    assert sum(weights.values()) == pytest.approx(1.0)
    index = 100 * sum(weights[k] * parts[k] for k in weights)
    assert quality["overall"]["index"] == pytest.approx(index, abs=0.05)
    assert 0 < quality["overall"]["index"] < 100
    # Per institution too, and an institution with no detentions keeps its constancy.
    assert set(quality["by_institution"]) >= {"ssc-tlax", "pm-apizaco"}
    ranking = quality["state_ranking"]
    ranked = [s for s in ranking if s["rank"] is not None]
    assert [s["rank"] for s in ranked] == list(range(1, len(ranked) + 1))
    assert [s["index"] for s in ranked] == sorted((s["index"] for s in ranked), reverse=True)
    assert {"29", "08"} <= {s["state"] for s in ranked}
    assert quality["rank"] == next(s["rank"] for s in ranking if s["state"] == "29")


def test_trends_compare_with_the_previous_month_and_last_year(
    june: dict[str, Any], make_user: Callable[..., User]
) -> None:
    officer = make_user(Role.CAPTURE, "ssc-tlax")
    register_at(officer, datetime(2026, 5, 20, 10, 0, tzinfo=TLAX), 30)
    trends = monthly.monthly(2026, 6, "29")["trends"]
    assert trends["previous_month"] == "2026-05" and trends["same_month_last_year"] == "2025-06"
    total = trends["figures"]["detentions"]
    assert total["current"] == len(recount("29"))
    assert total["previous_month"] == 1 and total["same_month_last_year"] == 0
    assert total["change_from_previous_month"] == total["current"] - 1
    median = trends["figures"]["registration_median_minutes"]
    assert median["previous_month"] == 30 and median["same_month_last_year"] is None
    assert median["change_from_last_year"] is None


def test_csv_carries_the_same_figures(june: dict[str, Any], make_user: Callable[..., User]) -> None:
    import csv
    import io

    from conftest import client_for

    national = client_for(make_user(Role.NATIONAL_ANALYST, "st-cnssp"))
    params = {"month": "2026-06", "state": "29", "format": "csv"}
    response = national.get("/api/v1/reports/monthly", params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "informe-2026-06-29.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    assert rows[0] == ["seccion", "tabla", "clave", "etiqueta", "medida", "valor"]
    report = monthly.monthly(2026, 6, "29")
    total = next(r for r in rows if r[:2] == ["volume", ""] and r[4] == "total")
    assert int(total[5]) == report["volume"]["total"]
    basis = {r[2]: int(r[5]) for r in rows if r[1] == "by_arrest_basis"}
    assert basis == {i["key"]: i["count"] for i in report["volume"]["by_arrest_basis"]}
    index = next(r for r in rows if r[0] == "quality" and r[1] == "overall" and r[4] == "index")
    assert float(index[5]) == report["quality"]["overall"]["index"]


def test_the_command_writes_the_report_and_refuses_bad_arguments(
    june: dict[str, Any], tmp_path: Any
) -> None:
    import json

    from django.core.management import CommandError, call_command

    target = tmp_path / "junio.json"
    call_command("report", "monthly", "--month", "2026-06", "--state", "29", "-o", str(target))
    written = json.loads(target.read_text(encoding="utf-8"))
    assert written["volume"]["total"] == len(recount("29"))
    national = tmp_path / "n.csv"
    call_command("report", "monthly", "--month", "2026-06", "--format", "csv", "-o", str(national))
    assert national.read_text(encoding="utf-8").startswith("seccion,tabla")
    page = tmp_path / "junio.html"
    call_command("report", "monthly", "--month", "2026-06", "--state", "29", "--format", "html",
                 "-o", str(page))  # fmt: skip
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") >= 3  # the charts, inline
    assert "<style>" in html and 'rel="stylesheet"' not in html  # opens without the server
    assert f"{len(recount('29'))}" in html
    for argv, message in (
        (["--month", "junio"], "--month"),
        (["--month", "2026-06", "--state", "77"], "--state"),
        (["--month", "2026-06", "--format", "docx"], "--format"),
        (["--month", "2026-06", "-o", str(tmp_path / "no" / "existe.json")], "-o"),
    ):
        with pytest.raises(CommandError, match=message):
            call_command("report", "monthly", *argv)


def test_the_page_shows_the_report_within_jurisdiction(
    june: dict[str, Any], make_user: Callable[..., User]
) -> None:
    from django.test import Client

    analyst = Client()
    analyst.force_login(make_user(Role.STATE_ANALYST, "ssc-tlax"))
    page = analyst.get("/reportes/", {"mes": "2026-06"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Tlaxcala, junio de 2026" in text
    assert text.count('<svg xmlns="http://www.w3.org/2000/svg"') >= 7
    assert "Sin información" in text and "Índice de calidad" in text
    assert analyst.get("/reportes/", {"mes": "2026-06", "entidad": "08"}).status_code == 403
    bad = analyst.get("/reportes/", {"mes": "2026/06"})
    assert bad.status_code == 400 and "AAAA-MM" in bad.content.decode()
    download = analyst.get("/reportes/descargar/", {"mes": "2026-06", "formato": "csv"})
    assert download.status_code == 200 and download.content.startswith(b"seccion,tabla")
    wrong = analyst.get("/reportes/descargar/", {"mes": "2026-06", "formato": "docx"})
    assert (
        wrong.status_code == 400 and "Formato: use json, csv, xlsx, pdf" in wrong.content.decode()
    )
    officer = Client()
    officer.force_login(make_user(Role.CAPTURE, "ssc-tlax"))
    assert officer.get("/reportes/").status_code == 403


def test_xlsx_has_one_sheet_per_section(june: dict[str, Any], tmp_path: Any) -> None:
    import zipfile

    from django.core.management import call_command

    target = tmp_path / "junio.xlsx"
    call_command(
        "report",
        "monthly",
        "--month",
        "2026-06",
        "--state",
        "29",
        "--format",
        "xlsx",
        "-o",
        str(target),
    )
    with zipfile.ZipFile(target) as book:
        workbook = book.read("xl/workbook.xml").decode()
        for title in ("Informe", "1 Volumen", "2 Oportunidad", "7 Calidad", "8 Tendencias"):
            assert f'name="{title}"' in workbook, title
        volume_sheet = book.read("xl/worksheets/sheet2.xml").decode()
    total = monthly.monthly(2026, 6, "29")["volume"]["total"]
    assert f"<v>{total}</v>" in volume_sheet


def test_the_pdf_opens_and_its_first_page_is_not_blank(june: dict[str, Any], tmp_path: Any) -> None:
    import pypdfium2
    from django.core.management import CommandError, call_command

    target = tmp_path / "junio.pdf"
    call_command(
        "report",
        "monthly",
        "--month",
        "2026-06",
        "--state",
        "29",
        "--format",
        "pdf",
        "-o",
        str(target),
    )
    document = pypdfium2.PdfDocument(target.read_bytes())
    assert len(document) >= 2
    first = document[0]
    text = first.get_textpage().get_text_range()
    assert "Informe mensual de detenciones" in text and "Tlaxcala" in text and "1. Volumen" in text
    image = first.render(scale=1.5).to_pil().convert("L")
    image.save(tmp_path / "pagina-1.png")
    dark = sum(image.histogram()[:200])  # grey levels below 200 of 255
    assert dark > 0.01 * image.width * image.height  # text, tables and bars, not an empty page
    with pytest.raises(CommandError, match="-o ARCHIVO"):
        call_command("report", "monthly", "--month", "2026-06", "--format", "pdf")


def test_data_quality_counts_rules_and_logs_the_folios_read(
    june: dict[str, Any], make_user: Callable[..., User]
) -> None:
    from django.test import Client

    from custodia.core.models import AccessLog
    from custodia.reports import quality

    expected: Counter[tuple[str, str]] = Counter()
    folios_by_code: dict[str, set[str]] = {}
    for d in recount("29"):
        for code in d.warning_codes:
            expected[(code, d.institution.code)] += 1
            folios_by_code.setdefault(code, set()).add(d.folio)
    assert expected, "the synthetic month must break some warning rule"
    result = quality.violations(2026, 6, "29")
    assert result["months"] == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    found = Counter(
        {(r["code"], inst): n for r in result["rules"] for inst, n in r["by_institution"].items()}
    )
    assert found == expected
    for r in result["rules"]:
        assert r["trend"][-1] == r["count"] and r["trend"][:-1] == [0] * 5

    analyst = Client()
    user = make_user(Role.STATE_ANALYST, "ssc-tlax")
    analyst.force_login(user)
    page = analyst.get("/reportes/calidad/", {"mes": "2026-06"})
    assert page.status_code == 200 and "Tlaxcala, junio de 2026" in page.content.decode()
    code = sorted(folios_by_code)[0]
    drill = analyst.get("/reportes/calidad/folios/", {"regla": code, "mes": "2026-06"})
    assert drill.status_code == 200
    text = drill.content.decode()
    assert all(folio in text for folio in folios_by_code[code])
    logged = set(
        AccessLog.objects.filter(
            username=user.username, action="reports.quality_folios"
        ).values_list("folio", flat=True)
    )
    assert logged == folios_by_code[code]
    assert analyst.get("/reportes/calidad/", {"mes": "2026-06", "entidad": "08"}).status_code == 403
    bad = analyst.get("/reportes/calidad/folios/", {"regla": "XYZ", "mes": "2026-06"})
    assert bad.status_code == 400
    assert "Regla: no existe ese código." in bad.content.decode()
    assert 'href="/reportes/"' in bad.content.decode()  # a way back
    back = 'href="/reportes/calidad/?mes=2026-06&amp;entidad=29"'
    assert back in drill.content.decode()


def test_all_states_send_queues_each_states_pdf_to_its_analysts(
    june: dict[str, Any], make_user: Callable[..., User], settings: Any, tmp_path: Any
) -> None:
    from django.core import mail
    from django.core.management import CommandError, call_command

    from custodia.notify.models import OutboxMessage, Topic
    from custodia.notify.worker import run_once

    settings.VAR_DIR = tmp_path
    tlaxcala = make_user(Role.STATE_ANALYST, "ssc-tlax", email="analista.tlax@example.mx")
    chihuahua = make_user(Role.STATE_ANALYST, "sspe-chih", email="analista.chih@example.mx")
    make_user(Role.STATE_ANALYST, "ssc-tlax", email="")  # no address: not a recipient
    call_command("report", "monthly", "--month", "2026-06", "--all-states", "--send")
    queued = OutboxMessage.objects.filter(topic=Topic.REPORT_MONTHLY)
    assert sorted(m.payload["state"] for m in queued) == ["08", "29"]
    run_once()
    sent = {m.to[0]: m for m in mail.outbox if "Informe mensual" in m.subject}
    assert set(sent) == {tlaxcala.email, chihuahua.email}
    name, content, kind = sent[tlaxcala.email].attachments[0]
    assert name == "informe-2026-06-29.pdf" and kind == "application/pdf"
    assert content.startswith(b"%PDF")
    assert "Tlaxcala" in sent[tlaxcala.email].subject
    # Again for the same month: nothing new is queued or sent.
    call_command("report", "monthly", "--month", "2026-06", "--all-states", "--send")
    assert OutboxMessage.objects.filter(topic=Topic.REPORT_MONTHLY).count() == 2
    for argv, message in (
        (["--send"], "--send"),
        (["--all-states"], "--send"),
        (["--all-states", "--send", "--state", "29"], "--state"),
    ):
        with pytest.raises(CommandError, match=message):
            call_command("report", "monthly", "--month", "2026-06", *argv)


def test_the_heat_map_never_asks_for_more_than_full_colour() -> None:
    """At the busiest cell, 0.08 + 0.92 x value / peak is 1.0000000000000002 for some peaks, an
    opacity the PDF library refuses (found on a 10-million benchmark)."""
    from custodia.reports.charts import heat_shade
    from custodia.reports.pdf import _heat

    assert any(0.08 + 0.92 * v / v > 1 for v in range(1, 1000))  # the trap is real
    assert all(0 < heat_shade(v, peak) <= 1 for peak in range(1, 300) for v in range(1, peak + 1))
    assert heat_shade(0, 10) == 0
    grid = [[0] * 24 for _ in range(7)]
    grid[4][22] = 7  # 0.92 * 7 / 7 > 0.92
    drawing = _heat("Día y hora", list(monthly.WEEKDAYS), grid)[0]
    import io

    from reportlab.graphics import renderPDF

    renderPDF.drawToFile(drawing._content[1], io.BytesIO())  # raised before
