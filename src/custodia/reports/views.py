"""Pages of the reports app."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from custodia.core import access
from custodia.core.accesslog import client_ip, log_access
from custodia.core.errors import InvalidFields
from custodia.core.models import Channel, State, User
from custodia.registry import rules

from . import formats, monthly, quality, queries, services

STATUS_LABELS = {
    "captured": "Con capturas",
    "zero": "Reporte en cero",
    "silent": "Sin información",
    "contradiction": "Cero con capturas",
    "not_expected": "No operaba",
}


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "core/forbidden.html", {"message": message}, status=403)


@login_required
@require_http_methods(["GET", "POST"])
def zero_reports(request: HttpRequest) -> HttpResponse:
    """/reportes/cero/: an institution says "no detentions today", and sees its month."""
    user: User = request.user  # type: ignore[assignment]
    if not access.can_register_detention(user):
        return _forbidden(request, services.NOT_A_FILER)
    institution = user.institution
    assert institution is not None  # can_register_detention
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
    summary = queries.constancy(institution, year, month).as_dict()
    before, after = monthly.previous_month(year, month), monthly.next_month(year, month)
    context.update(
        institution=institution,
        month_label=queries.month_label(year, month),
        summary=summary,
        days=[{**d, "label": STATUS_LABELS[d["status"]]} for d in summary["days"]],
        filed=request.GET.get("presentado", ""),
        previous_month=f"{before[0]:04d}-{before[1]:02d}",
        next_month=f"{after[0]:04d}-{after[1]:02d}" if after <= (today.year, today.month) else "",
    )
    return render(request, "reports/cero.html", context, status=status)


def _last_month() -> str:
    year, month = monthly.previous_month(*timezone.localdate().timetuple()[:2])
    return f"{year:04d}-{month:02d}"


def _scoped_page(
    request: HttpRequest,
    template: str,
    build: Callable[[int, int, str | None], dict[str, object]],
) -> HttpResponse:
    """A report page for a month and a state: the form's fields, the reader's scope checked
    (403 out of jurisdiction), Spanish errors by field (400), then ``build``'s context."""
    user: User = request.user  # type: ignore[assignment]
    fields = {
        "mes": request.GET.get("mes", "") or _last_month(),
        "entidad": request.GET.get("entidad", ""),
    }
    context: dict[str, object] = {
        "fields": fields,
        "states": State.objects.order_by("name"),
        "national_reader": access.can_read_reports(user) and access.whole_state_of(user) is None,
        "errors": {},
    }
    try:
        scope = queries.report_scope(user, fields["entidad"])
        year, month = queries.parse_month(fields["mes"], "mes")
    except access.AccessDenied as denied:
        return _forbidden(request, denied.message)
    except InvalidFields as invalid:
        context.update(errors=invalid.by_field(), error_list=invalid.errors)
        return render(request, template, context, status=400)
    context.update(
        build(year, month, scope),
        month_label=queries.month_label(year, month),
        scope=scope or "",
        scope_name=State.objects.get(code=scope).name if scope else "Nacional",
    )
    return render(request, template, context)


@login_required
def monthly_page(request: HttpRequest) -> HttpResponse:
    """/reportes/: the monthly report for analysts and auditors, with SVG charts."""

    def build(year: int, month: int, scope: str | None) -> dict[str, object]:
        return formats.page_context(monthly.monthly(year, month, scope))

    return _scoped_page(request, "reports/mensual.html", build)


@login_required
def quality_page(request: HttpRequest) -> HttpResponse:
    """/reportes/calidad/: warning rules broken in a month, by code and institution, with a
    trend; each count links to its folios."""
    return _scoped_page(
        request,
        "reports/calidad.html",
        lambda year, month, scope: {"result": quality.violations(year, month, scope)},
    )


@login_required
def monthly_download(request: HttpRequest) -> HttpResponse:
    """The same report as a file (PDF, XLSX, CSV or JSON), for the page's download links."""
    user: User = request.user  # type: ignore[assignment]
    fmt = request.GET.get("formato", "csv")
    try:
        scope = queries.report_scope(user, request.GET.get("entidad", ""))
        year, month = queries.parse_month(request.GET.get("mes", ""), "mes")
        if fmt not in formats.FORMATS:
            raise formats.bad_format("formato")
    except access.AccessDenied as denied:
        return _forbidden(request, denied.message)
    except InvalidFields as invalid:
        return _bad_request(request, invalid)
    return formats.download(monthly.monthly(year, month, scope), fmt)


def _bad_request(request: HttpRequest, invalid: InvalidFields) -> HttpResponse:
    """A link followed with bad parameters: the reasons in Spanish, and a way back."""
    context = {"messages_400": [m for _, m in invalid.errors]}
    return render(request, "reports/bad_request.html", context, status=400)


@login_required
def quality_folios(request: HttpRequest) -> HttpResponse:
    """The folios behind one count of the data-quality page. Reading them is access-logged."""
    user: User = request.user  # type: ignore[assignment]
    code = request.GET.get("regla", "")
    institution = request.GET.get("institucion", "")
    try:
        scope = queries.report_scope(user, request.GET.get("entidad", ""))
        year, month = queries.parse_month(request.GET.get("mes", ""), "mes")
        if code not in rules.RULES:
            raise InvalidFields([("regla", "Regla: no existe ese código.")])
    except access.AccessDenied as denied:
        return _forbidden(request, denied.message)
    except InvalidFields as invalid:
        return _bad_request(request, invalid)
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
        "month_label": queries.month_label(year, month),
        "month": f"{year:04d}-{month:02d}",
        "scope": scope or "",
    }
    return render(request, "reports/calidad_folios.html", context)
