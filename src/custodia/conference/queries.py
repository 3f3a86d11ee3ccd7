"""Reads of the Conference's records: for pages, the API and the exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from custodia.core.models import State

from .models import (
    OPEN_STATUSES,
    Agreement,
    Commitment,
    Communique,
    CommuniqueStatus,
    FollowUp,
    Revision,
    Session,
    Tracking,
    WorkingGroup,
)


def sessions() -> QuerySet[Session]:
    return Session.objects.prefetch_related("agreements")


def session(pk: int) -> Session:
    found = (
        Session.objects.filter(pk=pk)
        .select_related("agenda_approved_by")
        .prefetch_related(
            "agenda",
            "attendance__state",
            Prefetch("agreements", queryset=Agreement.objects.prefetch_related("instruments")),
            "communiques",
            "reports_from_groups",
        )
        .first()
    )
    if found is None:
        raise Http404("No existe esa sesión.")
    return found


def commitments() -> QuerySet[Commitment]:
    return Commitment.objects.select_related(
        "agreement__session", "owner_state", "owner_institution", "working_group"
    ).order_by("agreement__session__held_on", "agreement__number", "position")


def agreements() -> QuerySet[Agreement]:
    return Agreement.objects.select_related("session").prefetch_related("instruments")


def agreement(pk: int) -> Agreement:
    found = (
        agreements()
        .filter(pk=pk)
        .prefetch_related(
            Prefetch("commitments", queryset=commitments()),
            Prefetch(
                "commitments__follow_ups",
                queryset=FollowUp.objects.select_related("author").prefetch_related("files"),
            ),
            "working_groups",
            "communiques",
        )
        .first()
    )
    if found is None:
        raise Http404("No existe ese acuerdo.")
    return found


def history(agreement: Agreement) -> list[Revision]:
    """Every change to the agreement, its commitments, follow-ups and communiqués, newest first."""
    return list(
        Revision.objects.filter(agreement=agreement)
        .select_related("actor")
        .order_by("-recorded_at", "-id")
    )


def working_groups() -> QuerySet[WorkingGroup]:
    return WorkingGroup.objects.select_related(
        "agreement__session", "proponent_state", "report_session"
    ).prefetch_related("members")


def working_group(pk: int) -> WorkingGroup:
    found = (
        working_groups()
        .filter(pk=pk)
        .prefetch_related("liaisons", "meetings", "deliverables", "commitments__agreement")
        .first()
    )
    if found is None:
        raise Http404("No existe esa mesa de trabajo.")
    return found


def group_history(group: WorkingGroup) -> list[Revision]:
    return list(Revision.objects.filter(group=group).select_related("actor").order_by("-id"))


def open_commitments() -> QuerySet[Commitment]:
    return commitments().filter(status__in=OPEN_STATUSES).prefetch_related("follow_ups")


def communique(pk: int) -> Communique:
    found = Communique.objects.select_related("session", "agreement").filter(pk=pk).first()
    if found is None:
        raise Http404("No existe ese comunicado.")
    return found


def all_communiques() -> QuerySet[Communique]:
    return Communique.objects.select_related("session", "agreement")


def published_communiques() -> QuerySet[Communique]:
    return (
        Communique.objects.filter(status=CommuniqueStatus.PUBLISHED)
        .select_related("session", "agreement")
        .order_by("-published_at")
    )


def public_agreements() -> QuerySet[Agreement]:
    return (
        agreements()
        .filter(public=True)
        .prefetch_related(Prefetch("commitments", queryset=commitments()))
        .order_by("-session__held_on", "number")
    )


@dataclass(frozen=True)
class StateReport:
    """What Custodia itself shows of a monthly-report commitment for one state."""

    state: State
    last_produced: str  # "AAAA-MM" of the last month with counts for the state, or ""
    last_sent: str  # "AAAA-MM" of the last report queued to its analysts, or ""
    sent_on: date | None


def monthly_report_status() -> list[StateReport]:
    """Per state: the last month its report has data for, and the last report sent to its
    analysts (the outbox of `custodia report monthly --all-states --send`)."""
    from custodia.notify.models import OutboxMessage, Topic
    from custodia.reports.models import StateMonthCount

    produced: dict[str, int] = {}
    for state_id, month in StateMonthCount.objects.values_list("state", "month").distinct():
        produced[state_id] = max(month, produced.get(state_id, 0))
    sent: dict[str, tuple[str, date]] = {}
    for payload, created in OutboxMessage.objects.filter(topic=Topic.REPORT_MONTHLY).values_list(
        "payload", "created_at"
    ):
        state, month = payload.get("state", ""), payload.get("month", "")
        if state and month > sent.get(state, ("", created.date()))[0]:
            sent[state] = (month, timezone.localtime(created).date())
    rows = []
    for state in State.objects.order_by("code"):
        month = produced.get(state.code, 0)
        last_sent = sent.get(state.code)
        rows.append(
            StateReport(
                state=state,
                last_produced=f"{month // 100:04d}-{month % 100:02d}" if month else "",
                last_sent=last_sent[0] if last_sent else "",
                sent_on=last_sent[1] if last_sent else None,
            )
        )
    return rows


def tracks_monthly_report(commitment: Commitment) -> bool:
    return commitment.tracking == Tracking.MONTHLY_REPORT


def commitment_row(c: Commitment, today: date) -> dict[str, Any]:
    """One commitment as the API and the follow-up spreadsheet give it."""
    follow_ups = list(c.follow_ups.all())
    last = follow_ups[-1] if follow_ups else None
    return {
        "id": c.pk,
        "agreement": c.agreement.code,
        "agreement_ordinal": c.agreement.ordinal,
        "session": c.agreement.session.title,
        "position": c.position,
        "description": c.description,
        "owner_kind": c.owner_kind,
        "owner": c.owner_label,
        "owner_state": c.owner_state_id,
        "due_on": c.due_on.isoformat() if c.due_on else None,
        "status": c.status,
        "status_label": c.get_status_display(),
        "overdue": c.overdue_on(today),
        "link": c.link,
        "working_group": c.working_group_id,
        "follow_ups": len(follow_ups),
        "last_follow_up_on": last.reported_on.isoformat() if last else None,
        "last_progress": last.progress if last else "",
    }
