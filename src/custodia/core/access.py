"""Who may do what, and see which records: the one place where roles and jurisdiction live.

Pages and API handlers ask these functions; none of them decides on its own (DESIGN.md §2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q

from .models import POLICE_KINDS, Role

if TYPE_CHECKING:
    from .models import User

# Roles that may read detentions at all.
_READERS = frozenset(
    {
        Role.CAPTURE,
        Role.SUPERVISOR,
        Role.RECEIVING,
        Role.STATE_ANALYST,
        Role.NATIONAL_ANALYST,
        Role.AUDITOR,
    }
)
_CLOSED = ("released", "deceased")


class AccessDenied(Exception):
    """The user's role or jurisdiction does not allow this. Shown as 403."""

    def __init__(self, message: str = "Su rol o su jurisdicción no le permiten esta acción."):
        super().__init__(message)
        self.message = message


def is_active_member(user: User | Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def can_register_detention(user: User) -> bool:
    """Capture and supervisors of a police institution register detentions for it."""
    return (
        is_active_member(user)
        and user.role in {Role.CAPTURE, Role.SUPERVISOR}
        and user.institution is not None
        and user.institution.active
        and user.institution.kind in POLICE_KINDS
    )


def require_register_detention(user: User) -> None:
    if not can_register_detention(user):
        raise AccessDenied(
            "Sólo el personal de captura o supervisión de una institución policial activa "
            "puede registrar detenciones."
        )


def can_read_detentions(user: User) -> bool:
    return is_active_member(user) and user.role in _READERS


def detention_scope(user: User) -> Q:
    """The detentions a user may see, as a filter on ``registry.Detention``."""
    nothing = Q(pk__in=[])
    if not can_read_detentions(user):
        return nothing
    role, institution = user.role, user.institution
    if role in {Role.NATIONAL_ANALYST, Role.AUDITOR}:
        return Q()
    if institution is None:
        return nothing
    if role == Role.CAPTURE:
        return Q(institution=institution) & ~Q(status__in=_CLOSED)
    if role == Role.SUPERVISOR:
        return Q(institution=institution)
    if role == Role.RECEIVING:
        return Q(receiving_institution=institution) | Q(current_institution=institution)
    if role == Role.STATE_ANALYST:
        return Q(state_id=institution.state_id) if institution.state_id else nothing
    return nothing


def can_administer(user: User) -> bool:
    return is_active_member(user) and (user.role == Role.ADMIN or user.is_superuser)
