"""Writing to the outbox, inside the caller's transaction."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from custodia.core import bulk

from .models import OutboxMessage, Topic


def _utc(moment: Any) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def enqueue_custody_change(detention: Any, event: Any) -> None:
    """No personal data: receivers learn what moved, and read the record through the API."""
    enqueue_custody_changes([(detention, event)])


def enqueue_custody_changes(changes: list[tuple[Any, Any]]) -> None:
    """One message per (detention, event), in one statement."""
    now = timezone.now()
    bulk.add_rows(
        OutboxMessage,
        ("key", "topic", "detention", "payload", "created_at", "fanned_out_at"),
        [
            (
                f"event:{event.pk}",
                Topic.CUSTODY_CHANGED,
                detention.pk,
                {
                    "folio": detention.folio,
                    "event": {
                        "id": event.pk,
                        "kind": event.kind,
                        "occurred_at": _utc(event.occurred_at),
                    },
                    "status": detention.status,
                    "current_authority": detention.current_authority,
                    "state": detention.state_id,
                    "version": detention.version,
                },
                now,
                None,
            )
            for detention, event in changes
        ],
    )


def enqueue_breach(detention: Any, clock: Any, now: Any) -> bool:
    """Record a breach the first time it is seen at this severity. Returns whether it was new."""
    key = f"breach:{detention.pk}:{clock.clock}:{clock.severity}:{_utc(clock.started_at)}"[:120]
    if OutboxMessage.objects.filter(key=key).exists():
        return False
    try:
        with transaction.atomic():
            OutboxMessage.objects.create(
                key=key,
                topic=Topic.CLOCK_BREACHED,
                detention=detention,
                payload={
                    "folio": detention.folio,
                    "clock": clock.clock,
                    "label": clock.label,
                    "severity": clock.severity,
                    "started_at": _utc(clock.started_at),
                    "due_at": _utc(clock.due_at),
                    "overdue_seconds": int(clock.overdue_by(now).total_seconds()),
                    "state": detention.state_id,
                },
            )
    except IntegrityError:
        return False
    return True


def enqueue_alert_confirmation(alert: Any) -> None:
    """The double opt-in email of a public name alert; sent by the worker like any message."""
    OutboxMessage.objects.create(
        key=f"alert-confirm:{alert.pk}",
        topic=Topic.ALERT_CONFIRM,
        detention=None,
        payload={"alert": alert.pk},
    )
