"""Writing the access log: every read of personal data, by anyone, through any channel."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.utils import timezone

from . import bulk
from .models import AccessLog, Channel, User


def client_ip(request: Any) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def log_access(
    *,
    user: User | None,
    channel: Channel | str,
    action: str | Sequence[str],
    folios: Iterable[str] = ("",),
    purpose: str = "",
    ip: str | None = None,
) -> None:
    """Append one entry per folio, and per action when several are given (a registration whose
    answer shows the record: written and read), in one statement. Call it inside the
    transaction of the read or write."""
    actions = (action,) if isinstance(action, str) else tuple(action)
    folios = tuple(folios)
    institution = getattr(user, "institution", None)
    now = timezone.now()
    bulk.add_rows(
        AccessLog,
        ("at", "user", "username", "role", "institution_code", "channel", "action", "folio",
         "purpose", "ip"),
        [
            (now, getattr(user, "pk", None), getattr(user, "username", "") or "",
             getattr(user, "role", "") or "", institution.code if institution else "",
             channel, one, folio, purpose[:300], ip)
            for one in actions
            for folio in folios
        ],
    )  # fmt: skip
