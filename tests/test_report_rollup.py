"""The monthly report's rollup (issue 6): counts kept current by every registry write, equal to
a rebuild from scratch, checked and repaired from the command line, and clocks that fall due
with time alone counted without a write. (After every database test, conftest also checks the
counts against a recount of the registry.)"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from conftest import capture
from custodia.core.models import Institution, InstitutionKind, Role, User
from custodia.registry.models import Detention
from custodia.registry.services import detention_redact, detention_register, event_record
from custodia.reports import monthly, quality, rollup
from custodia.reports.models import (
    DetentionFact,
    InstitutionMonthCount,
    RollupState,
    StateMonthCount,
)

TLAX = ZoneInfo("America/Mexico_City")


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    """Move the clock to ``moment`` for the block."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: moment)
        yield


def register(officer: User, detained: datetime, delay_minutes: int, **overrides: Any) -> Detention:
    with at(detained + timedelta(minutes=delay_minutes)):
        return detention_register(
            actor=officer,
            data=capture(detained_at=detained.isoformat(), **overrides),
            channel="api",
        ).detention


def record(actor: User, detention: Detention, moment: datetime, **data: Any) -> None:
    with at(moment + timedelta(minutes=3)):
        event_record(
            actor=actor,
            folio=detention.folio,
            data={"occurred_at": moment.isoformat(), **data},
            channel="api",
        )


PROSECUTOR = {"kind": "public_prosecutor", "name": "MP", "institution": "fgje-tlax"}


def stored_counts() -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    cells = ("month", "dimension", "state", "key", "n")
    return (
        set(StateMonthCount.objects.filter(n__gt=0).values_list(*cells)),
        set(
            InstitutionMonthCount.objects.filter(n__gt=0).values_list(
                "month", "dimension", "state", "institution", "key", "n"
            )
        ),
    )


def test_writes_keep_the_counts_equal_to_a_rebuild(make_user: Callable[..., User]) -> None:
    """Registrations, handovers, releases, corrections and a redaction, in a seeded order:
    after each, the month's counts equal a recount; at the end, equal to a rebuild (which groups
    the facts in SQL, another path than the writes' differences)."""
    rnd = random.Random(7)
    officer = make_user(Role.CAPTURE, "ssc-tlax")
    supervisor = make_user(Role.SUPERVISOR, "ssc-tlax")
    prosecutor = make_user(Role.RECEIVING, "fgje-tlax")
    admin = make_user(Role.ADMIN, "st-cnssp")
    detentions = []
    for _ in range(12):
        detained = datetime(2026, 5, 28, 20, tzinfo=TLAX) + timedelta(hours=rnd.randrange(120))
        detentions.append(register(officer, detained, rnd.randrange(5, 300)))
    for d in detentions[:8]:
        handed = d.detained_at + timedelta(minutes=rnd.randrange(30, 600))
        record(officer, d, handed, kind="handed_over", authority=PROSECUTOR,
               legal_status="retencion_ministerial")  # fmt: skip
        if rnd.random() < 0.5:
            record(prosecutor, d, handed + timedelta(hours=rnd.randrange(2, 60)), kind="released")
    first = detentions[0]
    handed_event = first.events.get(kind="handed_over")
    record(
        supervisor,
        first,
        handed_event.occurred_at + timedelta(minutes=5),
        kind="corrected",
        corrects=handed_event.pk,
        field="occurred_at",
        value=(first.detained_at + timedelta(hours=7)).isoformat(),
        reason="Hora mal capturada",
    )
    with at(datetime(2026, 6, 20, 12, tzinfo=TLAX)):
        detention_redact(
            actor=admin, folio=detentions[1].folio, reason="Resolución judicial 123/2026"
        )
    for year, month in ((2026, 5), (2026, 6)):
        assert rollup.check(year, month) == []
    # Each write judged the clocks at its own time; the rebuild judges them now. Counting the
    # facts whose clocks fell due since makes the two comparable.
    assert rollup.refresh_due() > 0
    before = stored_counts()
    assert before[0] and before[1]
    facts = DetentionFact.objects.count()
    rollup.rebuild()
    assert stored_counts() == before
    assert DetentionFact.objects.count() == facts == len(detentions)
    may, june = (monthly.monthly(2026, m, "29")["corrections"] for m in (5, 6))
    assert may["corrections"] + june["corrections"] == 1
    assert may["corrections_by_institution"] | june["corrections_by_institution"] == {"ssc-tlax": 1}
    assert june["receiving_updates"] + may["receiving_updates"] == sum(
        1 for d in detentions for e in d.events.all() if e.kind == "released"
    )
    assert "notice" not in monthly.monthly(2026, 6, "29")


