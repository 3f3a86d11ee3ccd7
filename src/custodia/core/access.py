"""Who may do what, and see which records: the one place where roles and jurisdiction live.

Pages and API handlers ask these functions; none of them decides on its own (DESIGN.md §2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, Q

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


def can_search_people(user: User) -> bool:
    """Officials' search of the whole history: every reader but capture (issue 5)."""
    return can_read_detentions(user) and user.role != Role.CAPTURE


_NATIONAL_REPORT_READERS = frozenset({Role.NATIONAL_ANALYST, Role.AUDITOR})


def can_read_reports(user: User) -> bool:
    """Monthly reports and data quality (issue 6): analysts and auditors."""
    return is_active_member(user) and (
        user.role in _NATIONAL_REPORT_READERS
        or (user.role == Role.STATE_ANALYST and whole_state_of(user) is not None)
    )


def report_scope(user: User, state: str | None) -> str | None:
    """The state whose report the user may read: the one asked for, or the nation (None) when
    none is; a state analyst always their own state. AccessDenied otherwise."""
    if not can_read_reports(user):
        raise AccessDenied("Los informes mensuales son para analistas y auditores.")
    if user.role in _NATIONAL_REPORT_READERS:
        return state or None
    own = whole_state_of(user)
    if state and state != own:
        raise AccessDenied("Un analista estatal sólo consulta el informe de su entidad.")
    return own


def may_read_constancy(user: User, institution: Any) -> bool:
    """An institution's days (issue 6): its own people, the analysts of its state, national
    analysts and auditors."""
    if not is_active_member(user):
        return False
    if user.role in _NATIONAL_REPORT_READERS:
        return True
    if user.role == Role.STATE_ANALYST:
        return whole_state_of(user) == institution.state_id
    return bool(user.institution_id == institution.pk)


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
        return (Q(institution=institution) | Q(current_institution=institution)) & ~Q(
            status__in=_CLOSED
        )
    if role == Role.SUPERVISOR:
        return Q(institution=institution) | Q(current_institution=institution)
    if role == Role.RECEIVING:
        return Q(receiving_institution=institution) | _held_by(institution)
    if role == Role.STATE_ANALYST:
        state = whole_state_of(user)
        return Q(state_id=state) if state else nothing
    return nothing


def whole_state_of(user: User) -> str | None:
    """The state whose every detention is exactly the user's scope (state analysts), so that
    a table carrying the state column can apply the scope without a join; None otherwise."""
    if user.role == Role.STATE_ANALYST and user.institution is not None:
        return user.institution.state_id or None
    return None


def _held_by(institution: Any) -> Q:
    from custodia.registry.models import DetentionHolder

    return Q(
        Exists(DetentionHolder.objects.filter(detention=OuterRef("pk"), institution=institution))
    )


# Custody events (issue 3). Whoever holds the person records what happens to them.
_EVENT_ROLES = frozenset({Role.CAPTURE, Role.SUPERVISOR, Role.RECEIVING})
# Events by which an authority takes the person in: it may record them itself, by folio, for a
# detention of its own state, even before it can read the record.
INTAKE_KINDS = frozenset({"handed_over", "transferred", "presented_to_judge", "admitted_to_prison"})


def may_record_event(
    user: User, detention: Any, kind: str, authority_institution: str | None
) -> bool:
    """May ``user`` add an event of ``kind`` to ``detention``? Corrections are further checked
    against the corrected event (``may_correct``)."""
    if not is_active_member(user) or user.role not in _EVENT_ROLES or user.institution is None:
        return False
    institution = user.institution
    if kind == "corrected" and user.role == Role.CAPTURE:
        return False
    holds = detention.current_institution_id == institution.pk
    if holds:
        return True
    if kind == "note":
        return detention_visible(user, detention)
    if kind == "recaptured":
        return institution.is_police and institution.state_id in {None, detention.state_id}
    if user.role == Role.RECEIVING and kind in INTAKE_KINDS:
        named = detention.receiving_institution_id == institution.pk
        taking_in = authority_institution == institution.code and (
            institution.state_id in {None, detention.state_id}
        )
        return named or taking_in
    return kind == "corrected" and detention_visible(user, detention)


def may_correct(user: User, recorded_by_institution_id: int) -> bool:
    """Supervisors and receiving authorities correct what their own institution recorded."""
    return (
        is_active_member(user)
        and user.role in {Role.SUPERVISOR, Role.RECEIVING}
        and user.institution_id == recorded_by_institution_id
    )


def detention_visible(user: User, detention: Any) -> bool:
    return bool(type(detention).objects.filter(detention_scope(user), pk=detention.pk).exists())


def can_see_alerts(user: User) -> bool:
    return is_active_member(user) and user.role in {
        Role.SUPERVISOR,
        Role.RECEIVING,
        Role.STATE_ANALYST,
        Role.NATIONAL_ANALYST,
        Role.AUDITOR,
    }


def can_manage_subscriptions(user: User) -> bool:
    return (
        is_active_member(user)
        and user.institution is not None
        and user.role
        in {
            Role.SUPERVISOR,
            Role.RECEIVING,
            Role.STATE_ANALYST,
            Role.NATIONAL_ANALYST,
            Role.AUDITOR,
            Role.ADMIN,
        }
    )


def can_administer(user: User) -> bool:
    return is_active_member(user) and (user.role == Role.ADMIN or user.is_superuser)


# The Conference (issue 8) ------------------------------------------------------------------------

NOT_THE_SECRETARIAT = (
    "Sólo la Secretaría Técnica de la Conferencia (análisis nacional de una institución de tipo "
    "Secretaría Técnica) puede registrar sesiones, acuerdos, mesas y comunicados."
)


def is_secretariat(user: User) -> bool:
    """The Conference's Technical Secretariat: national analysts of a secretariat institution."""
    from .models import InstitutionKind

    return (
        is_active_member(user)
        and user.role == Role.NATIONAL_ANALYST
        and user.institution is not None
        and user.institution.active
        and user.institution.kind == InstitutionKind.SECRETARIAT
    )


def require_secretariat(user: User) -> None:
    if not is_secretariat(user):
        raise AccessDenied(NOT_THE_SECRETARIAT)


def can_read_conference(user: User) -> bool:
    """Sessions, agreements and their follow-up are the Conference's working record: every
    official account reads them (the public reads only what is published)."""
    return is_active_member(user) and user.institution is not None


def may_follow_up(user: User, commitment: Any) -> bool:
    """The Secretariat follows up every commitment; a state's analysts report on their state's."""
    if is_secretariat(user):
        return True
    return (
        is_active_member(user)
        and user.role == Role.STATE_ANALYST
        and commitment.owner_kind == "state"
        and commitment.owner_state_id is not None
        and whole_state_of(user) == commitment.owner_state_id
    )
