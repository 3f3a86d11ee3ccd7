"""Every write to the registry, each in one transaction (STYLE.md: one obvious place)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from custodia.core import access
from custodia.core.accesslog import log_access
from custodia.core.models import Channel, Institution, Municipality, State, User

from . import rules
from .folio import new_folio
from .models import CustodyEvent, DetainedPerson, Detention, EventKind, Officer, Status
from .schemas import DetentionIn, parse_detention

FOLIO_ATTEMPTS = 8


class RegistrationRejected(Exception):
    """The capture breaks at least one error rule; nothing was written."""

    def __init__(self, findings: list[rules.Finding], warnings: list[rules.Finding] | None = None):
        super().__init__(", ".join(f.code for f in findings))
        self.findings = findings
        self.warnings = warnings or []


@dataclass(frozen=True)
class Registration:
    detention: Detention
    warnings: list[rules.Finding]


@cache
def _policy_from(start: str, future: int, warning: int, critical: int) -> rules.Policy:
    return rules.Policy(
        registry_start=datetime.fromisoformat(start),
        future_tolerance=timedelta(minutes=future),
        registration_warning=timedelta(minutes=warning),
        registration_critical=timedelta(minutes=critical),
    )


def registry_policy() -> rules.Policy:
    p = settings.CUSTODIA_REGISTRY_POLICY
    return _policy_from(
        p["registry_start"],
        p["future_tolerance_minutes"],
        p["registration_warning_minutes"],
        p["registration_critical_minutes"],
    )


class DatabaseCatalog:
    """The rules' view of the catalogs (``rules.Catalog``), read from the database."""

    def state_exists(self, code: str) -> bool:
        return State.objects.filter(code=code).exists()

    def municipality_state(self, code: str) -> str | None:
        return Municipality.objects.filter(code=code).values_list("state_id", flat=True).first()

    def institution_kind(self, code: str) -> str | None:
        return Institution.objects.filter(code=code).values_list("kind", flat=True).first()


def capture_facts(parsed: DetentionIn, registered_at: datetime) -> rules.Capture:
    person, place = parsed.person, parsed.place
    return rules.Capture(
        detained_at=parsed.detained_at,
        registered_at=registered_at,
        sex=person.sex,
        age=person.age,
        birth_date=person.birth_date,
        curp=person.curp,
        state=place.state,
        municipality=place.municipality,
        latitude=place.latitude,
        longitude=place.longitude,
        arrest_basis=parsed.arrest_basis,
        receiving_kind=parsed.receiving_authority.kind,
        receiving_institution=parsed.receiving_authority.institution,
        officers=tuple(rules.Officer(o.name) for o in parsed.officers),
        physical_condition=person.physical_condition,
    )


def validate_capture(
    data: dict[str, Any] | DetentionIn, *, now: datetime | None = None
) -> tuple[DetentionIn, list[rules.Finding]]:
    """Parse and check a capture. Raises :class:`RegistrationRejected` on any error rule;
    returns the parsed capture and its warnings otherwise."""
    if isinstance(data, DetentionIn):
        parsed = data
    else:
        maybe, findings = parse_detention(data)
        if maybe is None:
            raise RegistrationRejected(findings)
        parsed = maybe
    findings = rules.evaluate(
        capture_facts(parsed, now or timezone.now()), registry_policy(), DatabaseCatalog()
    )
    if errors := rules.errors(findings):
        raise RegistrationRejected(errors, rules.warnings(findings))
    return parsed, rules.warnings(findings)


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z")


