"""Every write of the Conference's records, each in one transaction with its ledger leaf.

Input comes as text (forms, CLI, seed) and is checked here: bad input raises ``InvalidFields``
with Spanish messages by field, and nothing is written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.urls import Resolver404, resolve
from django.utils import timezone

from custodia.core import access
from custodia.core.errors import InvalidFields
from custodia.core.models import Institution, State, User, Zone

from . import composition, documents, evidence, ordinals
from .models import (
    AgendaItem,
    Agreement,
    AgreementInstrument,
    Attendance,
    AttendanceMode,
    Commitment,
    CommitmentStatus,
    Communique,
    CommuniqueStatus,
    CompositionRule,
    Deliverable,
    EvidenceFile,
    FollowUp,
    GroupMember,
    GroupStatus,
    Instrument,
    Liaison,
    Meeting,
    OwnerKind,
    Party,
    Seat,
    Session,
    SessionKind,
    Tracking,
    WorkingGroup,
    agreement_code,
)

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 5

T = TypeVar("T")


# Reading the input -------------------------------------------------------------------------------


class Fields:
    """Collects every problem of a form before raising, so the user sees them all at once."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append((field, message))

    def text(
        self, value: Any, field: str, label: str, *, max_length: int, required: bool = True
    ) -> str:
        text = " ".join(str(value or "").split()) if max_length <= 300 else str(value or "").strip()
        if required and not text:
            self.fail(field, f"{label}: es obligatorio.")
        elif len(text) > max_length:
            self.fail(field, f"{label}: máximo {max_length} caracteres.")
        return text

    def day(self, value: Any, field: str, label: str, *, required: bool = True) -> date | None:
        if isinstance(value, date):
            return value
        text = str(value or "").strip()
        if not text:
            if required:
                self.fail(field, f"{label}: es obligatoria.")
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.fail(field, f"{label}: use una fecha AAAA-MM-DD.")
            return None

    def required_day(self, value: Any, field: str, label: str) -> date:
        """A date that must be there (``date.min`` stands in once the problem is noted:
        ``check`` raises before it is used)."""
        return self.day(value, field, label) or date.min

    def number(self, value: Any, field: str, label: str, *, low: int, high: int) -> int:
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            self.fail(field, f"{label}: escriba un número entero.")
            return low
        if not low <= number <= high:
            self.fail(field, f"{label}: debe estar entre {low} y {high}.")
        return number

    def choice(
        self, value: Any, field: str, label: str, choices: Any, *, required: bool = True
    ) -> str:
        text = str(value or "").strip()
        if not text and not required:
            return ""
        if text not in choices.values:
            allowed = ", ".join(str(c.label) for c in choices if c.value)
            self.fail(field, f"{label}: elija una de las opciones ({allowed}).")
        return text

    def state(self, value: Any, field: str, label: str, *, required: bool) -> State | None:
        code = str(value or "").strip()
        if not code:
            if required:
                self.fail(field, f"{label}: elija la entidad.")
            return None
        found = State.objects.filter(code=code).first()
        if found is None:
            self.fail(field, f"{label}: no existe la entidad «{code}».")
        return found

    def check(self) -> None:
        if self.errors:
            raise InvalidFields(self.errors)


def _saved(write: Callable[[], T], field: str, message: str) -> T:
    """A write that a unique key may refuse (a concurrent duplicate): a Spanish error, not 500."""
    try:
        with transaction.atomic():
            return write()
    except IntegrityError:
        raise InvalidFields([(field, message)]) from None


# Sessions ----------------------------------------------------------------------------------------


def create_session(
    *, actor: User, number: Any, kind: Any, held_on: Any, place: Any = ""
) -> Session:
    access.require_secretariat(actor)
    f = Fields()
    number = f.number(number, "number", "Número de la sesión", low=1, high=3999)
    kind = f.choice(kind or SessionKind.ORDINARY, "kind", "Tipo", SessionKind)
    held = f.required_day(held_on, "held_on", "Fecha")
    place = f.text(place, "place", "Lugar", max_length=200, required=False)
    f.check()
    if Session.objects.filter(kind=kind, number=number).exists():
        title = f"{ordinals.roman(number)} Asamblea Plenaria"
        raise InvalidFields([("number", f"Ya existe la {title} ({SessionKind(kind).label}).")])

    def write() -> Session:
        session = Session.objects.create(number=number, kind=kind, held_on=held, place=place)
        _revision(actor, "session", session, "created", f"Sesión creada: {session.title}")
        return session

    return _saved(write, "number", "Ya existe una sesión con ese número.")


