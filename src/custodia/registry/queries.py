"""Reads of the registry. Every read that returns personal data writes the access log."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet

from custodia.core import access
from custodia.core.accesslog import log_access
from custodia.core.models import Channel, User

from .custody import LEGAL_STATUSES
from .folio import InvalidFolio, normalize
from .models import CustodyEvent, DetainedPerson, Detention, EventKind, Officer, Status
from .rules import RULES
from .schemas import ARREST_BASIS_LABELS, RECEIVING_KIND_LABELS, SEX_LABELS

if TYPE_CHECKING:
    from .services import Registration

UTC = ZoneInfo("UTC")
PAGE_SIZE = 50


class DetentionNotFound(Exception):
    def __init__(self, message: str = "No existe una detención con ese folio."):
        super().__init__(message)
        self.message = message


def visible_detentions(user: User) -> QuerySet[Detention]:
    return (
        Detention.objects.filter(access.detention_scope(user))
        .select_related("person", "institution", "state", "municipality")
        .order_by("-detained_at", "-id")
    )


def get_detention(
    user: User, folio_text: str, *, channel: Channel | str, ip: str | None = None, purpose: str = ""
) -> Detention:
    """The detention, with its events and officers, after checking the user may see it.
    The read is written to the access log."""
    try:
        folio = normalize(folio_text)
    except InvalidFolio as error:
        raise DetentionNotFound(str(error)) from error
    detention = (
        Detention.objects.select_related(
            "person",
            "institution",
            "state",
            "municipality",
            "receiving_institution",
            "current_institution",
        )
        .prefetch_related(
            "officers",
            Prefetch("events", queryset=CustodyEvent.objects.select_related("institution", "leaf")),
        )
        .filter(folio=folio)
        .first()
    )
    if detention is None:
        raise DetentionNotFound()
    if not visible_detentions(user).filter(pk=detention.pk).exists():
        raise access.AccessDenied("Esta detención está fuera de su jurisdicción.")
    with transaction.atomic():
        log_access(
            user=user,
            channel=channel,
            action="detention.read",
            folios=[folio],
            ip=ip,
            purpose=purpose,
        )
    return detention


@dataclass(frozen=True)
class ListFilters:
    state: str | None = None
    institution: str | None = None
    status: str | None = None
    detained_from: datetime | None = None
    detained_to: datetime | None = None
    folio: str | None = None


@dataclass(frozen=True)
class Page:
    items: list[Detention]
    next_cursor: str | None


def encode_cursor(detention: Detention) -> str:
    raw = json.dumps([detention.detained_at.isoformat(), detention.pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Raises ValueError on anything that is not a cursor this server made."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        moment_text, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        moment, number = datetime.fromisoformat(moment_text), int(pk)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, OverflowError) as error:
        raise ValueError("cursor inválido") from error
    # Only cursors this server could have made: an aware instant of a plausible year.
    if moment.tzinfo is None or not 1900 <= moment.year <= 2999 or not 0 < number < 2**63:
        raise ValueError("cursor inválido")
    return moment, number


def list_detentions(
    user: User,
    filters: ListFilters,
    *,
    channel: Channel | str,
    cursor: str | None = None,
    ip: str | None = None,
    page_size: int = PAGE_SIZE,
) -> Page:
    """One page of the detentions the user may see, newest first (keyset pagination)."""
    qs = visible_detentions(user)
    if filters.state:
        qs = qs.filter(state_id=filters.state)
    if filters.institution:
        qs = qs.filter(institution__code=filters.institution)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.detained_from:
        qs = qs.filter(detained_at__gte=filters.detained_from)
    if filters.detained_to:
        qs = qs.filter(detained_at__lt=filters.detained_to)
    if filters.folio:
        qs = qs.filter(folio=filters.folio)
    if cursor:
        moment, pk = decode_cursor(cursor)
        qs = qs.filter(Q(detained_at__lt=moment) | Q(detained_at=moment, id__lt=pk))
    items = list(qs[: page_size + 1])
    more = len(items) > page_size
    items = items[:page_size]
    if items:
        with transaction.atomic():
            log_access(
                user=user,
                channel=channel,
                action="detention.list",
                folios=[d.folio for d in items],
                ip=ip,
            )
    return Page(items, encode_cursor(items[-1]) if more else None)


def utc_text(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local_text(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).isoformat()


def local_display(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def _leaf_index(event: CustodyEvent) -> int | None:
    from custodia.ledger.models import LedgerLeaf

    try:
        return int(event.leaf.index)
    except LedgerLeaf.DoesNotExist:
        return None


def event_as_dict(event: CustodyEvent, leaf_index: int | None = None) -> dict[str, Any]:
    """An event as the API shows it. ``leaf_index``: its ledger leaf, when already known (an
    event just written), instead of reading it."""
    data = event.data or {}
    return {
        "id": event.pk,
        "sequence": event.sequence,
        "kind": event.kind,
        "kind_label": EventKind(event.kind).label,
        "occurred_at": utc_text(event.occurred_at),
        "occurred_at_local": local_text(event.occurred_at, event.local_zone),
        "occurred_at_display": local_display(event.occurred_at, event.local_zone),
        "recorded_at_display": local_display(event.recorded_at, event.local_zone),
        "local_zone": event.local_zone,
        "recorded_at": utc_text(event.recorded_at),
        "institution": event.institution.code,
        "authority": data.get("authority") or data.get("receiving_authority"),
        "place": data.get("place"),
        "legal_status": data.get("legal_status"),
        "legal_status_label": LEGAL_STATUSES.get(data.get("legal_status") or "", ""),
        "details": data.get("details", ""),
        "corrects": data.get("corrects"),
        "data": data,
        "ledger_leaf_index": _leaf_index(event) if leaf_index is None else leaf_index,
    }


def registration_as_dict(registration: Registration) -> dict[str, Any]:
    """The record just registered, as ``detention_as_dict`` shows it once read back, from the
    rows the registration wrote (no query), with the capture's warnings."""
    body = detention_as_dict(
        registration.detention,
        person=registration.person,
        officers=registration.officers,
        events=[
            event_as_dict(e, leaf)
            for e, leaf in zip(registration.events, registration.leaf_indexes, strict=True)
        ],
    )
    body["warnings"] = [w.as_dict() for w in registration.warnings]
    return body


