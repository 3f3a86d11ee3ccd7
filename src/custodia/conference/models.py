"""The Conference's own machinery (issue 8): plenary sessions and their agenda, agreements and
the commitments they contain, follow-up, working groups, communiqués.

Sessions, agreements, commitments, groups and communiqués are ordinary rows whose every change
the services record as a ``Revision``, a leaf of the ledger (DESIGN.md §5). Follow-ups, their
evidence files and revisions are append-only (database triggers).
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models

from custodia.core.models import Institution, State, Zone

from . import composition, ordinals


class SessionKind(models.TextChoices):
    ORDINARY = "ordinary", "Ordinaria"
    EXTRAORDINARY = "extraordinary", "Extraordinaria"


class Session(models.Model):
    """A plenary session ("asamblea plenaria") of the CNSSP."""

    number = models.PositiveSmallIntegerField("número")
    kind = models.CharField(
        "tipo", max_length=16, choices=SessionKind.choices, default=SessionKind.ORDINARY
    )
    held_on = models.DateField("fecha")
    place = models.CharField("lugar", max_length=200, blank=True)
    agenda_approved_on = models.DateField("orden del día aprobado el", null=True, blank=True)
    agenda_approved_by = models.ForeignKey(
        "Agreement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="acuerdo que aprobó el orden del día",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "number"], name="session_kind_number")
        ]
        verbose_name = "sesión plenaria"
        verbose_name_plural = "sesiones plenarias"

    def __str__(self) -> str:
        return self.title

    @property
    def ordinal(self) -> str:
        return ordinals.roman(self.number)

    @property
    def title(self) -> str:
        extra = " Extraordinaria" if self.kind == SessionKind.EXTRAORDINARY else ""
        return f"{self.ordinal} Asamblea Plenaria{extra}"


class AgendaItem(models.Model):
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="agenda")
    position = models.PositiveSmallIntegerField("punto")
    title = models.CharField("asunto", max_length=300)
    presenter = models.CharField("presenta", max_length=200, blank=True)

    class Meta:
        ordering = ["session", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "position"], name="agenda_position")
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


class AttendanceMode(models.TextChoices):
    IN_PERSON = "in_person", "Presencial"
    REMOTE = "remote", "A distancia"
    REPRESENTED = "represented", "Por representante"
    ABSENT = "absent", "Ausente"


class Attendance(models.Model):
    """Who sat for a state at a session (one row per state and session)."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="attendance")
    state = models.ForeignKey(State, on_delete=models.PROTECT, related_name="+")
    mode = models.CharField("asistencia", max_length=12, choices=AttendanceMode.choices)
    attendee = models.CharField("asistente", max_length=200, blank=True)
    position = models.CharField("cargo", max_length=200, blank=True)

    class Meta:
        ordering = ["session", "state"]
        constraints = [
            models.UniqueConstraint(fields=["session", "state"], name="attendance_session_state")
        ]

    def __str__(self) -> str:
        return f"{self.state_id} {self.mode}"


class Instrument(models.TextChoices):
    """What an agreement concerns: the instruments Custodia implements and the Conference's own
    business."""

    AGENDA = "agenda", "Orden del día"
    COMMUNIQUE = "communique", "Comunicado"
    RND = "rnd", "Registro Nacional de Detenciones"
    PROXIMITY = "proximity", "Modelo Nacional de Policía de Proximidad"
    CIVIC_JUSTICE = "civic_justice", "Modelo Nacional de Policía y Justicia Cívica"
    USE_OF_FORCE = "use_of_force", "Protocolo para el uso legítimo de la fuerza"
    CUP = "cup", "Certificado Único Policial"