def set_agenda(*, actor: User, session: Session, items: Sequence[tuple[Any, Any]]) -> Session:
    """Replace the draft agenda: (subject, presenter) per item, in order. Refused once the
    agenda is approved: what the plenary approved stays as approved."""
    access.require_secretariat(actor)
    if session.agenda_approved_on:
        raise InvalidFields([("agenda", "El orden del día ya fue aprobado; no se modifica.")])
    f = Fields()
    cleaned = []
    for n, (title, presenter) in enumerate(items, start=1):
        subject = f.text(title, f"agenda.{n}", f"Punto {n}", max_length=300, required=False)
        who = f.text(
            presenter,
            f"agenda.{n}.presenter",
            f"Punto {n}, presenta",
            max_length=200,
            required=False,
        )
        if subject:
            cleaned.append((subject, who))
        elif who:
            f.fail(f"agenda.{n}", f"Punto {n}: falta el asunto.")
    if not cleaned:
        f.fail("agenda", "El orden del día necesita al menos un punto.")
    f.check()
    with transaction.atomic():
        locked = Session.objects.select_for_update().get(pk=session.pk)
        if locked.agenda_approved_on:
            raise InvalidFields([("agenda", "El orden del día ya fue aprobado; no se modifica.")])
        AgendaItem.objects.filter(session=locked).delete()
        AgendaItem.objects.bulk_create(
            AgendaItem(session=locked, position=n, title=t, presenter=p)
            for n, (t, p) in enumerate(cleaned, start=1)
        )
        _revision(actor, "session", locked, "agenda_set", f"Orden del día: {len(cleaned)} puntos")
    return locked


def approve_agenda(
    *, actor: User, session: Session, approved_on: Any, agreement: Agreement | None = None
) -> Session:
    access.require_secretariat(actor)
    f = Fields()
    day = f.required_day(approved_on, "approved_on", "Fecha de aprobación")
    if agreement is not None and agreement.session_id != session.pk:
        f.fail("agreement", "El acuerdo que aprueba el orden del día debe ser de esta sesión.")
    f.check()
    with transaction.atomic():
        locked = Session.objects.select_for_update().get(pk=session.pk)
        if locked.agenda_approved_on:
            raise InvalidFields([("approved_on", "El orden del día ya estaba aprobado.")])
        if not locked.agenda.exists():
            raise InvalidFields([("agenda", "No hay orden del día que aprobar.")])
        locked.agenda_approved_on = day
        locked.agenda_approved_by = agreement
        locked.save(update_fields=["agenda_approved_on", "agenda_approved_by"])
        _revision(actor, "session", locked, "agenda_approved", "Orden del día aprobado")
    return locked


def record_attendance(
    *, actor: User, session: Session, state: Any, mode: Any, attendee: Any = "", position: Any = ""
) -> Attendance:
    access.require_secretariat(actor)
    f = Fields()
    found = f.state(state, "state", "Entidad", required=True)
    mode = f.choice(mode, "mode", "Asistencia", AttendanceMode)
    attendee = f.text(attendee, "attendee", "Asistente", max_length=200, required=False)
    position = f.text(position, "position", "Cargo", max_length=200, required=False)
    if mode and mode != AttendanceMode.ABSENT and not attendee:
        f.fail("attendee", "Asistente: escriba quién asistió por la entidad.")
    f.check()
    with transaction.atomic():
        row, _ = Attendance.objects.update_or_create(
            session=session,
            state=found,
            defaults={"mode": mode, "attendee": attendee, "position": position},
        )
        label = AttendanceMode(mode).label
        _revision(actor, "session", session, "attendance", f"Asistencia de {found}: {label}")
    return row


# Agreements and commitments ----------------------------------------------------------------------


