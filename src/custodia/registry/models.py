"""Detentions, the people detained, the officers, and the append-only custody events.

A detention's history is its custody events (DESIGN.md §2). The columns on ``Detention`` under
"current state" are a projection of those events, kept here so that lists are one indexed query.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from custodia.core.models import Institution, Municipality, State


class Status(models.TextChoices):
    IN_POLICE_CUSTODY = "in_police_custody", "Bajo custodia policial"
    WITH_PROSECUTOR = "with_prosecutor", "A disposición del Ministerio Público"
    WITH_CIVIC_JUDGE = "with_civic_judge", "A disposición del juez cívico"
    WITH_ADOLESCENT_JUSTICE = "with_adolescent_justice", "Con la autoridad para adolescentes"
    WITH_CHILD_PROTECTION = "with_child_protection", "Con la Procuraduría de Protección"
    WITH_MIGRATION = "with_migration", "Con la autoridad migratoria"
    WITH_OTHER = "with_other_authority", "Con otra autoridad"
    BEFORE_JUDGE = "before_judge", "A disposición del juez"
    IN_PRISON = "in_prison", "En centro penitenciario"
    RELEASED = "released", "En libertad"
    ESCAPED = "escaped", "Evadida"
    DECEASED = "deceased", "Fallecida bajo custodia"


CLOSED_STATUSES = frozenset({Status.RELEASED, Status.DECEASED})


class ArrestBasis(models.TextChoices):
    WARRANT = "warrant", "Orden de aprehensión"
    FLAGRANTE = "flagrante", "Flagrancia"
    URGENT_CASE = "urgent_case", "Caso urgente"
    ADMINISTRATIVE = "administrative", "Arresto administrativo"


class Sex(models.TextChoices):
    MALE = "male", "Hombre"
    FEMALE = "female", "Mujer"
    OTHER = "other", "Otro"
    UNKNOWN = "unknown", "No determinado"


class Detention(models.Model):
    folio = models.CharField("folio", max_length=20, unique=True)
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="detentions", verbose_name="institución"
    )
    # No index of its own: "detention_state_time" (Meta) starts with the state. An index on the
    # state alone was also a candidate for the foreign-key checks of the detention's rows
    # (detention, state), and a connection that planned them on a new, unanalyzed table chose
    # it and read every detention of the state for each row (issue 7: two import processes
    # slowed to a tenth within a minute).
    state = models.ForeignKey(State, on_delete=models.PROTECT, related_name="+", db_index=False)
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    address = models.CharField("domicilio", max_length=300, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    place_timezone = models.CharField(max_length=64)
    detained_at = models.DateTimeField("detención")
    registered_at = models.DateTimeField("registro")
    arrest_basis = models.CharField("fundamento", max_length=16, choices=ArrestBasis.choices)
    reason = models.TextField("motivo")
    receiving_kind = models.CharField("tipo de autoridad receptora", max_length=24)
    receiving_name = models.CharField("autoridad receptora", max_length=120)
    receiving_institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    contact_name = models.CharField(max_length=120, blank=True)
    contact_relationship = models.CharField(max_length=60, blank=True)
    contact_phone = models.CharField(max_length=30, blank=True)
    force_used = models.BooleanField(default=False)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    warning_codes = models.JSONField(default=list, blank=True)

    # Current state: a projection of the custody events.
    status = models.CharField("situación", max_length=24, choices=Status.choices)
    current_authority = models.CharField("autoridad a cargo", max_length=120)
    current_institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="+", null=True
    )
    current_location = models.CharField("lugar", max_length=300, blank=True)
    legal_status = models.CharField("situación jurídica", max_length=40, blank=True)
    last_event_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)
    # "child", "adolescent", "adult" or "": what the clocks need of the age, without the age.
    age_group = models.CharField(max_length=12, blank=True)
    # The whole projection (custody.State as JSON): instants the legal clocks start from.
    custody_state = models.JSONField(default=dict)

    class Meta:
        ordering = ["-detained_at", "-id"]
        verbose_name = "detención"
        verbose_name_plural = "detenciones"
        indexes = [
            models.Index(fields=["state", "-detained_at"], name="detention_state_time"),
            models.Index(fields=["institution", "-detained_at"], name="detention_inst_time"),
            models.Index(fields=["status", "-detained_at"], name="detention_status_time"),
            models.Index(fields=["receiving_institution", "-detained_at"], name="detention_recv"),
            models.Index(fields=["current_institution", "-detained_at"], name="detention_curr"),
        ]

    def __str__(self) -> str:
        return self.folio

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_STATUSES


def copied_state() -> models.ForeignKey[State, State]:
    """The detention's state on a row that belongs to a detention, copied when the row is
    written (a detention never changes state): the key a distributed database shards by
    (docs/citus.md). On PostgreSQL the row's foreign key to its detention is the pair
    (detention, state), so the copy cannot differ from the detention's (registry 0007)."""
    return models.ForeignKey(
        State, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )


