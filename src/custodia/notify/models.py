"""Subscriptions and the transactional outbox (STYLE.md: healthchecks' Flip + sendalerts).

A custody change writes an ``OutboxMessage`` in the same transaction as the event; a new clock
breach is written by ``custodia notify`` when it first sees it. The worker fans each message out
to the matching subscriptions as ``Delivery`` rows (one per message and subscriber, unique) and
delivers them with retries and backoff.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models

from custodia.core.models import Institution, State


class Topic(models.TextChoices):
    CUSTODY_CHANGED = "custody.changed", "Cambios de custodia"
    CLOCK_BREACHED = "clock.breached", "Plazos legales vencidos"
    ALERT_CONFIRM = "alert.confirm", "Confirmación de una alerta por nombre"
    REPORT_MONTHLY = "report.monthly", "Informe mensual para los analistas de una entidad"


class Scope(models.TextChoices):
    OWN = "own", "Detenciones de mi institución (registradas, recibidas o bajo su custodia)"
    STATE = "state", "Todas las detenciones de una entidad"
    NATIONAL = "national", "Todas las detenciones del país"


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Correo electrónico"
    WEBHOOK = "webhook", "Webhook firmado (HMAC-SHA256)"


def new_secret() -> str:
    return secrets.token_hex(32)


class Subscription(models.Model):
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="subscriptions"
    )
    channel = models.CharField("canal", max_length=8, choices=ChannelKind.choices)
    target = models.CharField("destino", max_length=500, help_text="Correo o URL https://…")
    secret = models.CharField(max_length=64, default=new_secret, editable=False)
    custody_changes = models.BooleanField("cambios de custodia", default=True)
    breaches = models.BooleanField("plazos vencidos", default=True)
    scope = models.CharField("alcance", max_length=8, choices=Scope.choices, default=Scope.OWN)
    state = models.ForeignKey(State, on_delete=models.PROTECT, null=True, blank=True)
    active = models.BooleanField("activa", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "suscripción"
        verbose_name_plural = "suscripciones"

    def __str__(self) -> str:
        return f"{self.institution.code} → {self.target}"


class OutboxMessage(models.Model):
    key = models.CharField(max_length=120, unique=True)
    topic = models.CharField(max_length=20, choices=Topic.choices)
    # None only for messages about no detention (the confirmation of a name alert).
    detention = models.ForeignKey(
        "registry.Detention", on_delete=models.PROTECT, related_name="+", null=True
    )
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    fanned_out_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.key


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pendiente"
    DELIVERED = "delivered", "Entregada"
    FAILED = "failed", "Fallida"


class Delivery(models.Model):
    message = models.ForeignKey(OutboxMessage, on_delete=models.PROTECT, related_name="deliveries")
    # To an institution's subscription, or to a member of the public's name alert: one of two.
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="deliveries", null=True
    )
    name_alert = models.ForeignKey(
        "lookup.NameAlert", on_delete=models.PROTECT, related_name="deliveries", null=True
    )
    # ...or to one user (the monthly report for a state's analysts).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    # Who holds the lease: a fresh token per claim, so that two workers claiming at the same
    # instant (same lease end) never both believe they hold it.
    lease_token = models.UUIDField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "subscription"], name="delivery_once"),
            models.UniqueConstraint(fields=["message", "name_alert"], name="alert_delivery_once"),
            models.UniqueConstraint(fields=["message", "user"], name="user_delivery_once"),
            models.CheckConstraint(
                condition=(
                    models.Q(subscription__isnull=False, name_alert__isnull=True, user__isnull=True)
                    | models.Q(
                        subscription__isnull=True, name_alert__isnull=False, user__isnull=True
                    )
                    | models.Q(
                        subscription__isnull=True, name_alert__isnull=True, user__isnull=False
                    )
                ),
                name="delivery_one_recipient",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        to = self.subscription_id or (
            f"alerta {self.name_alert_id}" if self.name_alert_id else f"usuario {self.user_id}"
        )
        return f"{self.message.key} → {to} ({self.status})"