def add_agreement(
    *,
    actor: User,
    session: Session,
    number: Any,
    title: Any,
    text: Any,
    instruments: Iterable[Any] = (),
    public: bool = False,
) -> Agreement:
    access.require_secretariat(actor)
    f = Fields()
    number = f.number(number, "number", "Número del acuerdo", low=1, high=ordinals.MAX_ORDINAL)
    title = f.text(title, "title", "Título", max_length=300)
    text = f.text(text, "text", "Texto", max_length=20_000)
    codes = _instruments(f, instruments)
    f.check()
    if session.agreements.filter(number=number).exists():
        raise InvalidFields(
            [("number", f"La sesión ya tiene el acuerdo {ordinals.ordinal_word(number)}.")]
        )

    def write() -> Agreement:
        agreement = Agreement.objects.create(
            session=session,
            number=number,
            code=agreement_code(number, session),
            title=title,
            text=text,
            public=public,
        )
        AgreementInstrument.objects.bulk_create(
            AgreementInstrument(agreement=agreement, instrument=c) for c in codes
        )
        _revision(actor, "agreement", agreement, "created", f"Acuerdo {agreement.ordinal} creado")
        return agreement

    return _saved(write, "number", "La sesión ya tiene un acuerdo con ese número.")


def update_agreement(
    *,
    actor: User,
    agreement: Agreement,
    title: Any,
    text: Any,
    instruments: Iterable[Any],
    public: bool,
) -> Agreement:
    """Correct an agreement's wording or instruments, or make it public; the earlier wording
    stays in its history."""
    access.require_secretariat(actor)
    f = Fields()
    title = f.text(title, "title", "Título", max_length=300)
    text = f.text(text, "text", "Texto", max_length=20_000)
    codes = _instruments(f, instruments)
    f.check()
    with transaction.atomic():
        locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
        changes = []
        if (locked.title, locked.text) != (title, text):
            changes.append("texto corregido")
        if set(locked.instrument_codes()) != set(codes):
            changes.append("instrumentos")
        if locked.public != public:
            changes.append("hecho público" if public else "retirado de la página pública")
        if not changes:
            return locked
        locked.title, locked.text, locked.public = title, text, public
        locked.save(update_fields=["title", "text", "public"])
        locked.instruments.exclude(instrument__in=codes).delete()
        have = set(locked.instrument_codes())
        AgreementInstrument.objects.bulk_create(
            AgreementInstrument(agreement=locked, instrument=c) for c in codes if c not in have
        )
        _revision(
            actor, "agreement", locked, "updated", f"Acuerdo {locked.ordinal}: {', '.join(changes)}"
        )
    return locked


def _instruments(f: Fields, values: Iterable[Any]) -> list[str]:
    codes = []
    for value in values:
        code = str(value).strip()
        if code not in Instrument.values:
            f.fail("instruments", f"Instrumento: «{code}» no está en el catálogo.")
        elif code not in codes:
            codes.append(code)
    return codes


@dataclass(frozen=True)
class Owner:
    kind: str
    state: State | None = None
    zone: str = ""
    institution: Institution | None = None
    name: str = ""


def _owner(f: Fields, kind: Any, state: Any, zone: Any, institution: Any, name: Any) -> Owner:
    kind = f.choice(kind, "owner_kind", "Responsable", OwnerKind)
    if kind == OwnerKind.STATE:
        return Owner(
            kind, state=f.state(state, "owner_state", "Entidad responsable", required=True)
        )
    if kind == OwnerKind.ZONE:
        return Owner(kind, zone=f.choice(zone, "owner_zone", "Zona responsable", Zone))
    if kind == OwnerKind.INSTITUTION:
        code = str(institution or "").strip()
        found = Institution.objects.filter(code=code).first() if code else None
        if found is None:
            f.fail("owner_institution", "Institución responsable: no existe esa clave.")
        return Owner(kind, institution=found)
    if kind == OwnerKind.OUTSIDE:
        return Owner(kind, name=f.text(name, "owner_name", "Otra institución", max_length=200))
    return Owner(kind)


def _link(f: Fields, value: Any) -> str:
    """A page of this Custodia: a local path that its URLs resolve (not the API)."""
    link = str(value or "").strip()
    if not link:
        return ""
    path = link.split("?")[0].split("#")[0]
    message = "Página de Custodia: escriba una ruta de esta aplicación, por ejemplo /reportes/."
    if not path.startswith("/") or path.startswith("//") or path.startswith("/api/"):
        f.fail("link", message)
        return link
    try:
        resolve(path)
    except Resolver404:
        f.fail("link", message)
    if len(link) > 300:
        f.fail("link", "Página de Custodia: máximo 300 caracteres.")
    return link