def detention_as_dict(
    detention: Detention,
    *,
    person: DetainedPerson | None = None,
    officers: Sequence[Officer] | None = None,
    events: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The whole record, as the API shows it. The parts given are used as they are (a
    registration's own rows); the others are read from the detention."""
    person = person or detention.person
    zone = detention.place_timezone
    return {
        "folio": detention.folio,
        "status": detention.status,
        "status_label": Status(detention.status).label,
        "version": detention.version,
        "institution": {"code": detention.institution.code, "name": detention.institution.name},
        "person": {
            "given_names": person.given_names,
            "first_surname": person.first_surname,
            "second_surname": person.second_surname or None,
            "alias": person.alias or None,
            "sex": person.sex,
            "sex_label": SEX_LABELS[person.sex],
            "age": person.age,
            "birth_date": person.birth_date.isoformat() if person.birth_date else None,
            "curp": person.curp or None,
            "nationality": person.nationality or None,
            "physical_condition": person.physical_condition or None,
            "distinguishing_marks": person.distinguishing_marks or None,
        },
        "detained_at": utc_text(detention.detained_at),
        "detained_at_local": local_text(detention.detained_at, zone),
        "detained_at_display": local_display(detention.detained_at, zone),
        "registered_at_display": local_display(detention.registered_at, zone),
        "registered_at": utc_text(detention.registered_at),
        "local_zone": zone,
        "place": {
            "state": detention.state_id,
            "state_name": detention.state.name,
            "municipality": detention.municipality_id,
            "municipality_name": detention.municipality.name if detention.municipality else None,
            "address": detention.address or None,
            "latitude": detention.latitude,
            "longitude": detention.longitude,
        },
        "arrest_basis": detention.arrest_basis,
        "arrest_basis_label": ARREST_BASIS_LABELS[detention.arrest_basis],
        "reason": detention.reason,
        "officers": [
            {"name": o.name, "rank": o.rank or None, "unit": o.unit or None, "cuip": o.cuip or None}
            for o in (detention.officers.all() if officers is None else officers)
        ],
        "receiving_authority": {
            "kind": detention.receiving_kind,
            "kind_label": RECEIVING_KIND_LABELS.get(detention.receiving_kind, ""),
            "name": detention.receiving_name,
            "institution": (
                detention.receiving_institution.code if detention.receiving_institution else None
            ),
        },
        "contact": {
            "name": detention.contact_name or None,
            "relationship": detention.contact_relationship or None,
            "phone": detention.contact_phone or None,
        },
        "force_used": detention.force_used,
        "warnings": [
            {"code": code, "field": RULES[code].field, "message": RULES[code].message}
            for code in detention.warning_codes
        ],
        "current": current_as_dict(detention),
        "open_clocks": open_clocks_as_dicts(detention),
        "events": (
            [event_as_dict(e) for e in detention.events.all()] if events is None else events
        ),
    }


def open_clocks_as_dicts(detention: Detention) -> list[dict[str, Any]]:
    """The legal clocks still running for this detention, breached or not."""
    from django.utils import timezone

    from .alerts import all_clocks_of, duration_text

    now = timezone.now()
    out = []
    for clock in all_clocks_of(detention, now):
        if clock.ended_at is not None:
            continue
        overdue = clock.overdue_by(now)
        out.append(
            {
                "clock": clock.clock,
                "label": clock.label,
                "severity": clock.severity,
                "started_at": utc_text(clock.started_at),
                "due_at": utc_text(clock.due_at),
                "breached": clock.breached(now),
                "overdue_by": int(overdue.total_seconds()),
                "remaining_text": duration_text(-overdue) if overdue.total_seconds() < 0 else "",
                "overdue_text": duration_text(overdue) if overdue.total_seconds() > 0 else "",
            }
        )
    return out


def can_read(user: User, detention: Detention) -> bool:
    return visible_detentions(user).filter(pk=detention.pk).exists()


def current_as_dict(detention: Detention) -> dict[str, Any]:
    return {
        "status": detention.status,
        "status_label": Status(detention.status).label,
        "authority": detention.current_authority,
        "institution": (
            detention.current_institution.code if detention.current_institution else None
        ),
        "location": detention.current_location,
        "legal_status": detention.legal_status or None,
        "legal_status_label": LEGAL_STATUSES.get(detention.legal_status, ""),
        "since": utc_text(detention.last_event_at),
        "version": detention.version,
    }


def detention_summary(detention: Detention) -> dict[str, Any]:
    person = detention.person
    return {
        "folio": detention.folio,
        "name": person.full_name,
        "status": detention.status,
        "detained_at": utc_text(detention.detained_at),
        "local_zone": detention.place_timezone,
        "state": detention.state_id,
        "municipality": detention.municipality_id,
        "institution": detention.institution.code,
        "arrest_basis": detention.arrest_basis,
        "current_authority": detention.current_authority,
        "warnings": detention.warning_codes,
    }
