"""Catalogs (states, municipalities), institutions, users, API tokens, the access log."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractUser
from django.db import models


class Zone(models.TextChoices):
    """The CNSSP's five regional zones (DESIGN.md §1)."""

    NOROESTE = "noroeste", "Noroeste"
    NORESTE = "noreste", "Noreste"
    OCCIDENTE = "occidente", "Occidente"
    CENTRO = "centro", "Centro"
    SURESTE = "sureste", "Sureste"


class State(models.Model):
    code = models.CharField("clave INEGI", max_length=2, primary_key=True)
    name = models.CharField("nombre", max_length=80)
    abbreviation = models.CharField("abreviatura", max_length=10)
    zone = models.CharField("zona CNSSP", max_length=12, choices=Zone.choices)
    timezone = models.CharField("zona horaria (IANA)", max_length=64)

    class Meta:
        ordering = ["code"]
        verbose_name = "entidad federativa"
        verbose_name_plural = "entidades federativas"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Municipality(models.Model):
    code = models.CharField("clave INEGI", max_length=5, primary_key=True)
    state = models.ForeignKey(State, on_delete=models.PROTECT, related_name="municipalities")
    name = models.CharField("nombre", max_length=120)
    is_capital = models.BooleanField("capital del estado", default=False)
    timezone = models.CharField(
        "zona horaria (IANA)",
        max_length=64,
        blank=True,
        help_text="Vacío: la del estado. Sólo donde el municipio difiere (franja fronteriza…).",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = "municipio"
        verbose_name_plural = "municipios"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def effective_timezone(self) -> str:
        return self.timezone or self.state.timezone


class InstitutionKind(models.TextChoices):
    POLICE_MUNICIPAL = "police_municipal", "Policía municipal"
    POLICE_STATE = "police_state", "Policía estatal"
    POLICE_FEDERAL = "police_federal", "Policía federal"
    NATIONAL_GUARD = "national_guard", "Guardia Nacional"
    PUBLIC_PROSECUTOR = "public_prosecutor", "Fiscalía / Ministerio Público"
    CIVIC_JUDGE = "civic_judge", "Juzgado cívico"
    PRISON = "prison", "Centro penitenciario"
    ADOLESCENT_JUSTICE = "adolescent_justice", "Justicia para adolescentes"
    MIGRATION = "migration", "Autoridad migratoria"
    SECRETARIAT = "secretariat", "Secretaría Técnica"
    HUMAN_RIGHTS = "human_rights", "Organismo de derechos humanos"


POLICE_KINDS = frozenset(
    {
        InstitutionKind.POLICE_MUNICIPAL,
        InstitutionKind.POLICE_STATE,
        InstitutionKind.POLICE_FEDERAL,
        InstitutionKind.NATIONAL_GUARD,
    }
)
RECEIVING_KINDS = frozenset(
    {
        InstitutionKind.PUBLIC_PROSECUTOR,
        InstitutionKind.CIVIC_JUDGE,
        InstitutionKind.PRISON,
        InstitutionKind.ADOLESCENT_JUSTICE,
        InstitutionKind.MIGRATION,
    }
)


NATIONAL_TIMEZONE = "America/Mexico_City"  # where the days of national institutions begin


def first_operating_day(since: date | None, created_at: datetime, zone: str) -> date:
    """The day an institution began operating: its stated date, or else the day it was
    registered here (in its own time zone)."""
    return since or created_at.astimezone(ZoneInfo(zone)).date()


class Institution(models.Model):
    code = models.SlugField("clave", max_length=40, unique=True)
    name = models.CharField("nombre", max_length=200)
    kind = models.CharField("tipo", max_length=24, choices=InstitutionKind.choices)
    state = models.ForeignKey(
        State,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="institutions",
        help_text="Vacío sólo para instituciones de alcance nacional.",
    )
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    active = models.BooleanField("activa", default=True)
    created_at = models.DateTimeField("alta", auto_now_add=True)
    # The days the institution operated, for the monthly report's expected reporters (issue 6):
    # it is expected to capture or file a zero report only on these days. Empty "since" means
    # from the day it was registered here; empty "until" means it still operates.
    operating_since = models.DateField("en operación desde", null=True, blank=True)
    operating_until = models.DateField("en operación hasta", null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "institución"
        verbose_name_plural = "instituciones"

    def __str__(self) -> str:
        return self.name

    @property
    def is_police(self) -> bool:
        return self.kind in POLICE_KINDS

    @property
    def timezone(self) -> str:
        """Where its days begin and end: its state's time zone (national bodies: Mexico City)."""
        return self.state.timezone if self.state else NATIONAL_TIMEZONE

    def first_operating_day(self) -> date:
        return first_operating_day(self.operating_since, self.created_at, self.timezone)

    def operated_on(self, day: date) -> bool:
        return self.first_operating_day() <= day and (
            self.operating_until is None or day <= self.operating_until
        )


class Role(models.TextChoices):
    CAPTURE = "capture", "Captura (policía)"
    SUPERVISOR = "supervisor", "Supervisión"
    RECEIVING = "receiving", "Autoridad receptora"
    STATE_ANALYST = "state_analyst", "Análisis estatal"
    NATIONAL_ANALYST = "national_analyst", "Análisis nacional (Secretaría Técnica)"
    AUDITOR = "auditor", "Auditoría (derechos humanos)"
    ADMIN = "admin", "Administración"


class User(AbstractUser):
    """A person with exactly one role in exactly one institution."""

    role = models.CharField("rol", max_length=20, choices=Role.choices, default=Role.CAPTURE)
    institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name="institución",
    )

    class Meta:
        verbose_name = "usuario"
        verbose_name_plural = "usuarios"


TOKEN_PREFIX = "cst_"  # noqa: S105 - a public marker, not a secret


def hash_token(raw: str) -> str:
    """Tokens carry 256 bits of randomness, so a plain SHA-256 is a safe, fast lookup key."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("nombre", max_length=100, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField("inicio del token", max_length=12, editable=False)
    created_at = models.DateTimeField("creado", auto_now_add=True)
    last_used_at = models.DateTimeField("último uso", null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField("revocado", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "token de API"
        verbose_name_plural = "tokens de API"

    def __str__(self) -> str:
        return f"{self.hint}… ({self.user})"

    @classmethod
    def issue(cls, user: User, name: str = "") -> tuple[ApiToken, str]:
        """Create a token and return it with its raw value, which is never stored."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name, token_hash=hash_token(raw), hint=raw[: len(TOKEN_PREFIX) + 6]
        )
        return token, raw


class Channel(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    CLI = "cli", "Línea de comandos"
    EMAIL = "email", "Correo electrónico"


class AccessLog(models.Model):
    """Who read or wrote whose record, when and through what. Append-only (database triggers)."""

    at = models.DateTimeField("fecha", auto_now_add=True, db_index=True)
    user = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    username = models.CharField("usuario", max_length=150, blank=True)
    role = models.CharField("rol", max_length=20, blank=True)
    institution_code = models.CharField("institución", max_length=40, blank=True)
    channel = models.CharField("canal", max_length=8, choices=Channel.choices)
    action = models.CharField("acción", max_length=40)
    folio = models.CharField("folio", max_length=32, blank=True, db_index=True)
    purpose = models.CharField("propósito", max_length=300, blank=True)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "registro de acceso"
        verbose_name_plural = "bitácora de accesos"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.folio}"


class IdempotencyRecord(models.Model):
    """The first answer to a write sent with an ``Idempotency-Key`` (API.md, Conventions)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