def detention_register(
    *,
    actor: User,
    data: dict[str, Any] | DetentionIn,
    channel: Channel | str,
    ip: str | None = None,
    now: datetime | None = None,
) -> Registration:
    """Register a detention: the record, the person, the officers, the ``registered`` event and
    the access-log entry, all in one transaction. Raises ``AccessDenied`` or
    ``RegistrationRejected`` having written nothing."""
    access.require_register_detention(actor)
    registered_at = now or timezone.now()
    parsed, warnings = validate_capture(data, now=registered_at)
    institution = actor.institution
    assert institution is not None  # guaranteed by require_register_detention

    state = State.objects.get(code=parsed.place.state)
    municipality = (
        Municipality.objects.select_related("state").get(code=parsed.place.municipality)
        if parsed.place.municipality
        else None
    )
    zone_name = municipality.effective_timezone if municipality else state.timezone
    local_year = parsed.detained_at.astimezone(ZoneInfo(zone_name)).year
    receiving = parsed.receiving_authority
    receiving_institution = (
        Institution.objects.get(code=receiving.institution) if receiving.institution else None
    )
    location = ", ".join(
        part
        for part in (parsed.place.address, municipality.name if municipality else "", state.name)
        if part
    )

    with transaction.atomic():
        detention = _create_with_unique_folio(
            state=state,
            local_year=local_year,
            fields={
                "institution": institution,
                "state": state,
                "municipality": municipality,
                "address": parsed.place.address or "",
                "latitude": parsed.place.latitude,
                "longitude": parsed.place.longitude,
                "place_timezone": zone_name,
                "detained_at": parsed.detained_at,
                "registered_at": registered_at,
                "arrest_basis": parsed.arrest_basis,
                "reason": parsed.reason,
                "receiving_kind": receiving.kind,
                "receiving_name": receiving.name,
                "receiving_institution": receiving_institution,
                "contact_name": (parsed.contact.name if parsed.contact else None) or "",
                "contact_relationship": (parsed.contact.relationship if parsed.contact else None)
                or "",
                "contact_phone": (parsed.contact.phone if parsed.contact else None) or "",
                "force_used": parsed.force_used,
                "registered_by": actor,
                "warning_codes": [w.code for w in warnings],
                "status": Status.IN_POLICE_CUSTODY,
                "current_authority": institution.name,
                "current_institution": institution,
                "current_location": location,
                "last_event_at": parsed.detained_at,
                "version": 1,
            },
        )
        person = parsed.person
        DetainedPerson.objects.create(
            detention=detention,
            given_names=person.given_names,
            first_surname=person.first_surname,
            second_surname=person.second_surname or "",
            alias=person.alias or "",
            sex=person.sex,
            age=person.age,
            birth_date=person.birth_date,
            curp=person.curp or "",
            nationality=person.nationality or "",
            physical_condition=person.physical_condition or "",
            distinguishing_marks=person.distinguishing_marks or "",
        )
        Officer.objects.bulk_create(
            Officer(
                detention=detention,
                position=position,
                name=o.name,
                rank=o.rank or "",
                unit=o.unit or "",
                cuip=o.cuip or "",
            )
            for position, o in enumerate(parsed.officers, start=1)
        )
        # The event carries no personal data: the public ledger (issue 4) commits to it.
        CustodyEvent.objects.create(
            detention=detention,
            sequence=1,
            kind=EventKind.REGISTERED,
            occurred_at=parsed.detained_at,
            recorded_at=registered_at,
            recorded_by=actor,
            institution=institution,
            local_zone=zone_name,
            data={
                "folio": detention.folio,
                "institution": institution.code,
                "detained_at": _utc_text(parsed.detained_at),
                "arrest_basis": parsed.arrest_basis,
                "place": {
                    "state": state.code,
                    "municipality": municipality.code if municipality else None,
                },
                "receiving_authority": {
                    "kind": receiving.kind,
                    "name": receiving.name,
                    "institution": receiving.institution,
                },
                "warnings": [w.code for w in warnings],
            },
        )
        log_access(
            user=actor,
            channel=channel,
            action="detention.register",
            folios=[detention.folio],
            ip=ip,
        )
    return Registration(detention=detention, warnings=warnings)


def _create_with_unique_folio(
    *, state: State, local_year: int, fields: dict[str, Any]
) -> Detention:
    """Draw random folios until one is free. No global lock or counter: the unique index is the
    arbiter, and a collision (about one in 10^6 at national volume) just draws again."""
    for _ in range(FOLIO_ATTEMPTS):
        folio = new_folio(state.code, local_year)
        try:
            with transaction.atomic():
                return Detention.objects.create(folio=folio, **fields)
        except IntegrityError:
            if not Detention.objects.filter(folio=folio).exists():
                raise
    raise RuntimeError("no free folio after several attempts")
