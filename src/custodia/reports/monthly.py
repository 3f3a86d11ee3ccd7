"""The monthly report's figures (docs/reports.md), computed from the month's detentions.

Built so far: volume (section 1), timeliness (section 2) and completeness (section 3). A
detention belongs to the local date where it happened (its ``place_timezone``), so the month is
read with bounds wide enough for every Mexican time zone and then cut exactly, one by one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q

from custodia.core.models import POLICE_KINDS, Institution, State
from custodia.registry import clocks, custody
from custodia.registry.alerts import clock_policy
from custodia.registry.models import ArrestBasis, CustodyEvent, Detention, Sex, Status

from .models import ZeroReport
from .queries import expected_days, month_days

AGE_BANDS = (
    ("0-11", 0, 11),
    ("12-17", 12, 17),
    ("18-29", 18, 29),
    ("30-44", 30, 44),
    ("45-59", 45, 59),
    ("60+", 60, 200),
)
UNKNOWN_AGE = "sin dato"
WEEKDAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")


def age_band(age: int | None) -> str:
    if age is None:
        return UNKNOWN_AGE
    return next(label for label, low, high in AGE_BANDS if low <= age <= high)


def month_window(year: int, month: int) -> tuple[datetime, datetime]:
    """UTC-aware bounds that contain every instant of the month in every Mexican time zone: it
    starts first in the east (Quintana Roo, UTC-5) and ends last in the west (Baja California)."""
    first = date(year, month, 1)
    after = date(*next_month(year, month), 1)
    start = datetime.combine(first, time.min, tzinfo=ZoneInfo("America/Cancun"))
    end = datetime.combine(after, time.min, tzinfo=ZoneInfo("America/Tijuana"))
    return start, end


def nearest_rank(sorted_values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least ``share`` of the values at
    or below it. None for no values."""
    if not sorted_values:
        return None
    rank = max(1, -(-int(share * 1000) * len(sorted_values) // 1000))  # ceil without floats
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class Row:
    """What the report reads of one detention."""

    folio: str
    state: str
    institution: str
    municipality: str | None
    local: datetime  # detention time on the local clock where it happened
    arrest_basis: str
    sex: str
    age: int | None
    status: str
    registration_minutes: float
    handover_minutes: float | None
    present: frozenset[str] = frozenset()  # completeness: the FIELDS this record fills
    projection: dict[str, Any] | None = None  # custody_state, for the legal clocks
    pk: int = 0


# Completeness (section 3): each field, whether the law or the form requires it, and when a
# record counts as having it. Required fields are enforced at capture, so gaps there point at
# other channels (bulk imports) or at "unknown" answers.
FIELDS = (
    ("given_names", "Nombre(s)", True),
    ("first_surname", "Primer apellido", True),
    ("sex", "Sexo (determinado)", True),
    ("age", "Edad o fecha de nacimiento", True),
    ("reason", "Motivo", True),
    ("officers", "Elementos aprehensores", True),
    ("receiving_authority", "Autoridad receptora", True),
    ("second_surname", "Segundo apellido", False),
    ("curp", "CURP", False),
    ("birth_date", "Fecha de nacimiento", False),
    ("nationality", "Nacionalidad", False),
    ("physical_condition", "Estado físico y lesiones", False),
    ("municipality", "Municipio", False),
    ("address", "Domicilio del lugar", False),
    ("coordinates", "Coordenadas", False),
    ("contact", "Persona de contacto", False),
    ("receiving_institution", "Autoridad receptora del catálogo", False),
    ("officers_cuip", "CUIP de todos los elementos", False),
)


COLUMNS = (
    "pk",
    "folio",
    "state_id",
    "institution__code",
    "municipality_id",
    "detained_at",
    "place_timezone",
    "registered_at",
    "arrest_basis",
    "person__sex",
    "person__age",
    "status",
    "custody_state",
    # completeness
    "person__given_names",
    "person__first_surname",
    "person__second_surname",
    "person__curp",
    "person__birth_date",
    "person__nationality",
    "person__physical_condition",
    "reason",
    "receiving_name",
    "receiving_institution_id",
    "address",
    "latitude",
    "longitude",
    "contact_name",
    "contact_phone",
    "officers_n",
    "officers_without_cuip",
)


def month_rows(year: int, month: int, state: str | None) -> list[Row]:
    start, end = month_window(year, month)
    detentions = Detention.objects.filter(detained_at__gte=start, detained_at__lt=end)
    if state:
        detentions = detentions.filter(state_id=state)
    found = (
        detentions.order_by()
        .annotate(
            officers_n=Count("officers"),
            officers_without_cuip=Count("officers", filter=Q(officers__cuip="")),
        )
        .values(*COLUMNS)
    )
    rows = []
    for v in found.iterator(chunk_size=5000):
        detained = v["detained_at"]
        local = detained.astimezone(ZoneInfo(v["place_timezone"]))
        if (local.year, local.month) != (year, month):
            continue
        handed = (v["custody_state"] or {}).get("handed_over_at")
        handover = None
        if handed:
            handover = (datetime.fromisoformat(handed) - detained).total_seconds() / 60
        rows.append(
            Row(
                folio=v["folio"],
                state=v["state_id"],
                institution=v["institution__code"],
                municipality=v["municipality_id"],
                local=local,
                arrest_basis=v["arrest_basis"],
                sex=v["person__sex"] or Sex.UNKNOWN,
                age=v["person__age"],
                status=v["status"],
                registration_minutes=(v["registered_at"] - detained).total_seconds() / 60,
                handover_minutes=handover,
                present=_present(v),
                projection=v["custody_state"],
                pk=v["pk"],
            )
        )
    return rows


def _present(v: dict[str, Any]) -> frozenset[str]:
    """Which of ``FIELDS`` a record fills."""
    checks = {
        "given_names": bool(v["person__given_names"]),
        "first_surname": bool(v["person__first_surname"]),
        "sex": v["person__sex"] not in (None, "", Sex.UNKNOWN),
        "age": v["person__age"] is not None or v["person__birth_date"] is not None,
        "reason": bool((v["reason"] or "").strip()),
        "officers": v["officers_n"] > 0,
        "receiving_authority": bool(v["receiving_name"]),
        "second_surname": bool(v["person__second_surname"]),
        "curp": bool(v["person__curp"]),
        "birth_date": v["person__birth_date"] is not None,
        "nationality": bool(v["person__nationality"]),
        "physical_condition": bool((v["person__physical_condition"] or "").strip()),
        "municipality": v["municipality_id"] is not None,
        "address": bool(v["address"]),
        "coordinates": v["latitude"] is not None and v["longitude"] is not None,
        "contact": bool(v["contact_name"] or v["contact_phone"]),
        "receiving_institution": v["receiving_institution_id"] is not None,
        "officers_cuip": v["officers_n"] > 0 and v["officers_without_cuip"] == 0,
    }
    return frozenset(name for name, ok in checks.items() if ok)


def _labelled(counts: Counter[str], labels: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"key": key, "label": labels.get(key, key), "count": n}
        for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def volume(rows: Iterable[Row]) -> dict[str, Any]:
    rows = list(rows)
    institutions = dict(Institution.objects.values_list("code", "name"))
    heat = [[0] * 24 for _ in WEEKDAYS]
    for r in rows:
        heat[r.local.weekday()][r.local.hour] += 1
    bands = Counter(age_band(r.age) for r in rows)
    return {
        "total": len(rows),
        "by_arrest_basis": _labelled(
            Counter(r.arrest_basis for r in rows), dict(ArrestBasis.choices)
        ),
        "by_institution": _labelled(Counter(r.institution for r in rows), institutions),
        "by_municipality": _labelled(Counter(r.municipality or "sin dato" for r in rows), {}),
        "by_sex": _labelled(Counter(r.sex for r in rows), dict(Sex.choices)),
        "by_age_band": [
            {"key": label, "label": f"{label} años" if label != UNKNOWN_AGE else label, "count": n}
            for label in [*(b[0] for b in AGE_BANDS), UNKNOWN_AGE]
            if (n := bands[label])
        ],
        "by_outcome": _labelled(Counter(r.status for r in rows), dict(Status.choices)),
        "weekday_hour": {"weekdays": list(WEEKDAYS), "counts": heat},
    }


def _delays(values: list[float], thresholds: dict[str, float]) -> dict[str, Any]:
    ordered = sorted(values)
    n = len(ordered)
    return {
        "count": n,
        "median_minutes": nearest_rank(ordered, 0.5),
        "p90_minutes": nearest_rank(ordered, 0.9),
        "within": {
            name: (sum(1 for v in ordered if v <= limit) / n if n else None)
            for name, limit in thresholds.items()
        },
    }


def timeliness(rows: Iterable[Row]) -> dict[str, Any]:
    rows = list(rows)
    policy = clock_policy()
    minutes = lambda d: d.total_seconds() / 60  # noqa: E731
    registration = {
        "warning": minutes(policy.registration_warning),
        "critical": minutes(policy.registration_critical),
    }
    handover = {
        "warning": minutes(policy.handover_warning),
        "critical": minutes(policy.handover_critical),
    }

    def section(subset: list[Row]) -> dict[str, Any]:
        handed = [r.handover_minutes for r in subset if r.handover_minutes is not None]
        return {
            "registration": _delays([r.registration_minutes for r in subset], registration),
            "handover": _delays(handed, handover),
            "not_handed_over": len(subset) - len(handed),
        }

    by_institution: dict[str, list[Row]] = {}
    for r in rows:
        by_institution.setdefault(r.institution, []).append(r)
    return {
        "thresholds_minutes": {"registration": registration, "handover": handover},
        "all": section(rows),
        "by_institution": {
            code: section(subset) for code, subset in sorted(by_institution.items())
        },
    }


def completeness(rows: Iterable[Row]) -> dict[str, Any]:
    rows = list(rows)

    def shares(subset: list[Row]) -> list[dict[str, Any]]:
        return [
            {
                "field": name,
                "label": label,
                "required": required,
                "share": (sum(1 for r in subset if name in r.present) / len(subset))
                if subset
                else None,
            }
            for name, label, required in FIELDS
        ]

    by_institution: dict[str, list[Row]] = {}
    for r in rows:
        by_institution.setdefault(r.institution, []).append(r)
    return {
        "all": shares(rows),
        "by_institution": {code: shares(subset) for code, subset in sorted(by_institution.items())},
    }


def month_end(year: int, month: int, zone: str) -> datetime:
    """The first instant after the month in ``zone``."""
    return datetime.combine(date(*next_month(year, month), 1), time.min, tzinfo=ZoneInfo(zone))


def constancy_section(year: int, month: int, state: str | None, rows: list[Row]) -> dict[str, Any]:
    """Section 4: per police institution, days with captures, with a zero report, and silent,
    over the days it operated (expected reporters prorated day by day)."""
    police = Institution.objects.filter(kind__in=POLICE_KINDS).select_related("state")
    if state:
        police = police.filter(state_id=state)
    days = month_days(year, month)
    captured: dict[str, set[date]] = {}
    for r in rows:
        captured.setdefault(r.institution, set()).add(r.local.date())
    zero: dict[int, set[date]] = {}
    for inst, day in ZeroReport.objects.filter(
        institution__in=police, day__gte=days[0], day__lte=days[-1]
    ).values_list("institution_id", "day"):
        zero.setdefault(inst, set()).add(day)
    out: list[dict[str, Any]] = []
    for institution in police.order_by("code"):
        expected = expected_days(institution, days)
        mine, said = captured.get(institution.code, set()), zero.get(institution.pk, set())
        with_captures = sum(1 for d in expected if d in mine)
        zero_only = sum(1 for d in expected if d in said and d not in mine)
        out.append(
            {
                "institution": institution.code,
                "name": institution.name,
                "expected_days": len(expected),
                "days_with_captures": with_captures,
                "days_with_zero_report": zero_only,
                "silent_days": len(expected) - with_captures - zero_only,
                "contradictions": sum(1 for d in expected if d in said and d in mine),
            }
        )
    totals: dict[str, Any] = {
        key: sum(i[key] for i in out)
        for key in ("expected_days", "days_with_captures", "days_with_zero_report", "silent_days")
    }
    totals["reporting_rate"] = (
        (totals["days_with_captures"] + totals["days_with_zero_report"]) / totals["expected_days"]
        if totals["expected_days"]
        else None
    )
    return {"institutions": out, "totals": totals}


Breaches = dict[int, tuple[set[str], set[str]]]  # pk -> (breached by month end, still open then)


def breaches_by_row(year: int, month: int, rows: list[Row]) -> Breaches:
    """Per detention (pk): the clocks breached by the month's end, and those of them still open
    then. Judged at the end of the month in the detention's own time zone."""
    policy = clock_policy()
    found: Breaches = {}
    for r in rows:
        if not r.projection:
            continue
        end = month_end(year, month, str(r.local.tzinfo))
        breached: set[str] = set()
        still_open: set[str] = set()
        for clock in clocks.clocks_for(custody.state_from_json(r.projection), end, policy):
            if clock.due_at >= end or clock.clock == "death_in_custody":
                continue
            if clock.ended_at is None or clock.ended_at > end:
                breached.add(clock.clock)
                still_open.add(clock.clock)
            elif clock.ended_at > clock.due_at:
                breached.add(clock.clock)
        found[r.pk] = (breached, still_open)
    return found


def clocks_section(rows: list[Row], breached_by_row: Breaches) -> dict[str, Any]:
    """Section 5: for the month's detentions, the clocks breached by the month's end, and those
    still open then (breached and not ended). Each detention is judged at the end of the month
    in its own time zone, from its recorded custody instants."""
    breached: Counter[str] = Counter()
    still_open: Counter[str] = Counter()
    with_a_breach = 0
    for mine, open_ in breached_by_row.values():
        breached.update(mine)
        still_open.update(open_)
        with_a_breach += bool(mine)
    died = sum(1 for r in rows if r.status == Status.DECEASED)
    return {
        "clocks": [
            {
                "clock": key,
                "label": label,
                "basis": basis,
                "breached": breached[key],
                "open_at_month_end": still_open[key],
            }
            for key, (label, basis) in clocks.CLOCKS.items()
            if key != "death_in_custody"
        ],
        "deaths_in_custody": died,
        "detentions_with_a_breach": with_a_breach,
    }


def corrections_section(year: int, month: int, state: str | None) -> dict[str, Any]:
    """Section 6: corrections recorded in the month, and updates by receiving authorities
    recorded late (more than ``CUSTODIA_LATE_UPDATE_MINUTES`` after the fact), per institution.
    An event belongs to the month of its recording, on its local clock."""
    start, end = month_window(year, month)
    events = CustodyEvent.objects.filter(recorded_at__gte=start, recorded_at__lt=end)
    if state:
        events = events.filter(detention__state_id=state)
    late_after = settings.CUSTODIA_LATE_UPDATE_MINUTES
    corrections: Counter[str] = Counter()
    updates: Counter[str] = Counter()
    late: Counter[str] = Counter()
    for kind, recorded, occurred, zone, code, inst_kind in events.values_list(
        "kind", "recorded_at", "occurred_at", "local_zone", "institution__code",
        "institution__kind",
    ).iterator(chunk_size=5000):  # fmt: skip
        local = recorded.astimezone(ZoneInfo(zone))
        if (local.year, local.month) != (year, month):
            continue
        if kind == "corrected":
            corrections[code] += 1
        elif kind != "registered" and inst_kind not in POLICE_KINDS:
            updates[code] += 1
            if (recorded - occurred).total_seconds() / 60 > late_after:
                late[code] += 1
    return {
        "late_after_minutes": late_after,
        "corrections": sum(corrections.values()),
        "corrections_by_institution": dict(sorted(corrections.items())),
        "receiving_updates": sum(updates.values()),
        "late_receiving_updates": sum(late.values()),
        "receiving_by_institution": {
            code: {"updates": updates[code], "late": late[code]} for code in sorted(updates)
        },
    }


# Quality index (section 7): weights of its components, each a share from 0 to 1.
QUALITY_WEIGHTS = {
    "timeliness": 0.30,  # registrations within the warning threshold
    "completeness": 0.25,  # fields filled, required ones counting double
    "constancy": 0.25,  # expected days with captures or a zero report
    "legal": 0.20,  # detentions without any clock breached by the month's end
}


def record_completeness(r: Row) -> float:
    required = [name for name, _, req in FIELDS if req]
    optional = [name for name, _, req in FIELDS if not req]
    got = 2 * sum(1 for n in required if n in r.present) + sum(
        1 for n in optional if n in r.present
    )
    return got / (2 * len(required) + len(optional))


def quality(
    rows: list[Row],
    breached: Breaches,
    expected_days: int,
    reported_days: int,
) -> dict[str, Any]:
    """The index, 0 to 100, and its components. A component without data (no detentions, or no
    expected days) is left out and the others are reweighted; no component at all: None."""
    warning = clock_policy().registration_warning.total_seconds() / 60
    parts: dict[str, float | None] = {
        "timeliness": (
            sum(1 for r in rows if r.registration_minutes <= warning) / len(rows) if rows else None
        ),
        "completeness": sum(map(record_completeness, rows)) / len(rows) if rows else None,
        "constancy": reported_days / expected_days if expected_days else None,
        "legal": (
            sum(1 for r in rows if not breached.get(r.pk, (set(), set()))[0]) / len(rows)
            if rows
            else None
        ),
    }
    present = {k: v for k, v in parts.items() if v is not None}
    weight = sum(QUALITY_WEIGHTS[k] for k in present)
    index = (
        round(100 * sum(QUALITY_WEIGHTS[k] * v for k, v in present.items()) / weight, 1)
        if present
        else None
    )
    return {"index": index, "components": parts}


def quality_section(
    rows: list[Row], breached: Breaches, constancy: dict[str, Any]
) -> dict[str, Any]:
    by_institution: dict[str, list[Row]] = {}
    for r in rows:
        by_institution.setdefault(r.institution, []).append(r)
    days = {i["institution"]: i for i in constancy["institutions"]}
    codes = sorted(set(by_institution) | set(days))
    institutions = {}
    for code in codes:
        d = days.get(code, {})
        reported = d.get("days_with_captures", 0) + d.get("days_with_zero_report", 0)
        institutions[code] = quality(
            by_institution.get(code, []), breached, d.get("expected_days", 0), reported
        )
    totals = constancy["totals"]
    overall = quality(
        rows,
        breached,
        totals["expected_days"],
        totals["days_with_captures"] + totals["days_with_zero_report"],
    )
    return {"weights": QUALITY_WEIGHTS, "overall": overall, "by_institution": institutions}


@dataclass(frozen=True)
class MonthData:
    """What every section reads of a month in a scope, computed once."""

    rows: list[Row]
    breached: Breaches
    constancy: dict[str, Any]


def month_data(year: int, month: int, state: str | None) -> MonthData:
    rows = month_rows(year, month, state)
    return MonthData(
        rows, breaches_by_row(year, month, rows), constancy_section(year, month, state, rows)
    )


def state_ranking(national: MonthData) -> list[dict[str, Any]]:
    """Every state's quality index for the month, best first (ties by state code)."""
    state_of = dict(Institution.objects.values_list("code", "state_id"))
    names = dict(State.objects.values_list("code", "name"))
    rows_of: dict[str, list[Row]] = {}
    for r in national.rows:
        rows_of.setdefault(r.state, []).append(r)
    days_of: dict[str, list[int]] = {}  # state -> [expected, reported]
    for i in national.constancy["institutions"]:
        days = days_of.setdefault(state_of.get(i["institution"]) or "", [0, 0])
        days[0] += i["expected_days"]
        days[1] += i["days_with_captures"] + i["days_with_zero_report"]
    ranking = []
    for code in sorted(names):
        expected, reported = days_of.get(code, [0, 0])
        q = quality(rows_of.get(code, []), national.breached, expected, reported)
        ranking.append({"state": code, "name": names[code], "index": q["index"]})
    ranking.sort(key=lambda s: (s["index"] is None, -(s["index"] or 0), s["state"]))
    for position, item in enumerate(ranking, start=1):
        item["rank"] = position if item["index"] is not None else None
    return ranking


def headline(year: int, month: int, state: str | None) -> dict[str, Any]:
    """The figures the trends compare (section 8)."""
    data = month_data(year, month, state)
    return _figures(data, quality_section(data.rows, data.breached, data.constancy), None)


def _figures(
    data: MonthData, quality_part: dict[str, Any], timeliness_part: dict[str, Any] | None
) -> dict[str, Any]:
    registration = (timeliness_part or timeliness(data.rows))["all"]["registration"]
    return {
        "detentions": len(data.rows),
        "registration_median_minutes": registration["median_minutes"],
        "registered_within_warning": registration["within"]["warning"],
        "reporting_rate": data.constancy["totals"]["reporting_rate"],
        "detentions_with_a_breach": sum(1 for b, _ in data.breached.values() if b),
        "quality_index": quality_part["overall"]["index"],
    }


def previous_month(year: int, month: int) -> tuple[int, int]:
    return (year, month - 1) if month > 1 else (year - 1, 12)


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year, month + 1) if month < 12 else (year + 1, 1)


def trends(year: int, month: int, state: str | None, current: dict[str, Any]) -> dict[str, Any]:
    earlier = previous_month(year, month)
    before = headline(*earlier, state)
    last_year = headline(year - 1, month, state)

    def change(now: Any, then: Any) -> float | None:
        if now is None or then is None:
            return None
        return round(now - then, 6)

    return {
        "previous_month": f"{earlier[0]:04d}-{earlier[1]:02d}",
        "same_month_last_year": f"{year - 1:04d}-{month:02d}",
        "figures": {
            key: {
                "current": value,
                "previous_month": before[key],
                "same_month_last_year": last_year[key],
                "change_from_previous_month": change(value, before[key]),
                "change_from_last_year": change(value, last_year[key]),
            }
            for key, value in current.items()
        },
    }


def monthly(year: int, month: int, state: str | None) -> dict[str, Any]:
    """The report as JSON-ready data: one state, or the nation when ``state`` is None. A
    state's report reads the nation's month too, for its rank; the nation's reads it once."""
    data = month_data(year, month, state)
    national = data if state is None else month_data(year, month, None)
    quality_part = quality_section(data.rows, data.breached, data.constancy)
    timeliness_part = timeliness(data.rows)
    current = _figures(data, quality_part, timeliness_part)
    quality_part["state_ranking"] = ranking = state_ranking(national)
    if state:
        quality_part["rank"] = next((s["rank"] for s in ranking if s["state"] == state), None)
    return {
        "month": f"{year:04d}-{month:02d}",
        "state": state,
        "state_name": State.objects.get(code=state).name if state else "Nacional",
        "volume": volume(data.rows),
        "timeliness": timeliness_part,
        "completeness": completeness(data.rows),
        "constancy": data.constancy,
        "legal_clocks": clocks_section(data.rows, data.breached),
        "corrections": corrections_section(year, month, state),
        "quality": quality_part,
        "trends": trends(year, month, state, current),
    }
