"""Endpoints of the reports app (API.md, "Reports")."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from ninja import Router, Schema
from ninja import Status as Reply

from custodia.core import access
from custodia.core.access import AccessDenied
from custodia.core.accesslog import client_ip
from custodia.core.api_auth import TokenAuth
from custodia.core.errors import InvalidFields
from custodia.core.models import Channel, Institution, User

from . import formats, monthly, queries, services

router = Router(tags=["Informes"])
auth = TokenAuth()


class ZeroReportIn(Schema):
    day: str
    note: str = ""


def zero_report_as_dict(report: Any) -> dict[str, Any]:
    return {
        "institution": report.institution.code,
        "day": report.day.isoformat(),
        "note": report.note,
        "filed_by": report.filed_by.username,
        "filed_at": report.filed_at.isoformat().replace("+00:00", "Z"),
    }


@router.post(
    "/reports/zero",
    auth=auth,
    response={201: dict[str, Any]},
    summary="Reporte en cero: la institución no detuvo a nadie ese día",
    description=(
        "Captura y supervisión de una policía, para su propia institución. day: su fecha local "
        "(AAAA-MM-DD), hoy o antes, dentro de sus fechas de operación, sin detenciones "
        "registradas ese día ni un reporte en cero previo. Queda para siempre (sólo anexión)."
    ),
)
def file_zero_report(request: HttpRequest, payload: ZeroReportIn) -> Reply[Any]:
    user: User = request.auth  # type: ignore[attr-defined]
    report = services.file_zero_report(
        actor=user, day=payload.day, note=payload.note, channel=Channel.API, ip=client_ip(request)
    )
    return Reply(201, zero_report_as_dict(report))


@router.get(
    "/reports/constancy",
    auth=auth,
    summary="Constancia de una institución en un mes: días con capturas, en cero y en silencio",
)
def constancy(request: HttpRequest, month: str = "", institution: str = "") -> Any:
    user: User = request.auth  # type: ignore[attr-defined]
    year, number = queries.parse_month(month)
    target = user.institution
    if institution:
        target = Institution.objects.filter(code=institution).first()
        if target is None:
            raise InvalidFields([("institution", "Institución: no existe esa clave.")])
    if target is None or not access.may_read_constancy(user, target):
        raise AccessDenied("Su rol o su jurisdicción no le permiten ver esta institución.")
    return queries.constancy(target, year, number).as_dict()


@router.get(
    "/reports/monthly",
    auth=auth,
    summary="Informe mensual de detenciones de una entidad o nacional",
    description=(
        "month=AAAA-MM (meses en la hora local de cada detención); state=clave INEGI (un "
        "analista estatal sólo la suya; sin state, el informe nacional). "
        "format=json, csv, xlsx, pdf o html. Secciones (docs/reports.md): volumen, oportunidad, "
        "completitud, constancia, plazos legales, correcciones, índice de calidad con el lugar "
        "nacional, y tendencias."
    ),
)
def monthly_report(
    request: HttpRequest, month: str = "", state: str = "", format: str = "json"
) -> Any:
    user: User = request.auth  # type: ignore[attr-defined]
    scope = queries.report_scope(user, state)
    year, number = queries.parse_month(month)
    if format not in (*formats.FORMATS, "html"):
        raise formats.bad_format("format")
    report = monthly.monthly(year, number, scope)
    if format == "json":
        return report
    if format == "html":  # the page's own rendering, without the form
        context = formats.page_context(report) | {"month_label": queries.month_label(year, number)}
        page = render_to_string("reports/mensual.html", context, request=request)
        return HttpResponse(page, content_type="text/html; charset=utf-8")
    return formats.download(report, format)
