"""Auditor pages: the ledger (checkpoint, verifications, per-detention proofs) and the access log.
Every use of them is itself written to the access log."""

from __future__ import annotations

import base64
import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from custodia.core.accesslog import client_ip, log_access
from custodia.core.models import Channel, Role, User
from custodia.registry.folio import InvalidFolio, normalize
from custodia.registry.models import Detention

from . import audit, services, signing
from .models import Checkpoint, VerificationRun

AUDITORS = {Role.AUDITOR, Role.NATIONAL_ANALYST}
PAGE = 100


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(
        request, "core/forbidden.html", {"message": "Esta página es para auditoría."}, status=403
    )


@login_required
def ledger_page(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.role not in AUDITORS:
        return _forbidden(request)
    checkpoint = Checkpoint.objects.order_by("-id").first()
    signature_ok = None
    if checkpoint is not None:
        try:
            public = signing.raw_public(signing.load_private().public_key())
            signature_ok = signing.verify(
                checkpoint.text, base64.b64decode(checkpoint.signature), public
            )
        except signing.KeyMissing:
            signature_ok = False
    context: dict[str, object] = {
        "checkpoint": checkpoint,
        "signature_ok": signature_ok,
        "size": services.tree_size(),
        "runs": VerificationRun.objects.order_by("-id")[:5],
    }
    folio_text = request.GET.get("folio", "").strip()
    if folio_text:
        try:
            folio = normalize(folio_text)
        except InvalidFolio as error:
            context["problem"] = str(error)
        else:
            detention = Detention.objects.select_related("person").filter(folio=folio).first()
            if detention is None:
                context["problem"] = f"No existe una detención con el folio {folio}."
            else:
                with transaction.atomic():
                    log_access(
                        user=user,
                        channel=Channel.WEB,
                        action="ledger.inspect",
                        folios=[folio],
                        ip=client_ip(request),
                        purpose="verificación de inclusión",
                    )
                checks = services.check_detention(detention, checkpoint)
                context.update(
                    folio=folio,
                    checks=checks,
                    all_ok=all(c.ok for c in checks),
                    redactions=detention.redactions.all(),
                )
    return render(request, "ledger/ledger.html", context)


def _day(text: str, zone: ZoneInfo, *, end: bool = False) -> datetime | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        return None
    if not 2000 <= day.year <= 2999:
        return None
    return datetime.combine(day, time.min, tzinfo=zone) + (
        timedelta(days=1) if end else timedelta()
    )


@login_required
def access_log_page(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.role != Role.AUDITOR:
        return _forbidden(request)
    zone = ZoneInfo("America/Mexico_City")
    params = request.GET
    problems = []
    text = {
        k: params.get(k, "").strip()[:150]
        for k in ("username", "folio", "institution", "channel", "action", "from", "to", "before")
    }
    for key in ("username", "institution", "action"):
        if "\x00" in text[key]:
            text[key] = ""
    folio = ""
    if text["folio"]:
        try:
            folio = normalize(text["folio"])
        except InvalidFolio as error:
            problems.append(str(error))
    start = _day(text["from"], zone) if text["from"] else None
    end = _day(text["to"], zone, end=True) if text["to"] else None
    if (text["from"] and start is None) or (text["to"] and end is None):
        problems.append("Las fechas deben tener la forma AAAA-MM-DD.")
    filters = audit.Filters(
        username=text["username"],
        folio=folio,
        institution=text["institution"],
        channel=text["channel"] if text["channel"] in Channel.values else "",
        action=text["action"],
        start=start,
        end=end,
    )
    qs = audit.filtered(filters)
    if text["before"].isdigit() and len(text["before"]) < 19:
        qs = qs.filter(id__lt=int(text["before"]))
    entries = list(qs[: PAGE + 1])
    more = len(entries) > PAGE
    entries = entries[:PAGE]
    period_end = end or timezone.now()
    period_start = start or period_end - timedelta(days=30)
    with transaction.atomic():
        # The auditor's own query is part of the record.
        log_access(
            user=user,
            channel=Channel.WEB,
            action="accesslog.query",
            ip=client_ip(request),
            purpose=filters.describe(),
        )
    next_query = None
    if more and entries:
        query = params.copy()
        query["before"] = str(entries[-1].pk)
        next_query = query.urlencode()
    return render(
        request,
        "ledger/access_log.html",
        {
            "entries": entries,
            "params": params,
            "problems": problems,
            "next_query": next_query,
            "anomalies": audit.anomalies(period_start, period_end),
            "period_start": period_start,
            "period_end": period_end,
            "channels": Channel.choices,
        },
    )