def test_check_finds_altered_counts_and_rebuild_repairs_them(
    make_user: Callable[..., User], capsys: pytest.CaptureFixture[str]
) -> None:
    officer = make_user(Role.CAPTURE, "ssc-tlax")
    register(officer, datetime(2026, 6, 3, 10, tzinfo=TLAX), 20)
    call_command("report", "rollup", "--check", "--month", "2026-06")
    assert "0 diferencia(s)" in capsys.readouterr().out
    StateMonthCount.objects.filter(month=202606, dimension="total").update(n=5)
    DetentionFact.objects.update(sex="female")
    with pytest.raises(CommandError, match="--rebuild"):
        call_command("report", "rollup", "--check")
    out = capsys.readouterr().out
    assert "guardado 5, recontado 1" in out and "el hecho guardado no coincide" in out
    call_command("report", "rollup", "--rebuild")
    assert "1 detenciones" in capsys.readouterr().out
    call_command("report", "rollup", "--check")
    assert monthly.monthly(2026, 6, "29")["volume"]["by_sex"][0]["key"] == "male"
    for argv, message in (
        (["--check", "--month", "junio"], "--month"),
        (["--rebuild", "--month", "2026-06"], "--month"),
        (["--rebuild", "--workers", "0"], "entre 1 y 32"),
    ):
        with pytest.raises(CommandError, match=message):
            call_command("report", "rollup", *argv)


def test_a_clock_that_falls_due_is_counted_without_a_write(make_user: Callable[..., User]) -> None:
    """Nobody hands the person over: four hours later the handover clock is breached. The report
    says so at once (reading the fact again, without writing); ``custodia notify`` writes it."""
    from custodia.notify.worker import run_once

    officer = make_user(Role.CAPTURE, "ssc-tlax")
    detained = datetime(2026, 6, 10, 12, tzinfo=TLAX)
    detention = register(officer, detained, 10)
    fact = DetentionFact.objects.get(pk=detention.pk)
    assert fact.clocks == "0-0" and fact.recheck_at == detained + timedelta(hours=4)

    def handover_clock() -> dict[str, Any]:
        clocks = monthly.monthly(2026, 6, "29")["legal_clocks"]["clocks"]
        return next(c for c in clocks if c["clock"] == "handover")

    with at(detained + timedelta(hours=3)):
        assert handover_clock()["breached"] == 0
    later = detained + timedelta(hours=5)
    with at(later):
        clock = handover_clock()
        assert (clock["breached"], clock["open_at_month_end"]) == (1, 1)
        assert DetentionFact.objects.get(pk=detention.pk).clocks == "0-0"  # nothing written
        assert run_once(later).recounted == 1
        fact = DetentionFact.objects.get(pk=detention.pk)
        bit = 1 << rollup.CLOCK_BITS.index("handover")
        assert fact.clocks == f"{bit}-{bit}"
        assert fact.recheck_at == detained + timedelta(hours=24)  # silent custody, next
        assert handover_clock()["breached"] == 1
        assert rollup.check(2026, 6) == []
    # After the month, every clock is judged at its end: handed over on 1 July, still open then.
    record(officer, detention, datetime(2026, 7, 1, 9, tzinfo=TLAX), kind="handed_over",
           authority=PROSECUTOR, legal_status="retencion_ministerial")  # fmt: skip
    clock = handover_clock()
    assert (clock["breached"], clock["open_at_month_end"]) == (1, 1)
    assert DetentionFact.objects.get(pk=detention.pk).recheck_at is None


def test_other_thresholds_make_the_rollup_stale_until_rebuilt(
    make_user: Callable[..., User], settings: Any
) -> None:
    officer = make_user(Role.CAPTURE, "ssc-tlax")
    detention = register(officer, datetime(2026, 6, 3, 10, tzinfo=TLAX), 20)
    record(officer, detention, detention.detained_at + timedelta(hours=3), kind="handed_over",
           authority=PROSECUTOR, legal_status="retencion_ministerial")  # fmt: skip
    handover = lambda r: next(  # noqa: E731
        c for c in r["legal_clocks"]["clocks"] if c["clock"] == "handover"
    )
    report = monthly.monthly(2026, 6, "29")
    assert "notice" not in report and handover(report)["breached"] == 0
    settings.CUSTODIA_CLOCKS = settings.CUSTODIA_CLOCKS | {"handover_warning_hours": 2}
    stale = monthly.monthly(2026, 6, "29")
    assert "custodia report rollup --rebuild" in stale["notice"]
    assert rollup.ensure_current() is True
    report = monthly.monthly(2026, 6, "29")
    assert "notice" not in report and handover(report)["breached"] == 1
    assert rollup.ensure_current() is False
    assert RollupState.objects.get().policy == rollup.policy_fingerprint()


