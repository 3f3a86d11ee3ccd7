"""The notification worker: find new breaches, fan messages out, deliver with retries.

Delivery is at least once, with a stable ``X-Custodia-Delivery`` id: a message is delivered to a
subscriber at most once by Custodia (one ``Delivery`` row per message and subscriber, claimed
with a lease before sending, never sent again once delivered). Only if the process dies after the
receiver accepted but before the row is marked could it be sent again, and the receiver can
recognise it by that id.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage, send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from custodia.registry.alerts import breaches_of, candidates
from custodia.registry.models import Detention, DetentionHolder

from .models import Delivery, DeliveryStatus, OutboxMessage, Scope, Subscription, Topic
from .outbox import enqueue_breach

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    breaches: int = 0
    fanned_out: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    recounted: int = 0

    def __str__(self) -> str:
        return (
            f"plazos vencidos nuevos: {self.breaches} · mensajes repartidos: {self.fanned_out} · "
            f"entregas: {self.delivered} · reintentos pendientes: {self.retried} · "
            f"fallidas: {self.failed} · detenciones recontadas para el informe: {self.recounted}"
        )


def scan_breaches(now: datetime) -> int:
    """Turn every breach not seen before into an outbox message."""
    new = 0
    for detention in Detention.objects.filter(candidates(now)).iterator(chunk_size=2000):
        for clock in breaches_of(detention, now):
            new += enqueue_breach(detention, clock, now)
    return new


def matches(subscription: Subscription, message: OutboxMessage) -> bool:
    if message.topic == Topic.REPORT_MONTHLY:  # for its named users, never for subscriptions
        return False
    if message.detention is None:  # a name alert's confirmation: for that alert only
        return False
    if message.topic == Topic.CUSTODY_CHANGED and not subscription.custody_changes:
        return False
    if message.topic == Topic.CLOCK_BREACHED and not subscription.breaches:
        return False
    detention = message.detention
    if subscription.scope == Scope.NATIONAL:
        return subscription.state_id in {None, detention.state_id}
    if subscription.scope == Scope.STATE:
        state = subscription.state_id or subscription.institution.state_id
        return state == detention.state_id
    institution = subscription.institution_id
    return (
        detention.institution_id == institution
        or detention.receiving_institution_id == institution
        or DetentionHolder.objects.filter(detention=detention, institution_id=institution).exists()
    )


def fan_out(now: datetime) -> int:
    """One ``Delivery`` per message and matching subscription (unique: never two)."""
    count = 0
    subscriptions = list(Subscription.objects.filter(active=True).select_related("institution"))
    pending = OutboxMessage.objects.filter(fanned_out_at__isnull=True).select_related("detention")
    for message in pending.iterator(chunk_size=500):
        with transaction.atomic():
            for subscription in subscriptions:
                if matches(subscription, message):
                    _, created = Delivery.objects.get_or_create(
                        message=message,
                        subscription=subscription,
                        defaults={"next_attempt_at": now},
                    )
                    count += created
            for alert_id in _name_alerts_for(message, now):
                _, created = Delivery.objects.get_or_create(
                    message=message, name_alert_id=alert_id, defaults={"next_attempt_at": now}
                )
                count += created
            if message.topic == Topic.REPORT_MONTHLY:  # addressed to named users
                for user_id in message.payload["users"]:
                    _, created = Delivery.objects.get_or_create(
                        message=message, user_id=user_id, defaults={"next_attempt_at": now}
                    )
                    count += created
            OutboxMessage.objects.filter(pk=message.pk).update(fanned_out_at=now)
    return count


# Events after which a member of the public who asked about a name hears again.
ALERT_EVENT_KINDS = frozenset(
    {
        "registered",
        "handed_over",
        "transferred",
        "presented_to_judge",
        "admitted_to_prison",
        "released",
        "escaped",
        "recaptured",
        "died_in_custody",
    }
)


def _name_alerts_for(message: OutboxMessage, now: datetime) -> list[int]:
    from custodia.lookup import alerts

    if message.topic == Topic.ALERT_CONFIRM:
        return [int(message.payload["alert"])]
    if message.topic != Topic.CUSTODY_CHANGED or message.detention is None:
        return []
    if message.payload.get("event", {}).get("kind") not in ALERT_EVENT_KINDS:
        return []
    return [alert.pk for alert in alerts.matching_alerts(message.detention, now)]


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def _body(delivery: Delivery) -> bytes:
    message = delivery.message
    return json.dumps(
        {
            "delivery": delivery.pk,
            "topic": message.topic,
            "created_at": message.created_at.isoformat().replace("+00:00", "Z"),
            "data": message.payload,
        },
        ensure_ascii=False,
        sort_keys=True,
    ).encode("utf-8")


class DeliveryError(Exception):
    pass


def _subscription(delivery: Delivery) -> Subscription:
    subscription = delivery.subscription
    assert subscription is not None, "a delivery without a subscription is a name alert's"
    return subscription


def _send_webhook(delivery: Delivery, now: datetime) -> None:
    subscription = _subscription(delivery)
    body = _body(delivery)
    timestamp = str(int(now.timestamp()))
    request = urllib.request.Request(  # noqa: S310 - the URL scheme is checked when subscribing
        subscription.target,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Custodia-Notify/1",
            "X-Custodia-Delivery": str(delivery.pk),
            "X-Custodia-Topic": delivery.message.topic,
            "X-Custodia-Timestamp": timestamp,
            "X-Custodia-Signature": signature(subscription.secret, timestamp, body),
        },
    )
    timeout = settings.CUSTODIA_NOTIFY["webhook_timeout_seconds"]
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            if not 200 <= response.status < 300:
                raise DeliveryError(f"HTTP {response.status}")
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"HTTP {error.code}") from error
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise DeliveryError(f"sin conexión: {error}") from error
    except http.client.HTTPException as error:  # a reply that is not HTTP at all
        raise DeliveryError(f"respuesta no HTTP: {error!r}") from error


def _send_email(delivery: Delivery) -> None:
    message = delivery.message
    data = message.payload
    if message.topic == Topic.CLOCK_BREACHED:
        subject = f"[Custodia] Plazo vencido: {data['label']} · {data['folio']}"
        text = (
            f"Folio {data['folio']}: el plazo «{data['label']}» venció el {data['due_at']} (UTC).\n"
            f"Gravedad: {data['severity']}. Consulte el registro en Custodia."
        )
    else:
        event = data["event"]
        subject = f"[Custodia] Movimiento de custodia · {data['folio']}"
        text = (
            f"Folio {data['folio']}: nuevo movimiento «{event['kind']}» ({event['occurred_at']} "
            f"UTC). Situación: {data['status']}; a cargo de {data['current_authority']}."
        )
    try:
        send_mail(subject, text, None, [_subscription(delivery).target], fail_silently=False)
    except Exception as error:  # any transport failure is a retry, never a lost message
        raise DeliveryError(f"correo: {error}") from error


def _send_alert_email(delivery: Delivery, now: datetime) -> bool:
    """A name alert's email, built at send time with the public fields only. False when the
    alert is no longer live (nothing sent)."""
    from custodia.core.accesslog import log_access
    from custodia.core.models import Channel
    from custodia.lookup import alerts, public

    alert = delivery.name_alert
    assert alert is not None
    message = delivery.message
    if message.topic == Topic.ALERT_CONFIRM:
        if alert.unsubscribed_at is not None:
            return False
        mail = alerts.confirmation_email(alert)
    else:
        if not alerts.is_active(alert, now):
            return False
        detention = message.detention
        assert detention is not None
        rows = public.public_rows([detention.pk]) if alerts.still_held(detention) else []
        mail = alerts.match_email(alert, rows[0] if rows else None)
        log_access(
            user=None,
            channel=Channel.EMAIL,
            action="alert.email",
            folios=[detention.folio],
            purpose=f"aviso por nombre {alert.pk}",
        )
    email = EmailMessage(
        mail.subject,
        mail.text,
        None,
        [alert.email],
        headers={
            "List-Unsubscribe": f"<{mail.unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Custodia-Delivery": str(delivery.pk),
        },
    )
    try:
        email.send(fail_silently=False)
    except Exception as error:  # any transport failure is a retry, never a lost message
        raise DeliveryError(f"correo: {error}") from error
    return True


def _send_report_email(delivery: Delivery) -> None:
    """A state's monthly report, as a PDF attachment, to one of its analysts. The PDF was
    written under var/ when the message was queued; a missing file or address is a failure
    to retry, never a silent success."""
    user = delivery.user
    assert user is not None
    data = delivery.message.payload
    if not user.is_active or not user.email:
        raise DeliveryError("el usuario no está activo o no tiene correo")
    path = Path(settings.VAR_DIR) / data["file"]
    try:
        content = path.read_bytes()
    except OSError as error:
        raise DeliveryError(f"no se pudo leer {data['file']}: {error.strerror}") from error
    email = EmailMessage(
        f"[Custodia] Informe mensual de detenciones · {data['state_name']} · {data['month']}",
        f"Adjunto el informe mensual de detenciones de {data['state_name']} para {data['month']}"
        " (acuerdo TERCERO de la Conferencia Nacional de Secretarios de Seguridad Pública).\n"
        "También puede consultarlo en Custodia, en Informes.",
        None,
        [user.email],
        headers={"X-Custodia-Delivery": str(delivery.pk)},
    )
    email.attach(path.name, content, "application/pdf")
    try:
        email.send(fail_silently=False)
    except Exception as error:  # any transport failure is a retry, never a lost message
        raise DeliveryError(f"correo: {error}") from error


def backoff(attempts: int) -> timedelta:
    cfg = settings.CUSTODIA_NOTIFY
    seconds = min(
        cfg["backoff_base_seconds"] * 2 ** max(attempts - 1, 0), cfg["backoff_max_seconds"]
    )
    return timedelta(seconds=seconds)


def _claim(delivery_id: int, now: datetime) -> uuid.UUID | None:
    """Take a lease on a delivery so that two workers never send it at once. Returns the
    lease's token, which later updates must match, or None if another worker holds it.

    The claim is read back rather than trusted from the row count: the token is fresh per
    claim, so only the worker whose token the row holds goes on, however the two updates and
    their counts interleave (a connection shared by threads reports the other's count)."""
    # The clock at the claim, not at the start of the run: sending earlier deliveries (a slow
    # webhook waits up to its timeout) must not eat into this lease.
    at = max(now, timezone.now())
    lease_until = at + timedelta(seconds=settings.CUSTODIA_NOTIFY["lease_seconds"])
    token = uuid.uuid4()
    (
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=at))
        .update(locked_until=lease_until, lease_token=token)
    )
    held = Delivery.objects.filter(pk=delivery_id, lease_token=token).exists()
    return token if held else None


