"""The registry's pages. Thin: parse the request, call a service or a query, render."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from custodia.core import access
from custodia.core.accesslog import client_ip, log_access
from custodia.core.models import (
    RECEIVING_KINDS,
    Channel,
    Institution,
    Municipality,
    Role,
    State,
    User,
)

from . import custody, event_form, queries, rules
from .alerts import breaches_of, visible_alerts
from .capture_form import OFFICER_ROWS, form_field, payload_from_post
from .folio import InvalidFolio, normalize
from .models import Detention, EventKind, Status
from .schemas import ARREST_BASIS_LABELS, RECEIVING_KIND_LABELS, SEX_LABELS
from .services import (
    EventRejected,
    RegistrationRejected,
    VersionConflict,
    detention_register,
    event_record,
)


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


def _detail_context(request: HttpRequest, detention: Any, user: User) -> dict[str, Any]:
    record = queries.detention_as_dict(detention)
    may_record = any(
        access.may_record_event(user, detention, kind, None) for kind in ("note", "transferred")
    ) or access.may_record_event(
        user, detention, "handed_over", user.institution.code if user.institution else None
    )
    # Corrections are for events the user's own institution recorded: compare codes, no query.
    own_code = user.institution.code if user.institution else None
    may_correct_own = user.institution is not None and access.may_correct(user, user.institution.pk)
    correctable = [
        e
        for e in record["events"]
        if e["kind"] not in {"corrected", "registered"}
        and may_correct_own
        and e["institution"] == own_code
    ]
    return {
        "d": detention,
        "record": record,
        "events": record["events"],
        "open_clocks": record["open_clocks"],
        "may_record": may_record,
        "correctable": correctable,
        "kinds": event_form.KIND_CHOICES,
        "authority_kinds": event_form.AUTHORITY_CHOICES,
        "legal_statuses": event_form.LEGAL_STATUS_CHOICES,
        "correctable_fields": event_form.CORRECTABLE_CHOICES,
        "institutions": Institution.objects.filter(active=True)
        .exclude(kind__in=["secretariat", "human_rights"])
        .order_by("name"),
        "states": State.objects.all(),
        "local_zone": detention.place_timezone,
        "now_local": timezone.now()
        .astimezone(ZoneInfo(detention.place_timezone))
        .strftime("%Y-%m-%dT%H:%M"),
        "values": {},
        "errors": {},
    }


@login_required
def detention_detail(request: HttpRequest, folio: str) -> HttpResponse:
    user = _user(request)
    if not access.can_read_detentions(user):
        return _forbidden(request, "Su rol no permite consultar detenciones.")
    try:
        detention = queries.get_detention(
            user,
            folio,
            channel=Channel.WEB,
            ip=client_ip(request),
            purpose=request.GET.get("proposito", "").strip()[:300],
        )
    except queries.DetentionNotFound as error:
        return render(request, "core/not_found.html", {"message": error.message}, status=404)
    except access.AccessDenied as error:
        return _forbidden(request, error.message)
    return render(request, "registry/detail.html", _detail_context(request, detention, user))


@login_required
@require_http_methods(["POST"])
def record_event(request: HttpRequest, folio: str) -> HttpResponse:
    """The event and correction forms of a detention's page."""
    user = _user(request)
    try:
        canonical = normalize(folio)
    except InvalidFolio as error:
        return render(request, "core/not_found.html", {"message": str(error)}, status=404)
    detention = Detention.objects.filter(folio=canonical).first()
    if detention is None:
        return render(request, "core/not_found.html", {"message": "No existe."}, status=404)
    correction = request.POST.get("form") == "correction"
    zone = detention.place_timezone
    payload = (
        event_form.correction_payload(request.POST, zone)
        if correction
        else event_form.event_payload(request.POST, zone)
    )
    problem: str | None = None
    findings: list[rules.Finding] = []
    try:
        recorded = event_record(
            actor=user, folio=canonical, data=payload, channel=Channel.WEB, ip=client_ip(request)
        )
    except access.AccessDenied as error:
        return _forbidden(request, error.message)
    except VersionConflict as error:
        problem = error.message
    except EventRejected as rejected:
        findings = rejected.findings
    else:
        label = EventKind(recorded.event.kind).label
        messages.success(request, f"Movimiento registrado: {label}.")
        if queries.can_read(user, recorded.detention):
            return redirect("registry:detail", folio=canonical)
        return redirect("registry:inbox")
    try:
        detention = queries.get_detention(
            user, canonical, channel=Channel.WEB, ip=client_ip(request)
        )
    except access.AccessDenied:
        # Intake by folio of a record the user cannot read yet: show only the errors.
        return render(
            request,
            "registry/intake.html",
            {"folio": canonical, "problem": problem, "findings": findings},
            status=422,
        )
    context = _detail_context(request, detention, user)
    prefix = "c-" if correction else ""
    context["values"] = {prefix + k: request.POST.get(k, "") for k in request.POST}
    errors: dict[str, list[str]] = defaultdict(list)
    for finding in findings:
        errors[prefix + finding.field].append(f"{finding.message} ({finding.code})")
    context["errors"] = dict(errors)
    context["form_problem"] = problem
    context["open_form"] = "correction" if correction else "event"
    return render(request, "registry/detail.html", context, status=409 if problem else 422)


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """Detentions an institution holds now or is named to receive: what it must act on."""
    user = _user(request)
    if user.institution is None or user.role not in {Role.RECEIVING, Role.SUPERVISOR, Role.CAPTURE}:
        return _forbidden(request, "La bandeja es para las instituciones que reciben personas.")
    institution = user.institution
    held = (
        queries.visible_detentions(user)
        .filter(status__in=sorted(custody.HELD))
        .filter(Q(current_institution=institution) | Q(receiving_institution=institution))
        .select_related("current_institution")
    )[:200]
    now = timezone.now()
    rows = [(d, breaches_of(d, now)) for d in held]
    rows.sort(key=lambda row: (-len(row[1]), row[0].last_event_at))
    with transaction.atomic():
        log_access(
            user=user,
            channel=Channel.WEB,
            action="detention.list",
            folios=[d.folio for d, _ in rows] or [""],
            ip=client_ip(request),
        )
    return render(request, "registry/inbox.html", {"rows": rows, "institution": institution})