def add_commitment(
    *,
    actor: User,
    agreement: Agreement,
    description: Any,
    owner_kind: Any,
    owner_state: Any = "",
    owner_zone: Any = "",
    owner_institution: Any = "",
    owner_name: Any = "",
    due_on: Any = "",
    tracking: Any = "",
    link: Any = "",
    working_group: WorkingGroup | None = None,
) -> Commitment:
    access.require_secretariat(actor)
    f = Fields()
    description = f.text(description, "description", "Compromiso", max_length=4000)
    owner = _owner(f, owner_kind, owner_state, owner_zone, owner_institution, owner_name)
    due = f.day(due_on, "due_on", "Fecha compromiso", required=False)
    tracking = f.choice(tracking, "tracking", "Seguimiento automático", Tracking, required=False)
    link = _link(f, link)
    if working_group is not None and working_group.agreement_id != agreement.pk:
        f.fail("working_group", "La mesa debe ser una de las que crea este acuerdo.")
    f.check()
    with transaction.atomic():
        locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
        last = locked.commitments.order_by("-position").values_list("position", flat=True).first()
        commitment = Commitment.objects.create(
            agreement=locked,
            position=(last or 0) + 1,
            description=description,
            owner_kind=owner.kind,
            owner_state=owner.state,
            owner_zone=owner.zone,
            owner_institution=owner.institution,
            owner_name=owner.name,
            due_on=due,
            tracking=tracking,
            link=link,
            working_group=working_group,
        )
        _revision(
            actor,
            "commitment",
            commitment,
            "created",
            f"Compromiso {commitment.position} de {commitment.owner_label}",
        )
    return commitment


@dataclass(frozen=True)
class Upload:
    name: str
    content_type: str
    content: bytes


def add_follow_up(
    *,
    actor: User,
    commitment: Commitment,
    reported_on: Any,
    progress: Any,
    status: Any = "",
    files: Sequence[Upload] = (),
) -> FollowUp:
    """An entry of progress, with evidence files; a new status moves the commitment too."""
    if not access.may_follow_up(actor, commitment):
        raise access.AccessDenied(
            "Sólo la Secretaría Técnica, o el análisis estatal de la entidad responsable, "
            "registra avances de este compromiso."
        )
    f = Fields()
    day = f.required_day(reported_on, "reported_on", "Fecha del avance")
    if day and day > timezone.localdate():
        f.fail("reported_on", "Fecha del avance: no puede ser posterior a hoy.")
    progress = f.text(progress, "progress", "Avance", max_length=8000)
    status = f.choice(status, "status", "Estado", CommitmentStatus, required=False)
    if len(files) > MAX_FILES:
        f.fail("files", f"Evidencia: a lo más {MAX_FILES} archivos por avance.")
    for upload in files:
        if not upload.content:
            f.fail("files", f"Evidencia: el archivo «{upload.name}» está vacío.")
        elif len(upload.content) > MAX_FILE_BYTES:
            f.fail("files", f"Evidencia: «{upload.name}» pasa de 10 MB.")
    f.check()
    with transaction.atomic():
        locked = Commitment.objects.select_for_update().get(pk=commitment.pk)
        entry = FollowUp.objects.create(
            commitment=locked, reported_on=day, progress=progress, status=status, author=actor
        )
        EvidenceFile.objects.bulk_create(
            EvidenceFile(
                follow_up=entry,
                name=_file_name(upload.name),
                content_type=(upload.content_type or "application/octet-stream")[:100],
                size=len(upload.content),
                sha256=hashlib.sha256(upload.content).hexdigest(),
                content=upload.content,
            )
            for upload in files
        )
        agreement = locked.agreement
        _revision(
            actor,
            "follow_up",
            entry,
            "created",
            f"Avance del compromiso {locked.position}: {progress[:120]}",
            agreement=agreement,
        )
        if status and status != locked.status:
            locked.status = status
            locked.save(update_fields=["status", "updated_at"])
            _revision(
                actor,
                "commitment",
                locked,
                "status",
                f"Compromiso {locked.position}: {CommitmentStatus(status).label}",
            )
    return entry


def _file_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c for c in base if c.isprintable() and c not in '"<>|:*?').strip(" .")
    return (cleaned or "evidencia")[:200]


# Working groups ----------------------------------------------------------------------------------


