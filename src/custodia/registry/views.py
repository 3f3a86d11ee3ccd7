"""The registry's pages. Thin: parse the request, call a service or a query, render."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from custodia.core import access
from custodia.core.accesslog import client_ip
from custodia.core.models import RECEIVING_KINDS, Channel, Institution, Municipality, State, User

from . import queries, rules
from .capture_form import OFFICER_ROWS, form_field, payload_from_post
from .folio import InvalidFolio, normalize
from .models import Status
from .schemas import ARREST_BASIS_LABELS, RECEIVING_KIND_LABELS, SEX_LABELS
from .services import RegistrationRejected, detention_register


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "core/forbidden.html", {"message": message}, status=403)


def _capture_choices() -> dict[str, Any]:
    municipalities: dict[str, list[Municipality]] = defaultdict(list)
    for m in Municipality.objects.select_related("state").order_by("state_id", "name"):
        municipalities[m.state_id].append(m)
    states = list(State.objects.all())
    return {
        "states": states,
        "municipality_groups": [(s, municipalities.get(s.code, [])) for s in states],
        "sexes": SEX_LABELS.items(),
        "arrest_bases": ARREST_BASIS_LABELS.items(),
        "receiving_kinds": RECEIVING_KIND_LABELS.items(),
        "receiving_institutions": Institution.objects.filter(
            kind__in=RECEIVING_KINDS, active=True
        ).select_related("state"),
        "officer_rows": range(OFFICER_ROWS),
    }


@login_required
@require_http_methods(["GET", "POST"])
def capture(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not access.can_register_detention(user):
        return _forbidden(
            request,
            "Sólo el personal de captura o supervisión de una policía registra detenciones.",
        )
    institution = user.institution
    assert institution is not None
    errors: dict[str, list[str]] = defaultdict(list)
    warnings: list[rules.Finding] = []
    values: dict[str, str] = {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in request.POST if k != "csrfmiddlewaretoken"}
        try:
            registration = detention_register(
                actor=user,
                data=payload_from_post(request.POST),
                channel=Channel.WEB,
                ip=client_ip(request),
            )
        except RegistrationRejected as rejected:
            for finding in rejected.findings:
                errors[form_field(finding.field)].append(f"{finding.message} ({finding.code})")
            warnings = rejected.warnings
        else:
            folio = registration.detention.folio
            note = " Revise las advertencias de calidad." if registration.warnings else ""
            messages.success(request, f"Detención registrada con el folio {folio}.{note}")
            return redirect("registry:detail", folio=folio)
    else:
        zone = ZoneInfo(institution.state.timezone if institution.state else "America/Mexico_City")
        values = {
            "place.state": institution.state_id or "",
            "detained_at": timezone.now().astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
            "person.nationality": "Mexicana",
        }
    context = {
        **_capture_choices(),
        "values": values,
        "errors": dict(errors),
        "error_count": sum(len(v) for v in errors.values()),
        "warnings": warnings,
        "institution": institution,
    }
    return render(request, "registry/capture.html", context, status=422 if errors else 200)


@login_required
def detention_detail(request: HttpRequest, folio: str) -> HttpResponse:
    user = _user(request)
    if not access.can_read_detentions(user):
        return _forbidden(request, "Su rol no permite consultar detenciones.")
    try:
        detention = queries.get_detention(user, folio, channel=Channel.WEB, ip=client_ip(request))
    except queries.DetentionNotFound as error:
        return render(request, "core/not_found.html", {"message": error.message}, status=404)
    except access.AccessDenied as error:
        return _forbidden(request, error.message)
    record = queries.detention_as_dict(detention)
    return render(
        request,
        "registry/detail.html",
        {"d": detention, "record": record, "events": record["events"]},
    )


def _parse_day(text: str, zone: ZoneInfo, *, end: bool = False) -> datetime | None:
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        return None
    if not 1900 <= day.year <= 2999:
        return None
    moment = datetime.combine(day, time.min, tzinfo=zone)
    return moment + (timedelta(days=1) if end else timedelta())


@login_required
def detention_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not access.can_read_detentions(user):
        return _forbidden(request, "Su rol no permite consultar detenciones.")
    params = request.GET
    problems: list[str] = []
    zone = ZoneInfo("America/Mexico_City")
    if user.institution and user.institution.state:
        zone = ZoneInfo(user.institution.state.timezone)
    state = params.get("state", "").strip()
    status = params.get("status", "").strip()
    institution = params.get("institution", "").strip()
    if institution and not re.fullmatch(r"[-a-zA-Z0-9_]{1,40}", institution):
        problems.append("La institución no es válida.")
        institution = ""
    if state and not (re.fullmatch(r"\d{2}", state) and State.objects.filter(code=state).exists()):
        problems.append("La entidad no existe.")
        state = ""
    if status and status not in Status.values:
        problems.append("La situación no es válida.")
        status = ""
    folio_text = params.get("folio", "").strip()
    folio = None
    if folio_text:
        try:
            folio = normalize(folio_text)
        except InvalidFolio as error:
            problems.append(str(error))
    start = _parse_day(params.get("from", ""), zone) if params.get("from") else None
    end = _parse_day(params.get("to", ""), zone, end=True) if params.get("to") else None
    if (params.get("from") and start is None) or (params.get("to") and end is None):
        problems.append("Las fechas deben tener la forma AAAA-MM-DD.")
    filters = queries.ListFilters(
        state=state or None,
        institution=institution or None,
        status=status or None,
        detained_from=start,
        detained_to=end,
        folio=folio,
    )
    cursor = params.get("cursor") or None
    try:
        page = queries.list_detentions(
            user, filters, channel=Channel.WEB, cursor=cursor, ip=client_ip(request)
        )
    except ValueError:
        problems.append("El enlace de paginación no es válido; se muestra la primera página.")
        page = queries.list_detentions(user, filters, channel=Channel.WEB, ip=client_ip(request))
    next_url = None
    if page.next_cursor:
        query = params.copy()
        query["cursor"] = page.next_cursor
        next_url = reverse("registry:list") + "?" + query.urlencode()
    visible_institutions = Institution.objects.filter(
        pk__in=queries.visible_detentions(user).values("institution")
    ).order_by("name")
    return render(
        request,
        "registry/list.html",
        {
            "page": page,
            "problems": problems,
            "params": params,
            "states": State.objects.all(),
            "statuses": Status.choices,
            "institutions": visible_institutions,
            "next_url": next_url,
            "first_page_url": reverse("registry:list") + "?" + _without_cursor(params),
            "is_paged": bool(cursor),
        },
    )


def _without_cursor(params: Any) -> str:
    query = params.copy()
    query.pop("cursor", None)
    encoded: str = query.urlencode()
    return encoded


def rules_page(request: HttpRequest) -> HttpResponse:
    return render(request, "registry/rules.html", {"rules": rules.catalog()})