class DetentionHolder(models.Model):
    """Every institution that has held the person or was named to receive them: who may keep
    reading the record after the person has moved on."""

    detention = models.ForeignKey(Detention, on_delete=models.PROTECT, related_name="holders")
    state = copied_state()
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    since = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["detention", "institution"], name="holder_unique")
        ]
        indexes = [models.Index(fields=["institution", "detention"], name="holder_institution")]

    def __str__(self) -> str:
        return f"{self.detention_id}:{self.institution_id}"


class DetainedPerson(models.Model):
    detention = models.OneToOneField(Detention, on_delete=models.PROTECT, related_name="person")
    state = copied_state()
    given_names = models.CharField("nombre(s)", max_length=120)
    first_surname = models.CharField("primer apellido", max_length=120)
    second_surname = models.CharField("segundo apellido", max_length=120, blank=True)
    alias = models.CharField("alias", max_length=120, blank=True)
    sex = models.CharField("sexo", max_length=8, choices=Sex.choices)
    age = models.PositiveSmallIntegerField("edad", null=True, blank=True)
    birth_date = models.DateField("fecha de nacimiento", null=True, blank=True)
    curp = models.CharField("CURP", max_length=18, blank=True, db_index=True)
    nationality = models.CharField("nacionalidad", max_length=60, blank=True)
    physical_condition = models.TextField("estado físico aparente y lesiones", blank=True)
    distinguishing_marks = models.TextField("señas particulares", blank=True)

    class Meta:
        verbose_name = "persona detenida"
        verbose_name_plural = "personas detenidas"

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.given_names, self.first_surname, self.second_surname) if p)


class Officer(models.Model):
    detention = models.ForeignKey(Detention, on_delete=models.PROTECT, related_name="officers")
    state = copied_state()
    position = models.PositiveSmallIntegerField()
    name = models.CharField("nombre", max_length=120)
    rank = models.CharField("cargo o grado", max_length=60, blank=True)
    unit = models.CharField("unidad", max_length=120, blank=True)
    cuip = models.CharField("CUIP", max_length=60, blank=True)

    class Meta:
        ordering = ["position"]
        verbose_name = "elemento aprehensor"
        verbose_name_plural = "elementos aprehensores"
        constraints = [
            models.UniqueConstraint(fields=["detention", "position"], name="officer_position")
        ]

    def __str__(self) -> str:
        return self.name


class EventKind(models.TextChoices):
    REGISTERED = "registered", "Registro de la detención"
    HANDED_OVER = "handed_over", "Puesta a disposición"
    TRANSFERRED = "transferred", "Traslado"
    LEGAL_STATUS_CHANGED = "legal_status_changed", "Cambio de situación jurídica"
    PRESENTED_TO_JUDGE = "presented_to_judge", "Presentación ante el juez"
    ADMITTED_TO_PRISON = "admitted_to_prison", "Ingreso a centro penitenciario"
    RELEASED = "released", "Libertad"
    ESCAPED = "escaped", "Evasión"
    RECAPTURED = "recaptured", "Recaptura"
    DIED_IN_CUSTODY = "died_in_custody", "Fallecimiento bajo custodia"
    CORRECTED = "corrected", "Corrección"
    NOTE = "note", "Nota"
    REDACTED = "redacted", "Supresión de datos personales"


class CustodyEvent(models.Model):
    """One thing that happened to a detained person. Append-only: the database refuses
    UPDATE and DELETE (see the migration that installs the triggers)."""

    detention = models.ForeignKey(Detention, on_delete=models.PROTECT, related_name="events")
    state = copied_state()
    sequence = models.PositiveIntegerField()
    kind = models.CharField(max_length=24, choices=EventKind.choices)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    local_zone = models.CharField(max_length=64)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["detention", "sequence"]
        verbose_name = "movimiento"
        verbose_name_plural = "movimientos"
        constraints = [
            models.UniqueConstraint(fields=["detention", "sequence"], name="event_sequence")
        ]

    def __str__(self) -> str:
        return f"{self.detention_id}#{self.sequence} {self.kind}"


class SourceRecord(models.Model):
    """A detention imported from a state's own system, under that system's identifier (issue
    7). The key of the import's idempotency: one external id per institution. Append-only.

    No personal data here: ``digest`` is a salted hash of the imported row, enough to tell a
    resend of the same record from a different one under the same id."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    external_id = models.CharField("identificador externo", max_length=100)
    detention = models.OneToOneField(
        Detention, on_delete=models.PROTECT, related_name="source_record"
    )
    state = copied_state()
    salt = models.CharField(max_length=32)
    digest = models.CharField(max_length=64)
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "registro importado"
        verbose_name_plural = "registros importados"
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "external_id"], name="source_record_external_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.institution_id}:{self.external_id}"