def create_working_group(
    *,
    actor: User,
    agreement: Agreement,
    name: Any,
    purpose: Any,
    rule: Any = CompositionRule.OPEN,
    proponent: Any = "",
    proponent_state: Any = "",
    counterpart: Any = "",
    coordinator: Any = "Secretaría Técnica",
) -> WorkingGroup:
    access.require_secretariat(actor)
    f = Fields()
    name = f.text(name, "name", "Nombre de la mesa", max_length=200)
    purpose = f.text(purpose, "purpose", "Objeto", max_length=4000)
    rule = f.choice(rule, "rule", "Integración", CompositionRule)
    proponent = f.text(proponent, "proponent", "Proponente", max_length=200, required=False)
    state = f.state(proponent_state, "proponent_state", "Entidad del proponente", required=False)
    counterpart = f.text(counterpart, "counterpart", "Contraparte", max_length=200, required=False)
    coordinator = f.text(coordinator, "coordinator", "Coordina", max_length=200)
    if rule == CompositionRule.PROPONENT_AND_ZONES and not proponent:
        f.fail("proponent", "Proponente: esta integración lo requiere.")
    if rule == CompositionRule.TWO_CONFERENCES and not counterpart:
        f.fail("counterpart", "Contraparte: escriba la otra conferencia.")
    f.check()
    with transaction.atomic():
        group = WorkingGroup.objects.create(
            agreement=agreement,
            name=name,
            purpose=purpose,
            rule=rule,
            proponent=proponent,
            proponent_state=state,
            counterpart=counterpart,
            coordinator=coordinator,
        )
        _revision(actor, "working_group", group, "created", f"Mesa creada: {name}")
    return group


def add_member(
    *,
    actor: User,
    group: WorkingGroup,
    name: Any,
    seat: Any,
    position: Any = "",
    state: Any = "",
    zone: Any = "",
    party: Any = "",
    joined_on: Any = "",
) -> GroupMember:
    """A new member, if the group's rule admits them (checked under the group's lock)."""
    access.require_secretariat(actor)
    f = Fields()
    name = f.text(name, "name", "Nombre", max_length=200)
    seat = f.choice(seat, "seat", "Lugar en la mesa", Seat)
    position = f.text(position, "position", "Cargo", max_length=200, required=False)
    found = f.state(state, "state", "Entidad", required=False)
    zone = f.choice(zone, "zone", "Zona", Zone, required=False)
    if found and not zone and seat == Seat.ZONE_REPRESENTATIVE:
        zone = found.zone
    if found and zone and found.zone != zone:
        f.fail("zone", f"Zona: {found.name} pertenece a la zona {Zone(found.zone).label}.")
    party = f.choice(party, "party", "Representa a", Party, required=False)
    joined = f.required_day(joined_on or timezone.localdate(), "joined_on", "Desde")
    f.check()
    with transaction.atomic():
        locked = WorkingGroup.objects.select_for_update().get(pk=group.pk)
        new = composition.Seat(name=name, seat=seat, zone=zone, party=party)
        problems = composition.admission_problems(
            locked.rule, locked.seats(), new, locked.counterpart
        )
        if problems:
            raise InvalidFields([("seat", p) for p in problems])
        member = GroupMember.objects.create(
            group=locked,
            name=name,
            seat=seat,
            position=position,
            state=found,
            zone=zone,
            party=party,
            joined_on=joined,
        )
        _revision(actor, "member", member, "joined", f"Integrante: {name}", group=locked)
        if locked.status == GroupStatus.FORMING and not locked.composition_problems():
            locked.status = GroupStatus.ACTIVE
            locked.save(update_fields=["status"])
            _revision(actor, "working_group", locked, "constituted", "Mesa integrada")
    return member


def end_membership(*, actor: User, member: GroupMember, left_on: Any) -> GroupMember:
    access.require_secretariat(actor)
    f = Fields()
    day = f.required_day(left_on, "left_on", "Hasta")
    if day > date.min and day < member.joined_on:
        f.fail("left_on", "Hasta: no puede ser anterior a su ingreso.")
    f.check()
    with transaction.atomic():
        locked = GroupMember.objects.select_for_update().get(pk=member.pk)
        if locked.left_on:
            raise InvalidFields([("left_on", f"{locked.name} ya había dejado la mesa.")])
        locked.left_on = day
        locked.save(update_fields=["left_on"])
        _revision(
            actor, "member", locked, "left", f"Deja la mesa: {locked.name}", group=locked.group
        )
    return locked


