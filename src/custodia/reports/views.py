"""Pages of the reports app."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from custodia.core import access
from custodia.core.accesslog import client_ip
from custodia.core.errors import InvalidFields
from custodia.core.models import Channel, User

from . import queries, services

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