class Agreement(models.Model):
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="agreements")
    number = models.PositiveSmallIntegerField("número")
    code = models.CharField("clave", max_length=40, unique=True)
    title = models.CharField("título", max_length=300)
    text = models.TextField("texto")
    public = models.BooleanField("público", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session", "number"]
        constraints = [
            models.UniqueConstraint(fields=["session", "number"], name="agreement_session_number")
        ]
        verbose_name = "acuerdo"
        verbose_name_plural = "acuerdos"

    def __str__(self) -> str:
        return f"{self.ordinal}. {self.title}"

    @property
    def ordinal(self) -> str:
        return ordinals.ordinal_word(self.number)

    def instrument_codes(self) -> list[str]:
        return [i.instrument for i in self.instruments.all()]

    def instrument_labels(self) -> list[str]:
        return [Instrument(code).label for code in self.instrument_codes()]


def agreement_code(number: int, session: Session) -> str:
    """The Conference's numbering, as the CNSP's ("03/XLIV/19"): agreement/session/year."""
    prefix = "E" if session.kind == SessionKind.EXTRAORDINARY else ""
    return f"{number:02d}/{prefix}{session.ordinal}/{session.held_on:%y}"


class AgreementInstrument(models.Model):
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="instruments")
    instrument = models.CharField("instrumento", max_length=16, choices=Instrument.choices)

    class Meta:
        ordering = ["agreement", "instrument"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "instrument"], name="agreement_instrument_once"
            )
        ]

    def __str__(self) -> str:
        return self.instrument


class OwnerKind(models.TextChoices):
    SECRETARIAT = "secretariat", "Secretaría Técnica"
    CONFERENCE = "conference", "Pleno de la Conferencia (todas las entidades)"
    STATE = "state", "Una entidad federativa"
    ZONE = "zone", "Una zona"
    INSTITUTION = "institution", "Una institución registrada en Custodia"
    OUTSIDE = "outside", "Otra institución"


class CommitmentStatus(models.TextChoices):
    PENDING = "pending", "Pendiente"
    IN_PROGRESS = "in_progress", "En proceso"
    DONE = "done", "Cumplido"
    CANCELLED = "cancelled", "Cancelado"


OPEN_STATUSES = (CommitmentStatus.PENDING, CommitmentStatus.IN_PROGRESS)


class Tracking(models.TextChoices):
    """Follow-up that Custodia can show from its own data, beside the entries people write."""

    NONE = "", "Sólo el seguimiento capturado"
    MONTHLY_REPORT = "monthly_report", "Informe mensual del RND por entidad"