def add_liaison(
    *, actor: User, group: WorkingGroup, institution: Any, purpose: Any = ""
) -> Liaison:
    access.require_secretariat(actor)
    f = Fields()
    institution = f.text(institution, "institution", "Institución", max_length=200)
    purpose = f.text(purpose, "purpose", "Para qué", max_length=300, required=False)
    f.check()
    with transaction.atomic():
        item = Liaison.objects.create(group=group, institution=institution, purpose=purpose)
        _revision(actor, "liaison", item, "created", f"Enlace con {institution}", group=group)
    return item


def add_meeting(
    *,
    actor: User,
    group: WorkingGroup,
    held_on: Any,
    minutes: Any,
    place: Any = "",
    attendees: Any = "",
) -> Meeting:
    access.require_secretariat(actor)
    f = Fields()
    day = f.required_day(held_on, "held_on", "Fecha de la reunión")
    place = f.text(place, "place", "Lugar", max_length=200, required=False)
    attendees = f.text(attendees, "attendees", "Asistentes", max_length=4000, required=False)
    minutes = f.text(minutes, "minutes", "Minuta", max_length=20_000)
    f.check()
    with transaction.atomic():
        meeting = Meeting.objects.create(
            group=group, held_on=day, place=place, attendees=attendees, minutes=minutes
        )
        _revision(actor, "meeting", meeting, "created", f"Reunión del {day}", group=group)
    return meeting


def add_deliverable(
    *, actor: User, group: WorkingGroup, title: Any, description: Any = "", due_on: Any = ""
) -> Deliverable:
    access.require_secretariat(actor)
    f = Fields()
    title = f.text(title, "title", "Entregable", max_length=300)
    description = f.text(description, "description", "Descripción", max_length=4000, required=False)
    due = f.day(due_on, "due_on", "Fecha compromiso", required=False)
    f.check()
    with transaction.atomic():
        item = Deliverable.objects.create(
            group=group, title=title, description=description, due_on=due
        )
        _revision(actor, "deliverable", item, "created", f"Entregable: {title}", group=group)
    return item


def mark_delivered(*, actor: User, deliverable: Deliverable, delivered_on: Any) -> Deliverable:
    access.require_secretariat(actor)
    f = Fields()
    day = f.required_day(delivered_on, "delivered_on", "Entregado el")
    f.check()
    with transaction.atomic():
        locked = Deliverable.objects.select_for_update().get(pk=deliverable.pk)
        if locked.delivered_on:
            raise InvalidFields([("delivered_on", "Ese entregable ya estaba entregado.")])
        locked.delivered_on = day
        locked.save(update_fields=["delivered_on"])
        _revision(
            actor,
            "deliverable",
            locked,
            "delivered",
            f"Entregado: {locked.title}",
            group=locked.group,
        )
    return locked


def schedule_report(
    *, actor: User, group: WorkingGroup, session: Session | None, presented: bool = False
) -> WorkingGroup:
    """The plenary where the group presents its results; ``presented`` once it did."""
    access.require_secretariat(actor)
    if presented and session is None:
        raise InvalidFields([("report_session", "Elija la sesión en que se presentaron.")])
    if session is not None and session.held_on < group.agreement.session.held_on:
        raise InvalidFields(
            [("report_session", "La sesión debe ser posterior a la que creó la mesa.")]
        )
    with transaction.atomic():
        locked = WorkingGroup.objects.select_for_update().get(pk=group.pk)
        locked.report_session = session
        if presented:
            locked.status = GroupStatus.REPORTED
        locked.save(update_fields=["report_session", "status"])
        summary = (
            f"Resultados presentados en la {session}"
            if presented
            else f"Presentará resultados en la {session}"
            if session
            else "Sin sesión para presentar resultados"
        )
        _revision(actor, "working_group", locked, "report", summary)
    return locked


# Communiqués -------------------------------------------------------------------------------------


