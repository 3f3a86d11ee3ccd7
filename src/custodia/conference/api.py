"""Read endpoints of the Conference's records (API.md, "Conferencia"): sessions, agreements,
commitments and working groups. Writes go through the Secretariat's pages; these serve the
states' own systems and the national council's dashboards.

Lists are keyset-paginated by id with an opaque cursor, like the rest of the API.
"""

from __future__ import annotations

import base64
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from custodia.core import access
from custodia.core.api_auth import TokenAuth
from custodia.core.models import User
from custodia.registry.api import BadParameter, ErrorsOut

from . import documents, queries
from .models import (
    Agreement,
    CommitmentStatus,
    GroupStatus,
    Instrument,
    OwnerKind,
    Session,
    WorkingGroup,
)

router = Router(tags=["Conferencia"])
auth = TokenAuth()
PAGE_SIZE = 50
_ERRORS = {400: ErrorsOut, 401: ErrorsOut, 403: ErrorsOut, 404: ErrorsOut, 422: ErrorsOut}
NO_ACCESS = "Su cuenta no tiene acceso a los registros de la Conferencia."


def _reader(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    if not access.can_read_conference(user):
        raise access.AccessDenied(NO_ACCESS)
    return user


def _cursor(value: str | None) -> int:
    if not value:
        return 0
    try:
        number = int(base64.urlsafe_b64decode(value.encode("ascii") + b"==").decode("ascii"))
    except (ValueError, UnicodeError):
        number = -1
    if number <= 0:
        raise BadParameter("cursor", "El cursor no es válido: use el next_cursor de la respuesta.")
    return number


def _page(items: QuerySet[Any], cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
    rows = list(items.filter(pk__gt=_cursor(cursor)).order_by("pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    following = (
        base64.urlsafe_b64encode(str(rows[-1].pk).encode()).decode().rstrip("=") if more else None
    )
    return rows, following


class Page(Schema):
    results: list[dict[str, Any]]
    next_cursor: str | None


class Paging(Schema):
    cursor: str | None = Field(default=None, max_length=40)
    limit: int = Field(default=PAGE_SIZE, ge=1, le=200, description="Resultados por página")


# Sessions ----------------------------------------------------------------------------------------


def session_out(s: Session, *, full: bool = False) -> dict[str, Any]:
    out = {
        "id": s.pk,
        "title": s.title,
        "ordinal": s.ordinal,
        **documents.session(s),
        "agreements": [
            {"id": a.pk, "code": a.code, "ordinal": a.ordinal, "title": a.title}
            for a in s.agreements.all()
        ],
    }
    if not full:
        out.pop("attendance")
    else:
        out["communiques"] = [_communique_out(c) for c in s.communiques.all()]
    return out


def _communique_out(c: Any) -> dict[str, Any]:
    return {"id": c.pk, **documents.communique(c), "status_label": c.get_status_display()}


@router.get(
    "/conference/sessions",
    auth=auth,
    response={200: Page, **_ERRORS},
    summary="Listar las sesiones plenarias",
)
def list_sessions(request: HttpRequest, paging: Query[Paging]) -> Any:
    _reader(request)
    rows, following = _page(queries.sessions().prefetch_related("agenda"), paging.cursor,
                            paging.limit)  # fmt: skip
    return {"results": [session_out(s) for s in rows], "next_cursor": following}


@router.get(
    "/conference/sessions/{session_id}",
    auth=auth,
    response={200: dict[str, Any], **_ERRORS},
    summary="Una sesión: orden del día, asistencia, acuerdos y comunicados",
)
def get_session(request: HttpRequest, session_id: int) -> Any:
    _reader(request)
    return session_out(queries.session(session_id), full=True)


# Agreements --------------------------------------------------------------------------------------


class AgreementFilters(Paging):
    session: int | None = Field(default=None, ge=1, description="Id de la sesión")
    instrument: Instrument | None = None
    public: bool | None = None


def agreement_out(a: Agreement, *, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": a.pk,
        "ordinal": a.ordinal,
        "session_title": a.session.title,
        **documents.agreement(a),
        "instrument_labels": a.instrument_labels(),
    }
    if full:
        today = timezone.localdate()
        out["commitments"] = [
            {
                **queries.commitment_row(c, today),
                "follow_up_entries": [
                    {"id": f.pk, **documents.follow_up(f), "author": f.author.username}
                    for f in c.follow_ups.all()
                ],
            }
            for c in a.commitments.all()
        ]
        out["working_groups"] = [{"id": g.pk, "name": g.name} for g in a.working_groups.all()]
        out["communiques"] = [_communique_out(c) for c in a.communiques.all()]
        out["history"] = [
            {
                "recorded_at": r.recorded_at.isoformat(),
                "record": r.record,
                "record_id": r.record_id,
                "action": r.action,
                "summary": r.summary,
                "actor": r.actor.username,
                "leaf_index": r.leaf_index,
            }
            for r in queries.history(a)
        ]
    return out


@router.get(
    "/conference/agreements",
    auth=auth,
    response={200: Page, **_ERRORS},
    summary="Listar los acuerdos",
)
def list_agreements(request: HttpRequest, filters: Query[AgreementFilters]) -> Any:
    _reader(request)
    items = queries.agreements()
    if filters.session is not None:
        items = items.filter(session_id=filters.session)
    if filters.instrument is not None:
        items = items.filter(instruments__instrument=filters.instrument)
    if filters.public is not None:
        items = items.filter(public=filters.public)
    rows, following = _page(items, filters.cursor, filters.limit)
    return {"results": [agreement_out(a) for a in rows], "next_cursor": following}


@router.get(
    "/conference/agreements/{agreement_id}",
    auth=auth,
    response={200: dict[str, Any], **_ERRORS},
    summary="Un acuerdo: compromisos con su seguimiento, mesas, comunicados e historial",
)
def get_agreement(request: HttpRequest, agreement_id: int) -> Any:
    _reader(request)
    return agreement_out(queries.agreement(agreement_id), full=True)


# Commitments -------------------------------------------------------------------------------------


class CommitmentFilters(Paging):
    status: CommitmentStatus | None = None
    open: bool | None = Field(default=None, description="Sólo pendientes y en proceso")
    owner_kind: OwnerKind | None = None
    owner_state: str | None = Field(default=None, pattern=r"^\d{2}$", description="Clave INEGI")
    agreement: int | None = Field(default=None, ge=1)
    overdue: bool | None = None


@router.get(
    "/conference/commitments",
    auth=auth,
    response={200: Page, **_ERRORS},
    summary="Listar los compromisos y su seguimiento",
)
def list_commitments(request: HttpRequest, filters: Query[CommitmentFilters]) -> Any:
    _reader(request)
    today = timezone.localdate()
    items = queries.commitments().prefetch_related("follow_ups")
    if filters.status is not None:
        items = items.filter(status=filters.status)
    if filters.open is not None:
        open_statuses = [CommitmentStatus.PENDING, CommitmentStatus.IN_PROGRESS]
        items = (
            items.filter(status__in=open_statuses)
            if filters.open
            else items.exclude(status__in=open_statuses)
        )
    if filters.owner_kind is not None:
        items = items.filter(owner_kind=filters.owner_kind)
    if filters.owner_state is not None:
        items = items.filter(owner_state_id=filters.owner_state)
    if filters.agreement is not None:
        items = items.filter(agreement_id=filters.agreement)
    if filters.overdue is not None:
        late = items.filter(
            status__in=[CommitmentStatus.PENDING, CommitmentStatus.IN_PROGRESS],
            due_on__lt=today,
        )
        items = late if filters.overdue else items.exclude(pk__in=late.values("pk"))
    rows, following = _page(items, filters.cursor, filters.limit)
    return {"results": [queries.commitment_row(c, today) for c in rows], "next_cursor": following}


# Working groups ----------------------------------------------------------------------------------


class GroupFilters(Paging):
    status: GroupStatus | None = None
    agreement: int | None = Field(default=None, ge=1)


def group_out(g: WorkingGroup, *, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": g.pk,
        **documents.working_group(g),
        "agreement_code": g.agreement.code,
        "rule_label": g.get_rule_display(),
        "status_label": g.get_status_display(),
        "composition_problems": g.composition_problems(),
        "members": [
            {"id": m.pk, **documents.member(m)} for m in g.members.all() if m.left_on is None
        ],
    }
    if full:
        out["former_members"] = [
            {"id": m.pk, **documents.member(m)} for m in g.members.all() if m.left_on is not None
        ]
        out["liaisons"] = [{"id": x.pk, **documents.liaison(x)} for x in g.liaisons.all()]
        out["meetings"] = [{"id": x.pk, **documents.meeting(x)} for x in g.meetings.all()]
        out["deliverables"] = [
            {"id": x.pk, **documents.deliverable(x)} for x in g.deliverables.all()
        ]
        out["commitments"] = [
            {"id": c.pk, "agreement": c.agreement.code, "position": c.position, "status": c.status}
            for c in g.commitments.all()
        ]
    return out


@router.get(
    "/conference/working-groups",
    auth=auth,
    response={200: Page, **_ERRORS},
    summary="Listar las mesas de trabajo",
)
def list_groups(request: HttpRequest, filters: Query[GroupFilters]) -> Any:
    _reader(request)
    items = queries.working_groups()
    if filters.status is not None:
        items = items.filter(status=filters.status)
    if filters.agreement is not None:
        items = items.filter(agreement_id=filters.agreement)
    rows, following = _page(items, filters.cursor, filters.limit)
    return {"results": [group_out(g) for g in rows], "next_cursor": following}


@router.get(
    "/conference/working-groups/{group_id}",
    auth=auth,
    response={200: dict[str, Any], **_ERRORS},
    summary="Una mesa de trabajo: integrantes, enlaces, reuniones y entregables",
)
def get_group(request: HttpRequest, group_id: int) -> Any:
    _reader(request)
    return group_out(queries.working_group(group_id), full=True)