def deliver_due(now: datetime, report: RunReport) -> None:
    due = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
    for delivery_id in list(due.values_list("pk", flat=True)[:1000]):
        lease = _claim(delivery_id, now)
        if lease is None:
            continue
        mine = Delivery.objects.filter(pk=delivery_id, lease_token=lease)
        delivery = Delivery.objects.select_related(
            "message", "message__detention", "subscription", "name_alert", "user"
        ).get(pk=delivery_id)
        try:
            if delivery.name_alert is not None:
                if not _send_alert_email(delivery, now):
                    mine.update(
                        status=DeliveryStatus.FAILED,
                        locked_until=None,
                        lease_token=None,
                        last_error="la alerta se canceló o venció antes del envío",
                    )
                    continue
            elif delivery.user is not None:
                _send_report_email(delivery)
            elif delivery.subscription is not None and delivery.subscription.channel == "webhook":
                _send_webhook(delivery, now)
            else:
                _send_email(delivery)
        except DeliveryError as error:
            attempts = delivery.attempts + 1
            failed = attempts >= settings.CUSTODIA_NOTIFY["max_attempts"]
            mine.update(
                attempts=attempts,
                last_error=str(error)[:1000],
                next_attempt_at=now + backoff(attempts),
                locked_until=None,
                lease_token=None,
                status=DeliveryStatus.FAILED if failed else DeliveryStatus.PENDING,
            )
            if failed:
                report.failed += 1
            else:
                report.retried += 1
            log.warning("entrega %s falló (%s intento(s)): %s", delivery.pk, attempts, error)
            continue
        mine.update(
            status=DeliveryStatus.DELIVERED,
            attempts=delivery.attempts + 1,
            delivered_at=timezone.now(),
            locked_until=None,
            lease_token=None,
            last_error="",
        )
        report.delivered += 1


def run_once(now: datetime | None = None) -> RunReport:
    now = now or timezone.now()
    report = RunReport()
    from custodia.ledger.services import ensure_checkpoint_current
    from custodia.reports import rollup

    ensure_checkpoint_current()  # sign leaves that no later write has signed
    report.breaches = scan_breaches(now)
    # Clocks that fell due since the report's counts were written: counted now, so that
    # reading a report seldom has any left to count.
    report.recounted = rollup.refresh_due(now)
    report.fanned_out = fan_out(now)
    deliver_due(now, report)
    return report
