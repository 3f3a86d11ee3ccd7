"""``custodia report monthly --all-states --send``: each state's analysts get their state's PDF
by email, through the notification outbox (DESIGN.md §3: a transactional outbox)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from custodia.core.models import Role, State, User
from custodia.notify.models import OutboxMessage, Topic

from . import monthly
from .pdf import as_pdf

FOLDER = "reports"  # under var/: the PDFs the queued emails attach


@dataclass(frozen=True)
class Queued:
    state: str
    recipients: int
    new: bool  # False: this month's report for the state was already queued


def analysts_of(state: str) -> list[User]:
    return list(
        User.objects.filter(role=Role.STATE_ANALYST, is_active=True, institution__state_id=state)
        .exclude(email="")
        .order_by("pk")
    )


def pdf_path(year: int, month: int, state: str) -> Path:
    return Path(FOLDER) / f"informe-{year:04d}-{month:02d}-{state}.pdf"


def queue_state_report(year: int, month: int, state: State) -> Queued | None:
    """Write the state's PDF under var/ and queue one email per analyst with an address. None
    when the state has no such analyst. Queuing the same month twice sends nothing new."""
    users = analysts_of(state.code)
    if not users:
        return None
    key = f"report.monthly:{year:04d}-{month:02d}:{state.code}"
    if OutboxMessage.objects.filter(key=key).exists():
        return Queued(state.code, len(users), new=False)
    relative = pdf_path(year, month, state.code)
    target = Path(settings.VAR_DIR) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(as_pdf(monthly.monthly(year, month, state.code)))
    with transaction.atomic():
        OutboxMessage.objects.create(
            key=key,
            topic=Topic.REPORT_MONTHLY,
            payload={
                "month": f"{year:04d}-{month:02d}",
                "state": state.code,
                "state_name": state.name,
                "file": str(relative),
                "users": [u.pk for u in users],
            },
        )
    return Queued(state.code, len(users), new=True)