_INTAKE_AUTHORITY = {
    "public_prosecutor": "public_prosecutor",
    "civic_judge": "civic_judge",
    "prison": "prison",
    "adolescent_justice": "adolescent_justice",
    "migration": "migration",
}


def _intake_context(user: User, folio: str) -> dict[str, Any]:
    kind = user.institution.kind if user.institution else ""
    return {
        "folio": folio,
        "authority_kind": _INTAKE_AUTHORITY.get(kind, "other"),
        "legal_statuses": event_form.LEGAL_STATUS_CHOICES,
        "now_local": timezone.now()
        .astimezone(
            ZoneInfo(
                user.institution.state.timezone
                if user.institution and user.institution.state
                else "America/Mexico_City"
            )
        )
        .strftime("%Y-%m-%dT%H:%M"),
    }


@login_required
def intake(request: HttpRequest) -> HttpResponse:
    """A receiving authority takes a person in by folio (the folio links every record)."""
    user = _user(request)
    if user.role != Role.RECEIVING or user.institution is None:
        return _forbidden(request, "Sólo las autoridades receptoras registran ingresos por folio.")
    try:
        folio = normalize(request.GET.get("folio", ""))
    except InvalidFolio as error:
        messages.error(request, str(error))
        return redirect("registry:inbox")
    if not Detention.objects.filter(folio=folio).exists():
        messages.error(request, f"No existe una detención con el folio {folio}.")
        return redirect("registry:inbox")
    if queries.can_read(user, Detention.objects.get(folio=folio)):
        return redirect(reverse("registry:detail", args=[folio]) + "#movimiento")
    return render(request, "registry/intake.html", _intake_context(user, folio))


@login_required
def alerts_page(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not access.can_see_alerts(user):
        return _forbidden(request, "Su rol no consulta alertas de plazos.")
    state = request.GET.get("state", "").strip()
    severity = request.GET.get("severity", "").strip()
    if not re.fullmatch(r"\d{2}", state):
        state = ""
    if severity not in {"warning", "critical"}:
        severity = ""
    now = timezone.now()
    found = visible_alerts(user, now, state=state or None, severity=severity or None)
    return render(
        request,
        "registry/alerts.html",
        {
            "alerts": [a.as_dict(now) for a in found],
            "states": State.objects.all(),
            "params": request.GET,
            "now": now,
        },
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
