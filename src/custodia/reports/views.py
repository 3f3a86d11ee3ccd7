"""Pages of the reports app."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from custodia.core import access
from custodia.core.accesslog import client_ip, log_access
from custodia.core.errors import InvalidFields
from custodia.core.models import Channel, Role, State, User
from custodia.registry import rules

from . import charts, formats, monthly, quality, queries, services

MONTH_NAMES = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
    "octubre", "noviembre", "diciembre",
)  # fmt: skip
STATUS_LABELS = {
    "captured": "Con capturas",
    "zero": "Reporte en cero",
    "silent": "Sin información",
    "contradiction": "Cero con capturas",
    "not_expected": "No operaba",
}


def may_file(user: User) -> bool:
    return (
        access.is_active_member(user)
        and user.role in services.FILERS
        and user.institution is not None
        and user.institution.is_police
    )


@login_required
@require_http_methods(["GET", "POST"])
def zero_reports(request: HttpRequest) -> HttpResponse:
    """/reportes/cero/: an institution says "no detentions today", and sees its month."""
    user: User = request.user  # type: ignore[assignment]
    if not may_file(user):
        return render(
            request,
            "core/forbidden.html",
            {"message": "Sólo el personal de captura o de supervisión de una policía presenta "
             "reportes en cero."},
            status=403,
        )  # fmt: skip
    institution = user.institution
    assert institution is not None  # may_file
    today = timezone.now().astimezone(queries.zone_of(institution)).date()
    fields = {
        "day": request.POST.get("day", today.isoformat()),
        "note": request.POST.get("note", ""),
    }
    context: dict[str, object] = {"fields": fields, "errors": {}, "today": today}
    status = 200
    if request.method == "POST":
        try:
            report = services.file_zero_report(
                actor=user,
                day=fields["day"],
                note=fields["note"],
                channel=Channel.WEB,
                ip=client_ip(request),
            )
        except InvalidFields as invalid:
            context.update(errors=invalid.by_field(), error_list=invalid.errors)
            status = 400
        else:
            return redirect(f"{request.path}?presentado={report.day.isoformat()}")
    month_text = request.GET.get("mes", "")
    year, month = today.year, today.month
    if month_text:
        try:
            year, month = queries.parse_month(month_text, "mes")
        except InvalidFields as invalid:
            context.update(errors=invalid.by_field(), error_list=invalid.errors)
            status = 400
    result = queries.constancy(institution, year, month)
    context.update(
        institution=institution,
        month_label=f"{MONTH_NAMES[month - 1]} de {year}",
        summary=result.as_dict(),
        days=[{**d, "label": STATUS_LABELS[d["status"]]} for d in result.as_dict()["days"]],
        filed=request.GET.get("presentado", ""),
    )
    return render(request, "reports/cero.html", context, status=status)


def _report_scope(user: User, state: str) -> str | None:
    """The state the user may read, None for the national report; AccessDenied otherwise."""
    from .api import report_state

    return report_state(user, state)


def _previous_month() -> str:
    today = timezone.localdate()
    first = today.replace(day=1)
    last = first - timedelta(days=1)
    return f"{last:%Y-%m}"


@login_required
def monthly_page(request: HttpRequest) -> HttpResponse:
    """/reportes/: the monthly report for analysts and auditors, with SVG charts."""
    user: User = request.user  # type: ignore[assignment]
    month_text = request.GET.get("mes", "") or _previous_month()
    state_text = request.GET.get("entidad", "")
    context: dict[str, object] = {
        "fields": {"mes": month_text, "entidad": state_text},
        "states": State.objects.order_by("name"),
        "national_reader": user.role in {Role.NATIONAL_ANALYST, Role.AUDITOR},
        "errors": {},
    }
    try:
        scope = _report_scope(user, state_text)
        year, month = queries.parse_month(month_text, "mes")
    except access.AccessDenied as denied:
        return render(request, "core/forbidden.html", {"message": denied.message}, status=403)
    except InvalidFields as invalid:
        context.update(errors=invalid.by_field(), error_list=invalid.errors)
        return render(request, "reports/mensual.html", context, status=400)
    report = monthly.monthly(year, month, scope)
    context.update(report_context(report, year, month))
    return render(request, "reports/mensual.html", context)


def report_context(report: dict[str, Any], year: int, month: int) -> dict[str, object]:
    """What the page template needs to show a report (also the API's ``format=html``)."""
    return {"report": report, "charts": _charts(report), "month_label": _month_label(year, month)}


@login_required
def monthly_download(request: HttpRequest) -> HttpResponse:
    """The same report as a file (JSON or CSV), for the page's download links."""
    user: User = request.user  # type: ignore[assignment]
    fmt = request.GET.get("formato", "csv")
    try:
        scope = _report_scope(user, request.GET.get("entidad", ""))
        year, month = queries.parse_month(request.GET.get("mes", ""), "mes")
        if fmt not in formats.FORMATS:
            raise InvalidFields([("formato", "Formato: json, csv, xlsx o pdf.")])
    except access.AccessDenied as denied:
        return render(request, "core/forbidden.html", {"message": denied.message}, status=403)
    except InvalidFields as invalid:
        return HttpResponse(
            "; ".join(m for _, m in invalid.errors), status=400, content_type="text/plain"
        )
    report = monthly.monthly(year, month, scope)
    response = HttpResponse(formats.render(report, fmt), content_type=formats.CONTENT_TYPES[fmt])
    name = f"informe-{year:04d}-{month:02d}-{scope or 'nacional'}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _month_label(year: int, month: int) -> str:
    return f"{MONTH_NAMES[month - 1]} de {year}"


def _charts(report: dict[str, Any]) -> dict[str, str]:
    volume = report["volume"]

    def items(key: str) -> list[tuple[str, float]]:
        return [(i["label"], i["count"]) for i in volume[key]]

    completeness = [
        (f["label"], round(100 * f["share"], 1))
        for f in report["completeness"]["all"]
        if f["share"] is not None
    ]
    return {
        "basis": charts.bars("c-basis", "Detenciones por fundamento", items("by_arrest_basis")),
        "institution": charts.bars(
            "c-inst", "Detenciones por institución", items("by_institution")[:15]
        ),
        "sex": charts.bars("c-sex", "Detenciones por sexo", items("by_sex")),
        "age": charts.bars("c-age", "Detenciones por edad", items("by_age_band")),
        "outcome": charts.bars("c-outcome", "Situación actual", items("by_outcome")),
        "heat": charts.heat_map(
            "c-heat",
            "Detenciones por día y hora (hora local)",
            volume["weekday_hour"]["weekdays"],
            volume["weekday_hour"]["counts"],
        ),
        "completeness": charts.bars(
            "c-complete", "Registros con cada dato (%)", completeness, unit=" %"
        ),
    }


@login_required
def quality_page(request: HttpRequest) -> HttpResponse:
    """/reportes/calidad/: warning rules broken in a month, by code and institution, with a
    trend; each count links to its folios."""
    user: User = request.user  # type: ignore[assignment]
    month_text = request.GET.get("mes", "") or _previous_month()
    state_text = request.GET.get("entidad", "")
    context: dict[str, object] = {
        "fields": {"mes": month_text, "entidad": state_text},
        "states": State.objects.order_by("name"),
        "national_reader": user.role in {Role.NATIONAL_ANALYST, Role.AUDITOR},
        "errors": {},
    }
    try:
        scope = _report_scope(user, state_text)
        year, month = queries.parse_month(month_text, "mes")
    except access.AccessDenied as denied:
        return render(request, "core/forbidden.html", {"message": denied.message}, status=403)
    except InvalidFields as invalid:
        context.update(errors=invalid.by_field(), error_list=invalid.errors)
        return render(request, "reports/calidad.html", context, status=400)
    context.update(
        result=quality.violations(year, month, scope),
        scope=scope or "",
        scope_name=State.objects.get(code=scope).name if scope else "Nacional",
        month_label=_month_label(year, month),
    )
    return render(request, "reports/calidad.html", context)


@login_required
def quality_folios(request: HttpRequest) -> HttpResponse:
    """The folios behind one count of the data-quality page. Reading them is access-logged."""
    user: User = request.user  # type: ignore[assignment]
    code = request.GET.get("regla", "")
    institution = request.GET.get("institucion", "")
    try:
        scope = _report_scope(user, request.GET.get("entidad", ""))
        year, month = queries.parse_month(request.GET.get("mes", ""), "mes")
        if code not in rules.RULES:
            raise InvalidFields([("regla", "Regla: no existe ese código.")])
    except access.AccessDenied as denied:
        return render(request, "core/forbidden.html", {"message": denied.message}, status=403)
    except InvalidFields as invalid:
        return render(request, "core/forbidden.html", {"message": invalid.errors[0][1]}, status=400)
    found = quality.folios(year, month, scope, code, institution)
    log_access(
        user=user,
        channel=Channel.WEB,
        action="reports.quality_folios",
        folios=found or [""],
        purpose=f"Calidad de datos {code} {year:04d}-{month:02d}",
        ip=client_ip(request),
    )
    context = {
        "rule": rules.RULES[code],
        "institution": institution,
        "folios": found,
        "month_label": _month_label(year, month),
    }
    return render(request, "reports/calidad_folios.html", context)