class Commitment(models.Model):
    """Who must do what by when, as an agreement says."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="commitments")
    position = models.PositiveSmallIntegerField("número")
    description = models.TextField("compromiso")
    owner_kind = models.CharField("responsable", max_length=12, choices=OwnerKind.choices)
    owner_state = models.ForeignKey(
        State, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    owner_zone = models.CharField(max_length=12, choices=Zone.choices, blank=True)
    owner_institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    owner_name = models.CharField("otra institución", max_length=200, blank=True)
    due_on = models.DateField("fecha compromiso", null=True, blank=True)
    status = models.CharField(
        "estado", max_length=12, choices=CommitmentStatus.choices, default=CommitmentStatus.PENDING
    )
    tracking = models.CharField(
        "seguimiento automático", max_length=16, choices=Tracking.choices, blank=True
    )
    link = models.CharField("página de Custodia", max_length=300, blank=True)
    working_group = models.ForeignKey(
        "WorkingGroup", on_delete=models.PROTECT, null=True, blank=True, related_name="commitments"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["agreement", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "position"], name="commitment_agreement_position"
            )
        ]
        verbose_name = "compromiso"
        verbose_name_plural = "compromisos"

    def __str__(self) -> str:
        return f"{self.agreement.code} · {self.position}"

    @property
    def owner_label(self) -> str:
        if self.owner_kind == OwnerKind.STATE and self.owner_state:
            return self.owner_state.name
        if self.owner_kind == OwnerKind.ZONE and self.owner_zone:
            return f"Zona {Zone(self.owner_zone).label}"
        if self.owner_kind == OwnerKind.INSTITUTION and self.owner_institution:
            return self.owner_institution.name
        if self.owner_kind == OwnerKind.OUTSIDE:
            return self.owner_name
        return OwnerKind(self.owner_kind).label

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def overdue_on(self, today: date) -> bool:
        return self.is_open and self.due_on is not None and self.due_on < today


class FollowUp(models.Model):
    """One entry of progress on a commitment. Append-only: a mistake is corrected by a new
    entry."""

    commitment = models.ForeignKey(Commitment, on_delete=models.PROTECT, related_name="follow_ups")
    reported_on = models.DateField("fecha")
    progress = models.TextField("avance")
    status = models.CharField(
        "estado tras el avance", max_length=12, choices=CommitmentStatus.choices, blank=True
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["commitment", "reported_on", "id"]
        verbose_name = "seguimiento"
        verbose_name_plural = "seguimientos"

    def __str__(self) -> str:
        return f"{self.commitment} {self.reported_on}"


class EvidenceFile(models.Model):
    """A file attached to a follow-up, kept in the database with its SHA-256 (which the
    follow-up's ledger leaf commits to). Append-only."""

    follow_up = models.ForeignKey(FollowUp, on_delete=models.PROTECT, related_name="files")
    name = models.CharField("nombre", max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()

    class Meta:
        ordering = ["follow_up", "id"]

    def __str__(self) -> str:
        return self.name


class CompositionRule(models.TextChoices):
    PROPONENT_AND_ZONES = (
        composition.PROPONENT_AND_ZONES,
        "El proponente y un representante por zona",
    )
    TWO_CONFERENCES = composition.TWO_CONFERENCES, "Integrantes de las dos conferencias"
    OPEN = composition.OPEN, "Libre"


class GroupStatus(models.TextChoices):
    FORMING = "forming", "En integración"
    ACTIVE = "active", "En funciones"
    REPORTED = "reported", "Resultados presentados al Pleno"
    CLOSED = "closed", "Concluida"


class WorkingGroup(models.Model):
    """A "mesa de trabajo" created by an agreement."""

    name = models.CharField("nombre", max_length=200)
    purpose = models.TextField("objeto")
    agreement = models.ForeignKey(
        Agreement, on_delete=models.PROTECT, related_name="working_groups"
    )
    proponent = models.CharField("proponente", max_length=200, blank=True)
    proponent_state = models.ForeignKey(
        State, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rule = models.CharField(
        "integración", max_length=20, choices=CompositionRule.choices, default=CompositionRule.OPEN
    )
    counterpart = models.CharField(
        "contraparte", max_length=200, blank=True, help_text="La otra conferencia, si la hay."
    )
    coordinator = models.CharField("coordina", max_length=200, default="Secretaría Técnica")
    status = models.CharField(
        "estado", max_length=12, choices=GroupStatus.choices, default=GroupStatus.FORMING
    )
    report_session = models.ForeignKey(
        Session,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports_from_groups",
        verbose_name="sesión en que presenta resultados",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agreement", "id"]
        verbose_name = "mesa de trabajo"
        verbose_name_plural = "mesas de trabajo"

    def __str__(self) -> str:
        return self.name

    def current_members(self) -> list[GroupMember]:
        return [m for m in self.members.all() if m.left_on is None]

    def seats(self) -> list[composition.Seat]:
        return [m.as_seat() for m in self.current_members()]

    def composition_problems(self) -> list[str]:
        return composition.composition_problems(self.rule, self.seats(), self.counterpart)


class Seat(models.TextChoices):
    PROPONENT = "proponent", "Proponente"
    ZONE_REPRESENTATIVE = "zone_representative", "Representante de zona"
    MEMBER = "member", "Integrante"


class Party(models.TextChoices):
    NONE = "", "—"
    OWN = "own", "Conferencia Nacional de Secretarios de Seguridad Pública"
    COUNTERPART = "counterpart", "La otra conferencia"


class GroupMember(models.Model):
    group = models.ForeignKey(WorkingGroup, on_delete=models.PROTECT, related_name="members")
    name = models.CharField("nombre", max_length=200)
    position = models.CharField("cargo", max_length=200, blank=True)
    state = models.ForeignKey(
        State, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    seat = models.CharField("lugar", max_length=20, choices=Seat.choices)
    zone = models.CharField("zona", max_length=12, choices=Zone.choices, blank=True)
    party = models.CharField("representa a", max_length=12, choices=Party.choices, blank=True)
    joined_on = models.DateField("desde")
    left_on = models.DateField("hasta", null=True, blank=True)

    class Meta:
        ordering = ["group", "seat", "zone", "id"]

    def __str__(self) -> str:
        return self.name

    def as_seat(self) -> composition.Seat:
        return composition.Seat(name=self.name, seat=self.seat, zone=self.zone, party=self.party)


class Liaison(models.Model):
    """An institution the Secretariat liaises with for a group's work."""

    group = models.ForeignKey(WorkingGroup, on_delete=models.PROTECT, related_name="liaisons")
    institution = models.CharField("institución", max_length=200)
    purpose = models.CharField("para qué", max_length=300, blank=True)

    class Meta:
        ordering = ["group", "id"]

    def __str__(self) -> str:
        return self.institution


class Meeting(models.Model):
    group = models.ForeignKey(WorkingGroup, on_delete=models.PROTECT, related_name="meetings")
    held_on = models.DateField("fecha")
    place = models.CharField("lugar", max_length=200, blank=True)
    attendees = models.TextField("asistentes", blank=True)
    minutes = models.TextField("minuta")

    class Meta:
        ordering = ["group", "held_on", "id"]

    def __str__(self) -> str:
        return f"{self.group} {self.held_on}"


class Deliverable(models.Model):
    group = models.ForeignKey(WorkingGroup, on_delete=models.PROTECT, related_name="deliverables")
    title = models.CharField("entregable", max_length=300)
    description = models.TextField("descripción", blank=True)
    due_on = models.DateField("fecha compromiso", null=True, blank=True)
    delivered_on = models.DateField("entregado el", null=True, blank=True)

    class Meta:
        ordering = ["group", "id"]

    def __str__(self) -> str:
        return self.title


class CommuniqueStatus(models.TextChoices):
    DRAFT = "draft", "Borrador"
    APPROVED = "approved", "Aprobado"
    PUBLISHED = "published", "Publicado"


class Communique(models.Model):
    session = models.ForeignKey(
        Session, on_delete=models.PROTECT, null=True, blank=True, related_name="communiques"
    )
    agreement = models.ForeignKey(
        Agreement, on_delete=models.PROTECT, null=True, blank=True, related_name="communiques"
    )
    title = models.CharField("título", max_length=300)
    body = models.TextField("texto", blank=True)
    # The seed's communiqué is "anexo al presente documento", but its text is not in the record.
    text_in_record = models.BooleanField("el texto consta en el acta", default=True)
    note = models.CharField("nota", max_length=300, blank=True)
    status = models.CharField(
        "estado", max_length=10, choices=CommuniqueStatus.choices, default=CommuniqueStatus.DRAFT
    )
    approved_on = models.DateField("aprobado el", null=True, blank=True)
    published_at = models.DateTimeField("publicado", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "comunicado"
        verbose_name_plural = "comunicados"

    def __str__(self) -> str:
        return self.title


class Revision(models.Model):
    """One change to a Conference record, as committed to the ledger: ``document`` is what the
    leaf at ``leaf_index`` commits to (with the leaf's salt). Append-only."""

    record = models.CharField(max_length=20)  # "agreement", "commitment", "follow_up"…
    record_id = models.BigIntegerField()
    action = models.CharField(max_length=40)
    summary = models.CharField("cambio", max_length=300)
    agreement = models.ForeignKey(
        Agreement, on_delete=models.PROTECT, null=True, blank=True, related_name="revisions"
    )
    session = models.ForeignKey(
        Session, on_delete=models.PROTECT, null=True, blank=True, related_name="revisions"
    )
    group = models.ForeignKey(
        WorkingGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="revisions"
    )
    document = models.JSONField()
    leaf_index = models.BigIntegerField(unique=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["record", "record_id"], name="revision_record")]

    def __str__(self) -> str:
        return f"{self.record}:{self.record_id} {self.action}"
