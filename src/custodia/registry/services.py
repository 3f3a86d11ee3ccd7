"""Every write to the registry, each in one transaction (STYLE.md: one obvious place)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from custodia.core import access, bulk
from custodia.core.accesslog import log_access
from custodia.core.models import Channel, Institution, Municipality, State, User
from custodia.ledger.commitments import new_salt, person_digest
from custodia.ledger.services import append_event, append_events, person_document
from custodia.lookup import index as name_index
from custodia.reports import rollup

from . import custody, rules
from .folio import new_folio
from .models import CustodyEvent, DetainedPerson, Detention, DetentionHolder, EventKind, Officer
from .schemas import DetentionIn, parse_detention, parse_event

FOLIO_ATTEMPTS = 8


class RegistrationRejected(Exception):
    """The capture breaks at least one error rule; nothing was written."""

    def __init__(self, findings: list[rules.Finding], warnings: list[rules.Finding] | None = None):
        super().__init__(", ".join(f.code for f in findings))
        self.findings = findings
        self.warnings = warnings or []


@dataclass(frozen=True)
class Registration:
    """A detention just written, with what was written alongside it (so the answer to the
    capture can be built without reading it back)."""

    detention: Detention
    warnings: list[rules.Finding]
    person: DetainedPerson
    officers: tuple[Officer, ...]
    events: tuple[CustodyEvent, ...]
    leaf_indexes: tuple[int, ...]  # of the events' ledger leaves, in the same order


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


def place_text(address: str | None, municipality: Municipality | None, state: State) -> str:
    return ", ".join(
        part for part in (address, municipality.name if municipality else "", state.name) if part
    )


def age_group_of(age: int | None, birth_date: date | None, detained_at: datetime) -> str:
    """ "child" (under 12), "adolescent" (12 to 17), "adult", or "" when unknown."""
    if birth_date is not None:
        day = detained_at.date()
        age = (
            day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))
        )
    if age is None:
        return ""
    if age < rules.CRIMINAL_RESPONSIBILITY_AGE:
        return "child"
    return "adolescent" if age < rules.ADULT_AGE else "adult"


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z")


class CachedCatalog:
    """The rules' view of the catalogs (``rules.Catalog``), read from the database as one write
    sees them: each code read once per registration or batch."""

    def __init__(self) -> None:
        self.states: dict[str, State | None] = {}
        self.municipalities: dict[str, Municipality | None] = {}
        self.institutions: dict[str, Institution | None] = {}

    def state(self, code: str) -> State | None:
        if code not in self.states:
            self.states[code] = State.objects.filter(code=code).first()
        return self.states[code]

    def municipality(self, code: str) -> Municipality | None:
        if code not in self.municipalities:
            self.municipalities[code] = (
                Municipality.objects.select_related("state").filter(code=code).first()
            )
        return self.municipalities[code]

    def institution(self, code: str) -> Institution | None:
        if code not in self.institutions:
            self.institutions[code] = Institution.objects.filter(code=code).first()
        return self.institutions[code]

    def state_exists(self, code: str) -> bool:
        return self.state(code) is not None

    def municipality_state(self, code: str) -> str | None:
        found = self.municipality(code)
        return found.state_id if found else None

    def institution_kind(self, code: str) -> str | None:
        found = self.institution(code)
        return found.kind if found else None


@dataclass
class Prepared:
    """A capture that passed the rules, with everything its rows need but the folio."""

    parsed: DetentionIn
    warnings: list[rules.Finding]
    registered_at: datetime
    state: State
    municipality: Municipality | None
    zone: str
    local_year: int
    receiving_institution: Institution | None
    location: str
    age_group: str
    start: custody.State


def prepare_registration(
    actor: User,
    data: dict[str, Any] | DetentionIn,
    *,
    now: datetime | None = None,
    catalog: CachedCatalog | None = None,
) -> Prepared:
    """Parse and check a capture, and work out its rows; writes nothing. Raises
    ``RegistrationRejected``."""
    catalog = catalog or CachedCatalog()
    registered_at = now or timezone.now()
    if isinstance(data, DetentionIn):
        parsed = data
    else:
        maybe, findings = parse_detention(data)
        if maybe is None:
            raise RegistrationRejected(findings)
        parsed = maybe
    findings = rules.evaluate(capture_facts(parsed, registered_at), registry_policy(), catalog)
    if errors := rules.errors(findings):
        raise RegistrationRejected(errors, rules.warnings(findings))
    institution = actor.institution
    assert institution is not None  # the caller checked require_register_detention
    state = catalog.state(parsed.place.state)
    assert state is not None  # the rules refuse an unknown state
    municipality = catalog.municipality(parsed.place.municipality or "")
    zone = municipality.effective_timezone if municipality else state.timezone
    receiving = parsed.receiving_authority
    location = place_text(parsed.place.address, municipality, state)
    age_group = age_group_of(parsed.person.age, parsed.person.birth_date, parsed.detained_at)
    return Prepared(
        parsed=parsed,
        warnings=rules.warnings(findings),
        registered_at=registered_at,
        state=state,
        municipality=municipality,
        zone=zone,
        local_year=parsed.detained_at.astimezone(ZoneInfo(zone)).year,
        receiving_institution=catalog.institution(receiving.institution)
        if receiving.institution
        else None,
        location=location,
        age_group=age_group,
        start=custody.initial(
            custody.Registration(
                detained_at=parsed.detained_at,
                registered_at=registered_at,
                institution=institution.code,
                institution_name=institution.name,
                location=location,
                arrest_basis=parsed.arrest_basis,
                age_group=age_group or None,
            )
        ),
    )


def detention_register(
    *,
    actor: User,
    data: dict[str, Any] | DetentionIn,
    channel: Channel | str,
    ip: str | None = None,
    now: datetime | None = None,
    read_back: bool = False,
) -> Registration:
    """Register a detention: the record, the person, the officers, the ``registered`` event and
    the access-log entry, all in one transaction. Raises ``AccessDenied`` or
    ``RegistrationRejected`` having written nothing. ``read_back``: the caller shows the whole
    record to the actor (the API's answer), which is logged as a read in the same transaction."""
    access.require_register_detention(actor)
    prepared = prepare_registration(actor, data, now=now)
    return write_registrations(actor, [prepared], channel=channel, ip=ip, read_back=read_back)[0]


def write_registrations(
    actor: User,
    prepared: list[Prepared],
    *,
    channel: Channel | str,
    ip: str | None = None,
    read_back: bool = False,
) -> list[Registration]:
    """Write prepared captures, all in one transaction, a few statements for the lot: the
    records, people, officers, holders, name index, ``registered`` events, outbox messages,
    access-log entries, ledger leaves and report counts. All land or none does."""
    from custodia.notify.outbox import enqueue_custody_changes

    institution = actor.institution
    assert institution is not None
    with transaction.atomic():
        detentions = _create_with_unique_folios(
            [
                (
                    p.state,
                    p.local_year,
                    _detention_fields(p, actor, institution),
                )
                for p in prepared
            ]
        )
        bulk.add_rows(
            DetentionHolder,
            ("detention", "state", "institution", "since"),
            [
                (d.pk, d.state_id, institution.pk, p.parsed.detained_at)
                for d, p in zip(detentions, prepared, strict=True)
            ],
        )
        people = bulk.create(
            DetainedPerson,
            [_person(d, p.parsed) for d, p in zip(detentions, prepared, strict=True)],
        )
        officers = bulk.create(
            Officer,
            [
                Officer(
                    detention=d,
                    state_id=d.state_id,
                    position=position,
                    name=o.name,
                    rank=o.rank or "",
                    unit=o.unit or "",
                    cuip=o.cuip or "",
                )
                for d, p in zip(detentions, prepared, strict=True)
                for position, o in enumerate(p.parsed.officers, start=1)
            ],
        )
        words = name_index.index_new_detentions(list(zip(detentions, people, strict=True)))
        # The event carries no personal data, only a salted digest of it: the ledger commits
        # to the event, and a redaction can replace the person's data without breaking it.
        salts = [new_salt() for _ in prepared]
        events = bulk.create(
            CustodyEvent,
            [
                _registered_event(d, person, p, actor, institution, salt)
                for d, person, p, salt in zip(detentions, people, prepared, salts, strict=True)
            ],
        )
        enqueue_custody_changes(list(zip(detentions, events, strict=True)))
        log_access(
            user=actor,
            channel=channel,
            action=("detention.register", "detention.read") if read_back else "detention.register",
            folios=[d.folio for d in detentions],
            ip=ip,
        )
        # Last: the append locks the ledger head until commit, so it should hold it briefly.
        indexes = append_events(events, [d.folio for d in detentions], salts)
        # The report's counts, while the head is held: no two writers contend for them.
        by_detention: dict[int, list[Officer]] = {}
        for officer in officers:
            by_detention.setdefault(officer.detention_id, []).append(officer)
        rollup.count_registrations(
            [
                (d, person, by_detention.get(d.pk, []), p.registered_at)
                for d, person, p in zip(detentions, people, prepared, strict=True)
            ]
        )
        # And the search's vocabulary, for the same reason: a new word locks its rows until
        # commit, and another writer adding it would wait that long.
        name_index.add_vocabulary(words)
    return [
        Registration(
            detention=d,
            warnings=p.warnings,
            person=person,
            officers=tuple(by_detention.get(d.pk, [])),
            events=(event,),
            leaf_indexes=(index,),
        )
        for d, p, person, event, index in zip(
            detentions, prepared, people, events, indexes, strict=True
        )
    ]


def _detention_fields(p: Prepared, actor: User, institution: Institution) -> dict[str, Any]:
    parsed, receiving, start = p.parsed, p.parsed.receiving_authority, p.start
    contact = parsed.contact
    return {
        "institution": institution,
        "state": p.state,
        "municipality": p.municipality,
        "address": parsed.place.address or "",
        "latitude": parsed.place.latitude,
        "longitude": parsed.place.longitude,
        "place_timezone": p.zone,
        "detained_at": parsed.detained_at,
        "registered_at": p.registered_at,
        "arrest_basis": parsed.arrest_basis,
        "reason": parsed.reason,
        "receiving_kind": receiving.kind,
        "receiving_name": receiving.name,
        "receiving_institution": p.receiving_institution,
        "contact_name": (contact.name if contact else None) or "",
        "contact_relationship": (contact.relationship if contact else None) or "",
        "contact_phone": (contact.phone if contact else None) or "",
        "force_used": parsed.force_used,
        "registered_by": actor,
        "warning_codes": [w.code for w in p.warnings],
        "status": start.status,
        "current_authority": institution.name,
        "current_institution": institution,
        "current_location": p.location,
        "legal_status": start.legal_status or "",
        "last_event_at": parsed.detained_at,
        "version": 1,
        "age_group": p.age_group,
        "custody_state": custody.state_to_json(start),
    }


def _person(detention: Detention, parsed: DetentionIn) -> DetainedPerson:
    person = parsed.person
    return DetainedPerson(
        detention=detention,
        state_id=detention.state_id,
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


def _registered_event(
    detention: Detention,
    person: DetainedPerson,
    p: Prepared,
    actor: User,
    institution: Institution,
    salt: str,
) -> CustodyEvent:
    receiving = p.parsed.receiving_authority
    return CustodyEvent(
        detention=detention,
        state_id=detention.state_id,
        sequence=1,
        kind=EventKind.REGISTERED,
        occurred_at=p.parsed.detained_at,
        recorded_at=p.registered_at,
        recorded_by=actor,
        institution=institution,
        local_zone=p.zone,
        data={
            "folio": detention.folio,
            "institution": institution.code,
            "detained_at": _utc_text(p.parsed.detained_at),
            "arrest_basis": p.parsed.arrest_basis,
            "place": {
                "state": p.state.code,
                "municipality": p.municipality.code if p.municipality else None,
            },
            "receiving_authority": {
                "kind": receiving.kind,
                "name": receiving.name,
                "institution": receiving.institution,
            },
            "warnings": [w.code for w in p.warnings],
            "person_digest": person_digest(person_document(person), salt),
        },
    )


def _create_with_unique_folios(
    wanted: list[tuple[State, int, dict[str, Any]]],
) -> list[Detention]:
    """Draw random folios until they are all free. No global lock or counter: the unique index
    is the arbiter, and a collision (about one in 10^6 at national volume) draws them again."""
    for _ in range(FOLIO_ATTEMPTS):
        made = [
            Detention(folio=new_folio(state.code, year), **fields) for state, year, fields in wanted
        ]
        folios = [d.folio for d in made]
        if len(set(folios)) != len(folios):
            continue
        try:
            with transaction.atomic():
                return bulk.create(Detention, made)
        except IntegrityError:
            if not Detention.objects.filter(folio__in=folios).exists():
                raise
    raise RuntimeError("no free folios after several attempts")


class EventRejected(Exception):
    """The event breaks the state machine or a rule; nothing was written."""

    def __init__(self, findings: list[rules.Finding]):
        super().__init__(", ".join(f.code for f in findings))
        self.findings = findings


class VersionConflict(Exception):
    def __init__(self, current: int):
        super().__init__(current)
        self.current = current
        self.message = (
            f"La detención cambió mientras usted escribía (versión actual: {current}). "
            "Vuelva a consultarla y registre el movimiento de nuevo."
        )


@dataclass(frozen=True)
class Recorded:
    event: CustodyEvent
    detention: Detention
    state: custody.State


def registration_of(detention: Detention) -> custody.Registration:
    return custody.Registration(
        detained_at=detention.detained_at,
        registered_at=detention.registered_at,
        institution=detention.institution.code,
        institution_name=detention.institution.name,
        location=place_text(detention.address, detention.municipality, detention.state),
        arrest_basis=detention.arrest_basis,
        age_group=detention.age_group or None,
    )


def event_facts(event: CustodyEvent) -> custody.Event:
    return custody.Event.from_data(
        event.kind, event.occurred_at, event.data or {}, sequence=event.sequence, id=event.pk
    )


def replay_detention(detention: Detention) -> custody.State:
    """The state of a detention recomputed from its events alone."""
    events = [
        event_facts(e) for e in detention.events.order_by("sequence") if e.kind != "registered"
    ]
    return custody.replay(registration_of(detention), events)


def _event_data(parsed: Any) -> dict[str, Any]:
    data = parsed.model_dump(exclude={"kind", "occurred_at", "expected_version"}, exclude_none=True)
    if not data.get("organized_crime"):
        data.pop("organized_crime", None)
    return data


def _event_zone(
    detention: Detention, data: dict[str, Any], institutions: dict[str, Institution]
) -> str:
    place_state = (data.get("place") or {}).get("state")
    if place_state:
        found = State.objects.filter(code=place_state).values_list("timezone", flat=True).first()
        if found:
            return found
    authority = data.get("authority") or {}
    institution = institutions.get(authority.get("institution") or "")
    if institution is not None and institution.state is not None:
        if institution.state_id == detention.state_id:
            return detention.place_timezone
        return institution.state.timezone
    return detention.place_timezone


def _store_state(detention: Detention, before: int, state: custody.State) -> None:
    holder = (
        Institution.objects.filter(code=state.holder_institution).first()
        if state.holder_institution
        else None
    )
    updated = Detention.objects.filter(pk=detention.pk, version=before).update(
        status=state.status,
        current_authority=state.holder_name[:120],
        current_institution=holder,
        current_location=state.location[:300],
        legal_status=state.legal_status or "",
        last_event_at=state.last_event_at,
        version=state.version,
        custody_state=custody.state_to_json(state),
    )
    if updated != 1:
        raise VersionConflict(Detention.objects.get(pk=detention.pk).version)


def _commit_event(
    detention: Detention,
    event: CustodyEvent,
    before: custody.State,
    after: custody.State,
    *,
    actor: User,
    channel: Channel | str,
    action: str,
    ip: str | None = None,
    purpose: str = "",
) -> None:
    """What every appended event does next, in the caller's transaction: move the projection,
    record new holders, announce it in the outbox, log the access, append the ledger leaf."""
    from custodia.notify.outbox import enqueue_custody_change

    _store_state(detention, detention.version, after)
    for code in sorted(after.holders - before.holders):
        holder = Institution.objects.filter(code=code).first()
        if holder is not None:
            DetentionHolder.objects.get_or_create(
                detention=detention,
                institution=holder,
                defaults={"since": event.occurred_at, "state_id": detention.state_id},
            )
    detention.refresh_from_db()
    if (before.status in custody.HELD) != (after.status in custody.HELD):
        name_index.set_held(detention.pk, after.status)
    enqueue_custody_change(detention, event)
    log_access(
        user=actor,
        channel=channel,
        action=action,
        folios=[detention.folio],
        ip=ip,
        purpose=purpose,
    )
    # Last: the append locks the ledger head until commit, so it should hold it briefly.
    append_event(event, detention.folio, new_salt())
    # The report's counts, while the head is held: no two writers contend for them.
    rollup.refresh([detention.pk], now=event.recorded_at)
    rollup.count_event(event, detention.state_id)


def event_record(
    *,
    actor: User,
    folio: str,
    data: dict[str, Any],
    channel: Channel | str,
    ip: str | None = None,
    now: datetime | None = None,
) -> Recorded:
    """Append one custody event and move the projection, in one transaction. Raises
    ``DetentionNotFound``, ``AccessDenied``, ``VersionConflict`` (409) or ``EventRejected`` (422)
    having written nothing."""

    from .queries import DetentionNotFound

    parsed, problems = parse_event(data)
    if parsed is None:
        raise EventRejected(problems)
    now = now or timezone.now()
    occurred_at = parsed.occurred_at or now
    authority_code = parsed.authority.institution if parsed.authority else None
    with transaction.atomic():
        detention = (
            # of=("self",): PostgreSQL cannot lock the nullable side of an outer join.
            Detention.objects.select_for_update(of=("self",))
            .select_related("institution", "state", "municipality")
            .filter(folio=folio)
            .first()
        )
        if detention is None:
            raise DetentionNotFound()
        if not access.may_record_event(actor, detention, parsed.kind, authority_code):
            raise access.AccessDenied(
                "Su institución no tiene a esta persona bajo su custodia ni la recibe: no puede "
                "registrar este movimiento."
            )
        if parsed.expected_version is not None and parsed.expected_version != detention.version:
            raise VersionConflict(detention.version)
        institutions: dict[str, Institution] = {}
        if authority_code:
            found = Institution.objects.select_related("state").filter(code=authority_code).first()
            if found is None:
                raise EventRejected(
                    [
                        rules.Finding(
                            "RND-E150",
                            "authority.institution",
                            "La institución de la autoridad no existe en el catálogo.",
                        )
                    ]
                )
            institutions[found.code] = found
        stored = list(detention.events.order_by("sequence"))
        earlier = {e.pk: event_facts(e) for e in stored}
        if parsed.kind == "corrected" and parsed.corrects in earlier:
            target = next(e for e in stored if e.pk == parsed.corrects)
            if not access.may_correct(actor, target.institution_id):
                raise access.AccessDenied(
                    "Sólo la supervisión o la autoridad de la institución que registró un "
                    "movimiento puede corregirlo."
                )
        before = custody.state_from_json(detention.custody_state)
        payload = _event_data(parsed)
        new = custody.Event.from_data(
            parsed.kind, occurred_at, payload, sequence=detention.version + 1
        )
        problems = custody.check(
            before,
            new,
            now=now,
            future_tolerance=registry_policy().future_tolerance,
            events_by_id=earlier,
        )
        if problems:
            raise EventRejected(problems)
        assert actor.institution is not None
        event = CustodyEvent.objects.create(
            detention=detention,
            state_id=detention.state_id,
            sequence=detention.version + 1,
            kind=parsed.kind,
            occurred_at=occurred_at,
            recorded_at=now,
            recorded_by=actor,
            institution=actor.institution,
            local_zone=_event_zone(detention, payload, institutions),
            data=payload,
        )
        if parsed.kind == "corrected":
            after = custody.replay(
                registration_of(detention),
                [f for f in earlier.values() if f.kind != "registered"] + [event_facts(event)],
            )
        else:
            after = custody.apply(before, new)
        _commit_event(
            detention,
            event,
            before,
            after,
            actor=actor,
            channel=channel,
            action="detention.event",
            ip=ip,
        )
    return Recorded(event=event, detention=detention, state=after)


REDACTED = "[SUPRIMIDO]"


class RedactionRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def detention_redact(
    *,
    actor: User,
    folio: str,
    reason: str,
    channel: Channel | str = Channel.CLI,
    now: datetime | None = None,
) -> CustodyEvent:
    """Replace a detention's identifying personal data with a redaction marker, for a stated
    legal reason. The events and the ledger are untouched (the registration committed only to a
    salted digest of the person), so every proof stays valid; the redaction is itself an event."""
    from custodia.ledger.models import Redaction

    from .queries import DetentionNotFound

    if not access.can_administer(actor):
        raise access.AccessDenied("Sólo la administración puede suprimir datos personales.")
    reason = " ".join(reason.split())
    if len(reason) < 10:
        raise RedactionRefused("Indique el fundamento legal de la supresión (10 caracteres o más).")
    if len(reason) > 2000:
        raise RedactionRefused("El fundamento no puede pasar de 2000 caracteres.")
    now = now or timezone.now()
    with transaction.atomic():
        detention = (
            Detention.objects.select_for_update(of=("self",))
            .select_related("person", "institution", "state", "municipality")
            .filter(folio=folio)
            .first()
        )
        if detention is None:
            raise DetentionNotFound()
        if detention.redactions.exists():
            raise RedactionRefused("Los datos personales de esta detención ya fueron suprimidos.")
        person = detention.person
        registered = detention.events.get(sequence=1)
        salt = registered.leaf.salt
        Redaction.objects.create(
            detention=detention,
            reason=reason,
            redacted_by=actor,
            redacted_at=now,
            person_digest=person_digest(person_document(person), salt),
        )
        fields = [
            "given_names",
            "first_surname",
            "second_surname",
            "alias",
            "curp",
            "birth_date",
            "distinguishing_marks",
        ]
        person.given_names = person.first_surname = REDACTED
        person.second_surname = person.alias = person.curp = person.distinguishing_marks = ""
        person.birth_date = None
        person.save(update_fields=fields)
        name_index.forget(detention)
        Detention.objects.filter(pk=detention.pk).update(
            contact_name="", contact_relationship="", contact_phone=""
        )
        before = custody.state_from_json(detention.custody_state)
        assert actor.institution is not None or actor.is_superuser
        event = CustodyEvent.objects.create(
            detention=detention,
            state_id=detention.state_id,
            sequence=detention.version + 1,
            kind="redacted",
            occurred_at=now,
            recorded_at=now,
            recorded_by=actor,
            institution=actor.institution or detention.institution,
            local_zone=detention.place_timezone,
            data={"reason": reason, "fields": [*fields, "contact"]},
        )
        after = custody.apply(
            before, custody.Event(kind="redacted", occurred_at=now, sequence=event.sequence)
        )
        _commit_event(
            detention,
            event,
            before,
            after,
            actor=actor,
            channel=channel,
            action="detention.redact",
            purpose=reason,
        )
    return event