def test_the_national_report_is_by_state(make_user: Callable[..., User]) -> None:
    """The nation's tables are by state (its institutions are in each state's report); police
    of national scope are their own unit of constancy."""
    guard = Institution.objects.create(
        code="gn", name="Guardia Nacional", kind=InstitutionKind.NATIONAL_GUARD,
        operating_since=date(2026, 6, 1),
    )  # fmt: skip
    Institution.objects.filter(kind__in=["police_state", "police_municipal"]).update(
        operating_since=date(2026, 1, 1)
    )
    officers = {code: make_user(Role.CAPTURE, code) for code in ("ssc-tlax", "sspe-chih")}
    gn_officer = User.objects.create_user(
        "gn-1", password="x", role=Role.CAPTURE, institution=guard
    )
    register(officers["ssc-tlax"], datetime(2026, 6, 3, 10, tzinfo=TLAX), 20)
    register(officers["ssc-tlax"], datetime(2026, 6, 4, 10, tzinfo=TLAX), 90)
    chih = capture()["place"] | {"state": "08", "municipality": None}
    register(officers["sspe-chih"], datetime(2026, 6, 5, 10, tzinfo=TLAX), 30, place=chih)
    register(gn_officer, datetime(2026, 6, 5, 11, tzinfo=TLAX), 30)  # in Tlaxcala
    register(gn_officer, datetime(2026, 6, 6, 11, tzinfo=TLAX), 30, place=chih)
    report = monthly.monthly(2026, 6, None)
    assert report["unit"] == "state"
    by_state = {i["key"]: i["count"] for i in report["volume"]["by_state"]}
    assert by_state == {"29": 3, "08": 2}
    assert set(report["timeliness"]["by_state"]) == {"29", "08"}
    assert report["timeliness"]["by_state"]["29"]["registration"]["median_minutes"] == 30
    constancy = {s["state"]: s for s in report["constancy"]["states"]}
    assert constancy[monthly.NATIONAL_UNIT]["name"] == monthly.NATIONAL_UNIT_NAME
    assert constancy[monthly.NATIONAL_UNIT]["days_with_captures"] == 2  # 5 and 6 June
    assert constancy["29"]["days_with_captures"] == 2
    assert constancy["29"]["expected_days"] == 60  # two police forces, 30 days each
    assert report["constancy"]["totals"]["expected_days"] == sum(
        s["expected_days"] for s in constancy.values()
    )
    state = monthly.monthly(2026, 6, "29")
    assert {i["key"] for i in state["volume"]["by_institution"]} == {"ssc-tlax", "gn"}
    assert "gn" not in {i["institution"] for i in state["constancy"]["institutions"]}
    page = monthly.unit_tables(report)
    assert (
        page["label"] == "Entidad"
        and ("Tlaxcala", report["timeliness"]["by_state"]["29"]) in (page["timeliness"])
    )
    rules = quality.violations(2026, 6, None)
    assert rules["unit"] == "state"
    late = next(r for r in rules["rules"] if r["code"] == "RND-W201")
    assert late["by_state"] == {"29": 1}


def test_an_institution_closed_mid_month_is_expected_until_it_closed(
    make_user: Callable[..., User],
) -> None:
    Institution.objects.filter(code="pm-apizaco").update(
        operating_since=date(2025, 1, 1), operating_until=date(2026, 6, 20)
    )
    Institution.objects.filter(code="ssc-tlax").update(operating_since=date(2026, 6, 25))
    officer = make_user(Role.CAPTURE, "pm-apizaco")
    register(officer, datetime(2026, 6, 19, 22, tzinfo=TLAX), 15)
    register(officer, datetime(2026, 6, 22, 9, tzinfo=TLAX), 15)  # after closing: not expected
    rows = {
        i["institution"]: i for i in monthly.monthly(2026, 6, "29")["constancy"]["institutions"]
    }
    assert rows["pm-apizaco"]["expected_days"] == 20
    assert rows["pm-apizaco"]["days_with_captures"] == 1
    assert rows["pm-apizaco"]["silent_days"] == 19
    assert rows["ssc-tlax"]["expected_days"] == 6  # opened on the 25th
    july = monthly.monthly(2026, 7, "29")["constancy"]["institutions"]
    assert {i["institution"]: i["expected_days"] for i in july} == {
        "pm-apizaco": 0,
        "ssc-tlax": 31,
    }


def test_a_redaction_empties_fields_and_is_no_receiving_update(
    make_user: Callable[..., User],
) -> None:
    officer = make_user(Role.CAPTURE, "ssc-tlax")
    admin = make_user(Role.ADMIN, "st-cnssp")
    detention = register(officer, datetime(2026, 6, 3, 10, tzinfo=TLAX), 20)
    share = lambda: next(  # noqa: E731
        f["share"]
        for f in monthly.monthly(2026, 6, "29")["completeness"]["all"]
        if f["field"] == "second_surname"
    )
    assert share() == 1
    with at(datetime(2026, 6, 20, 12, tzinfo=TLAX)):
        detention_redact(actor=admin, folio=detention.folio, reason="Resolución judicial 123/2026")
    assert share() == 0
    assert monthly.monthly(2026, 6, "29")["corrections"]["receiving_updates"] == 0
