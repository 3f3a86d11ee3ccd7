"""Writes of the reports app, each in one transaction (DESIGN.md §6)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone

from custodia.core import access
from custodia.core.accesslog import log_access
from custodia.core.errors import InvalidFields
from custodia.core.models import Channel, User
from custodia.registry.models import Detention

from .models import ZeroReport

# Who files a zero report is who registers detentions: the statement is its negative.
NOT_A_FILER = (
    "Sólo el personal de captura o de supervisión de una policía activa presenta reportes en cero."
)
NOTE_LIMIT = 300


def local_day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """The instants a local day starts (inclusive) and ends (exclusive) in ``zone``."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def parse_day(value: Any, field: str = "day") -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise InvalidFields([(field, "Día: use una fecha AAAA-MM-DD.")]) from None


def file_zero_report(
    *, actor: User, day: Any, note: str = "", channel: Channel | str, ip: str | None = None
) -> ZeroReport:
    """The actor's institution states it detained nobody on ``day`` (its local date). Refused,
    with every reason in Spanish, for a future day, a day outside the institution's operating
    dates, a day it already reported or on which it registered detentions."""
    if not access.can_register_detention(actor):
        raise access.AccessDenied(NOT_A_FILER)
    institution = actor.institution
    assert institution is not None  # can_register_detention
    day = parse_day(day)
    note = (note or "").strip()
    errors: list[tuple[str, str]] = []
    today = timezone.now().astimezone(ZoneInfo(institution.timezone)).date()
    if day > today:
        errors.append(("day", "Día: no puede ser posterior a hoy."))
    elif not institution.operated_on(day):
        errors.append(("day", "Día: la institución no operaba ese día según su registro."))
    if len(note) > NOTE_LIMIT:
        errors.append(("note", f"Observación: escriba como máximo {NOTE_LIMIT} caracteres."))
    start, end = local_day_bounds(day, institution.timezone)
    captured = Detention.objects.filter(
        institution=institution, detained_at__gte=start, detained_at__lt=end
    ).count()
    if captured:
        errors.append(
            (
                "day",
                f"Día: la institución ya registró {captured} detención(es) ese día; "
                "el reporte en cero no procede.",
            )
        )
    earlier = ZeroReport.objects.filter(institution=institution, day=day).first()
    if earlier:
        errors.append(
            (
                "day",
                "Día: ya hay un reporte en cero de ese día, presentado el "
                f"{earlier.filed_at.astimezone(ZoneInfo(institution.timezone)):%Y-%m-%d %H:%M}.",
            )
        )
    if errors:
        raise InvalidFields(errors)
    try:
        with transaction.atomic():
            report = ZeroReport.objects.create(
                institution=institution, day=day, note=note, filed_by=actor, channel=channel
            )
            log_access(user=actor, channel=channel, action="reports.zero_report", ip=ip)
    except IntegrityError:  # filed at the same moment by a colleague
        raise InvalidFields([("day", "Día: ya hay un reporte en cero de ese día.")]) from None
    return report