def draft_communique(
    *,
    actor: User,
    title: Any,
    body: Any = "",
    session: Session | None = None,
    agreement: Agreement | None = None,
    text_in_record: bool = True,
    note: Any = "",
) -> Communique:
    access.require_secretariat(actor)
    f = Fields()
    title = f.text(title, "title", "Título", max_length=300)
    body = f.text(body, "body", "Texto", max_length=20_000, required=text_in_record)
    note = f.text(note, "note", "Nota", max_length=300, required=False)
    if agreement is not None and session is not None and agreement.session_id != session.pk:
        f.fail("agreement", "El acuerdo no es de esa sesión.")
    f.check()
    with transaction.atomic():
        item = Communique.objects.create(
            session=session or (agreement.session if agreement else None),
            agreement=agreement,
            title=title,
            body=body,
            text_in_record=text_in_record,
            note=note,
        )
        _revision(
            actor,
            "communique",
            item,
            "drafted",
            f"Comunicado en borrador: {title}",
            agreement=agreement,
        )
    return item


def revise_communique(
    *,
    actor: User,
    communique: Communique,
    title: Any,
    body: Any = "",
    text_in_record: bool = True,
    note: Any = "",
) -> Communique:
    """Change a draft's wording (an approved communiqué is not edited: draft another)."""
    access.require_secretariat(actor)
    f = Fields()
    title = f.text(title, "title", "Título", max_length=300)
    body = f.text(body, "body", "Texto", max_length=20_000, required=text_in_record)
    note = f.text(note, "note", "Nota", max_length=300, required=False)
    f.check()
    with transaction.atomic():
        locked = Communique.objects.select_for_update().get(pk=communique.pk)
        if locked.status != CommuniqueStatus.DRAFT:
            raise InvalidFields([("status", "Sólo se corrige un comunicado en borrador.")])
        if (locked.title, locked.body, locked.text_in_record, locked.note) == (
            title,
            body,
            text_in_record,
            note,
        ):
            return locked
        locked.title, locked.body, locked.text_in_record, locked.note = (
            title,
            body,
            text_in_record,
            note,
        )
        locked.save(update_fields=["title", "body", "text_in_record", "note"])
        _revision(
            actor,
            "communique",
            locked,
            "revised",
            f"Borrador corregido: {title}",
            agreement=locked.agreement,
        )
    return locked


def approve_communique(*, actor: User, communique: Communique, approved_on: Any) -> Communique:
    access.require_secretariat(actor)
    f = Fields()
    day = f.required_day(approved_on, "approved_on", "Fecha de aprobación")
    f.check()
    with transaction.atomic():
        locked = Communique.objects.select_for_update().get(pk=communique.pk)
        if locked.status != CommuniqueStatus.DRAFT:
            raise InvalidFields([("status", "Sólo se aprueba un comunicado en borrador.")])
        locked.status, locked.approved_on = CommuniqueStatus.APPROVED, day
        locked.save(update_fields=["status", "approved_on"])
        _revision(
            actor,
            "communique",
            locked,
            "approved",
            f"Comunicado aprobado: {locked.title}",
            agreement=locked.agreement,
        )
    return locked


def publish_communique(*, actor: User, communique: Communique) -> Communique:
    access.require_secretariat(actor)
    with transaction.atomic():
        locked = Communique.objects.select_for_update().get(pk=communique.pk)
        if locked.status != CommuniqueStatus.APPROVED:
            raise InvalidFields([("status", "Sólo se publica un comunicado aprobado.")])
        locked.status, locked.published_at = CommuniqueStatus.PUBLISHED, timezone.now()
        locked.save(update_fields=["status", "published_at"])
        _revision(
            actor,
            "communique",
            locked,
            "published",
            f"Comunicado publicado: {locked.title}",
            agreement=locked.agreement,
        )
    return locked


# The history -------------------------------------------------------------------------------------


def _revision(
    actor: User,
    record: str,
    obj: Any,
    action: str,
    summary: str,
    *,
    agreement: Agreement | None = None,
    group: WorkingGroup | None = None,
) -> None:
    """One leaf per change, holding the record's state after it (documents.py)."""
    _, document_of = documents.KINDS[record]
    if agreement is None:
        agreement = (
            obj
            if isinstance(obj, Agreement)
            else getattr(obj, "agreement", None)
            if isinstance(obj, Commitment | Communique | WorkingGroup)
            else None
        )
    if group is None and isinstance(obj, WorkingGroup):
        group = obj
    session = obj if isinstance(obj, Session) else agreement.session if agreement else None
    evidence.record(
        record=record,
        record_id=obj.pk,
        action=action,
        summary=summary,
        actor=actor,
        data=document_of(obj),
        agreement=agreement,
        session=session,
        group=group,
    )
