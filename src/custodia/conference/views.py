"""Pages of the Conference: the Secretariat's working pages and the public page.

Each working page takes its forms' posts itself: the form's ``action`` names the service to
call; a success redirects back with a message, bad input renders the page again with the
errors by field (status 400) and writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from custodia.core import access
from custodia.core.errors import InvalidFields
from custodia.core.models import Institution, State, User, Zone

from . import exports, queries, services
from .models import (
    AttendanceMode,
    CommitmentStatus,
    CompositionRule,
    EvidenceFile,
    GroupMember,
    GroupStatus,
    Instrument,
    OwnerKind,
    Party,
    Seat,
    Session,
    SessionKind,
    Tracking,
)

Handler = Callable[[HttpRequest, User], str]  # returns the success message
ANCHOR = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,60}")  # where the page scrolls back to


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "core/forbidden.html", {"message": message}, status=403)


def _reader(request: HttpRequest) -> User | None:
    user: User = request.user  # type: ignore[assignment]
    return user if access.can_read_conference(user) else None


def _choices(choices: Any) -> list[tuple[str, str]]:
    return [(c.value, str(c.label)) for c in choices if c.value]


def _common() -> dict[str, Any]:
    return {
        "states": [(s.code, s.name) for s in State.objects.order_by("code")],
        "zones": _choices(Zone),
        "session_kinds": _choices(SessionKind),
        "attendance_modes": _choices(AttendanceMode),
        "instruments": _choices(Instrument),
        "owner_kinds": _choices(OwnerKind),
        "statuses": _choices(CommitmentStatus),
        "trackings": _choices(Tracking),
        "rules": _choices(CompositionRule),
        "seats": _choices(Seat),
        "parties": _choices(Party),
        "today": timezone.localdate(),
    }


def _handle(
    request: HttpRequest,
    user: User,
    handlers: Mapping[str, Handler],
    context: dict[str, Any],
) -> HttpResponse | None:
    """Run the posted form's handler. A redirect on success; None when the page must be
    rendered again with the errors (put in ``context``)."""
    action = request.POST.get("action", "")
    handler = handlers.get(action)
    if handler is None:
        context["error_list"] = [("", "Formulario desconocido: recargue la página.")]
        return None
    if not access.is_secretariat(user) and action != "follow_up":
        raise access.AccessDenied(access.NOT_THE_SECRETARIAT)
    try:
        message = handler(request, user)
    except InvalidFields as invalid:
        # Each form reads back its own values and errors ("p_agreement.title").
        context.update(
            {
                f"p_{action}": request.POST,
                f"e_{action}": invalid.by_field(),
                "error_list": invalid.errors,
                "failed": action,
            }
        )
        return None
    messages.success(request, message)
    anchor = request.POST.get("anchor", "")
    return redirect(request.path + (f"#{anchor}" if ANCHOR.fullmatch(anchor) else ""))


def _page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    handlers: Mapping[str, Handler],
    user: User,
) -> HttpResponse:
    status = 200
    if request.method == "POST":
        try:
            done = _handle(request, user, handlers, context)
        except access.AccessDenied as denied:
            return _forbidden(request, denied.message)
        if done is not None:
            return done
        status = 400
    context["secretariat"] = access.is_secretariat(user)
    return render(request, template, {**_common(), **context}, status=status)


def _get(request: HttpRequest, name: str) -> str:
    return request.POST.get(name, "")


# The index ---------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    """/conferencia/: sessions, working groups, open commitments, communiqués."""
    user = _reader(request)
    if user is None:
        return _forbidden(request, "Su cuenta no tiene acceso a los registros de la Conferencia.")

    def create_session(request: HttpRequest, actor: User) -> str:
        session = services.create_session(
            actor=actor,
            number=_get(request, "number"),
            kind=_get(request, "kind"),
            held_on=_get(request, "held_on"),
            place=_get(request, "place"),
        )
        return f"Sesión creada: {session.title}."

    today = timezone.localdate()
    open_items = list(queries.open_commitments())
    context = {
        "sessions": list(queries.sessions()),
        "groups": list(queries.working_groups()),
        "open_count": len(open_items),
        "overdue": [c for c in open_items if c.overdue_on(today)],
        "communiques": list(queries.all_communiques()),
    }
    return _page(request, "conference/home.html", context, {"session": create_session}, user)


# Sessions ----------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reader(request)
    if user is None:
        return _forbidden(request, "Su cuenta no tiene acceso a los registros de la Conferencia.")
    session = queries.session(pk)

    def agenda(request: HttpRequest, actor: User) -> str:
        titles = request.POST.getlist("item")
        presenters = request.POST.getlist("presenter")
        presenters += [""] * (len(titles) - len(presenters))
        services.set_agenda(
            actor=actor, session=session, items=list(zip(titles, presenters, strict=True))
        )
        return "Orden del día guardado."

    def approve(request: HttpRequest, actor: User) -> str:
        agreement = _agreement_of(session, _get(request, "agreement"))
        services.approve_agenda(
            actor=actor,
            session=session,
            approved_on=_get(request, "approved_on"),
            agreement=agreement,
        )
        return "Orden del día aprobado."

    def attendance(request: HttpRequest, actor: User) -> str:
        row = services.record_attendance(
            actor=actor,
            session=session,
            state=_get(request, "state"),
            mode=_get(request, "mode"),
            attendee=_get(request, "attendee"),
            position=_get(request, "position"),
        )
        return f"Asistencia de {row.state.name} registrada."

    def agreement(request: HttpRequest, actor: User) -> str:
        created = services.add_agreement(
            actor=actor,
            session=session,
            number=_get(request, "number"),
            title=_get(request, "title"),
            text=_get(request, "text"),
            instruments=request.POST.getlist("instruments"),
            public=_get(request, "public") == "1",
        )
        return f"Acuerdo {created.ordinal} registrado ({created.code})."

    def communique(request: HttpRequest, actor: User) -> str:
        created = services.draft_communique(
            actor=actor,
            session=session,
            agreement=_agreement_of(session, _get(request, "agreement")),
            title=_get(request, "title"),
            body=_get(request, "body"),
            text_in_record=_get(request, "not_in_record") != "1",
            note=_get(request, "note"),
        )
        return f"Comunicado en borrador: {created.title}."

    attended = {a.state_id: a for a in session.attendance.all()}
    context = {
        "session": session,
        "agreements": list(session.agreements.all()),
        "attendance_rows": [(s, attended.get(s.code)) for s in State.objects.order_by("code")],
        "agenda_rows": list[Any](session.agenda.all()) or [None],
    }
    handlers = {
        "agenda": agenda,
        "approve": approve,
        "attendance": attendance,
        "agreement": agreement,
        "communique": communique,
    }
    return _page(request, "conference/session.html", context, handlers, user)


def _agreement_of(session: Session, value: str) -> Any:
    if not value:
        return None
    found = session.agreements.filter(pk=value).first() if value.isdigit() else None
    if found is None:
        raise InvalidFields([("agreement", "Acuerdo: elija uno de esta sesión.")])
    return found


@login_required
@require_GET
def acta(request: HttpRequest, pk: int) -> HttpResponse:
    """The session's record of agreements as PDF."""
    if _reader(request) is None:
        return _forbidden(request, "Su cuenta no tiene acceso a los registros de la Conferencia.")
    session = queries.session(pk)
    response = HttpResponse(exports.acta_pdf(session), content_type="application/pdf")
    name = f"acta-de-acuerdos-{session.ordinal.lower()}-asamblea-plenaria.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@login_required
@require_GET
def follow_up_sheet(request: HttpRequest) -> HttpResponse:
    """Every open commitment and its follow-up, as XLSX (for the semi-annual report)."""
    if _reader(request) is None:
        return _forbidden(request, "Su cuenta no tiene acceso a los registros de la Conferencia.")
    today = timezone.localdate()
    response = HttpResponse(
        exports.follow_up_xlsx(today),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="seguimiento-compromisos-{today.isoformat()}.xlsx"'
    )
    return response


# Agreements and follow-up ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reader(request)
    if user is None:
        return _forbidden(request, "Su cuenta no tiene acceso a los registros de la Conferencia.")
    agreement = queries.agreement(pk)
    commitments = list(agreement.commitments.all())

    def commitment(request: HttpRequest, actor: User) -> str:
        group_id = _get(request, "working_group")
        group = agreement.working_groups.filter(pk=group_id).first() if group_id.isdigit() else None
        if group_id and group is None:
            raise InvalidFields([("working_group", "Mesa: elija una que cree este acuerdo.")])
        created = services.add_commitment(
            actor=actor,
            agreement=agreement,
            description=_get(request, "description"),
            owner_kind=_get(request, "owner_kind"),
            owner_state=_get(request, "owner_state"),
            owner_zone=_get(request, "owner_zone"),
            owner_institution=_get(request, "owner_institution"),
            owner_name=_get(request, "owner_name"),
            due_on=_get(request, "due_on"),
            tracking=_get(request, "tracking"),
            link=_get(request, "link"),
            working_group=group,
        )
        return f"Compromiso {created.position} registrado."

    def follow_up(request: HttpRequest, actor: User) -> str:
        target = next((c for c in commitments if str(c.pk) == _get(request, "commitment")), None)
        if target is None:
            raise InvalidFields([("commitment", "Compromiso: elija uno de este acuerdo.")])
        uploads = [
            services.Upload(f.name or "evidencia", f.content_type or "", f.read())
            for f in request.FILES.getlist("files")
        ]
        services.add_follow_up(
            actor=actor,
            commitment=target,
            reported_on=_get(request, "reported_on"),
            progress=_get(request, "progress"),
            status=_get(request, "status"),
            files=uploads,
        )
        return f"Avance registrado en el compromiso {target.position}."

    def update(request: HttpRequest, actor: User) -> str:
        services.update_agreement(
            actor=actor,
            agreement=agreement,
            title=_get(request, "title"),
            text=_get(request, "text"),
            instruments=request.POST.getlist("instruments"),
            public=_get(request, "public") == "1",
        )
        return "Acuerdo actualizado."

    def group(request: HttpRequest, actor: User) -> str:
        created = services.create_working_group(
            actor=actor,
            agreement=agreement,
            name=_get(request, "name"),
            purpose=_get(request, "purpose"),
            rule=_get(request, "rule"),
            proponent=_get(request, "proponent"),
            proponent_state=_get(request, "proponent_state"),
            counterpart=_get(request, "counterpart"),
            coordinator=_get(request, "coordinator") or "Secretaría Técnica",
        )
        return f"Mesa de trabajo creada: {created.name}."

    context = {
        "agreement": agreement,
        "commitments": [
            {
                "item": c,
                "overdue": c.overdue_on(timezone.localdate()),
                "may_follow_up": access.may_follow_up(user, c),
            }
            for c in commitments
        ],
        "follow_up_allowed": any(access.may_follow_up(user, c) for c in commitments),
        "history": queries.history(agreement),
        "report_status": (
            queries.monthly_report_status()
            if any(queries.tracks_monthly_report(c) for c in commitments)
            else None
        ),
        "institutions": list(Institution.objects.order_by("name").values_list("code", "name")),
        "agreement_instruments": set(agreement.instrument_codes()),
    }
    handlers = {
        "commitment": commitment,
        "follow_up": follow_up,
        "update": update,
        "group": group,
    }
    return _page(request, "conference/agreement.html", context, handlers, user)


@login_required
@require_GET
def evidence_file(request: HttpRequest, pk: int) -> HttpResponse:
    """A follow-up's evidence, always as a download (never rendered by the browser here)."""
    if _reader(request) is None:
        return _forbidden(request, "Su cuenta no tiene acceso a los registros de la Conferencia.")
    found = EvidenceFile.objects.filter(pk=pk).first()
    if found is None:
        raise Http404("No existe ese archivo.")
    response = HttpResponse(bytes(found.content), content_type="application/octet-stream")
    safe = found.name.encode("ascii", "replace").decode().replace("?", "_")
    response["Content-Disposition"] = f'attachment; filename="{safe}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# Working groups ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reader(request)
    if user is None:
        return _forbidden(request, "Su cuenta no tiene acceso a los registros de la Conferencia.")
    group = queries.working_group(pk)

    def member(request: HttpRequest, actor: User) -> str:
        created = services.add_member(
            actor=actor,
            group=group,
            name=_get(request, "name"),
            seat=_get(request, "seat"),
            position=_get(request, "position"),
            state=_get(request, "state"),
            zone=_get(request, "zone"),
            party=_get(request, "party"),
            joined_on=_get(request, "joined_on"),
        )
        return f"{created.name} se integra a la mesa."

    def leave(request: HttpRequest, actor: User) -> str:
        found = GroupMember.objects.filter(group=group, pk=_get(request, "member") or 0).first()
        if found is None:
            raise InvalidFields([("member", "Integrante: elija uno de la mesa.")])
        services.end_membership(actor=actor, member=found, left_on=_get(request, "left_on"))
        return f"{found.name} deja la mesa."

    def liaison(request: HttpRequest, actor: User) -> str:
        item = services.add_liaison(
            actor=actor,
            group=group,
            institution=_get(request, "institution"),
            purpose=_get(request, "purpose"),
        )
        return f"Enlace con {item.institution} registrado."

    def meeting(request: HttpRequest, actor: User) -> str:
        item = services.add_meeting(
            actor=actor,
            group=group,
            held_on=_get(request, "held_on"),
            place=_get(request, "place"),
            attendees=_get(request, "attendees"),
            minutes=_get(request, "minutes"),
        )
        return f"Reunión del {item.held_on:%d/%m/%Y} registrada."

    def deliverable(request: HttpRequest, actor: User) -> str:
        item = services.add_deliverable(
            actor=actor,
            group=group,
            title=_get(request, "title"),
            description=_get(request, "description"),
            due_on=_get(request, "due_on"),
        )
        return f"Entregable registrado: {item.title}."

    def delivered(request: HttpRequest, actor: User) -> str:
        found = group.deliverables.filter(pk=_get(request, "deliverable") or 0).first()
        if found is None:
            raise InvalidFields([("deliverable", "Entregable: elija uno de la mesa.")])
        services.mark_delivered(
            actor=actor, deliverable=found, delivered_on=_get(request, "delivered_on")
        )
        return f"Entregado: {found.title}."

    def report(request: HttpRequest, actor: User) -> str:
        value = _get(request, "report_session")
        session = Session.objects.filter(pk=value).first() if value.isdigit() else None
        if value and session is None:
            raise InvalidFields([("report_session", "Sesión: elija una de la lista.")])
        services.schedule_report(
            actor=actor, group=group, session=session, presented=_get(request, "presented") == "1"
        )
        return "Sesión de presentación de resultados registrada."

    members = list(group.members.all())
    context = {
        "group": group,
        "current": [m for m in members if m.left_on is None],
        "former": [m for m in members if m.left_on is not None],
        "problems": group.composition_problems(),
        "history": queries.group_history(group),
        "later_sessions": list(
            Session.objects.filter(held_on__gte=group.agreement.session.held_on).order_by("held_on")
        ),
        "group_statuses": GroupStatus,
    }
    handlers = {
        "member": member,
        "leave": leave,
        "liaison": liaison,
        "meeting": meeting,
        "deliverable": deliverable,
        "delivered": delivered,
        "report": report,
    }
    return _page(request, "conference/group.html", context, handlers, user)


# Communiqués -------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def communique_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reader(request)
    if user is None:
        return _forbidden(request, "Su cuenta no tiene acceso a los registros de la Conferencia.")
    item = queries.communique(pk)

    def approve(request: HttpRequest, actor: User) -> str:
        services.approve_communique(
            actor=actor, communique=item, approved_on=_get(request, "approved_on")
        )
        return "Comunicado aprobado."

    def publish(request: HttpRequest, actor: User) -> str:
        services.publish_communique(actor=actor, communique=item)
        return "Comunicado publicado: ya aparece en la página pública."

    def revise(request: HttpRequest, actor: User) -> str:
        services.revise_communique(
            actor=actor,
            communique=item,
            title=_get(request, "title"),
            body=_get(request, "body"),
            text_in_record=_get(request, "not_in_record") != "1",
            note=_get(request, "note"),
        )
        return "Borrador guardado."

    context = {"communique": item}
    handlers = {"approve": approve, "publish": publish, "revise": revise}
    return _page(request, "conference/communique.html", context, handlers, user)


# The public page ---------------------------------------------------------------------------------


@require_GET
def public(request: HttpRequest) -> HttpResponse:
    """/conferencia/publico/: published communiqués and the agreements marked public."""
    agreements = list(queries.public_agreements())
    sessions: dict[int, dict[str, Any]] = {}
    for agreement in agreements:
        entry = sessions.setdefault(
            agreement.session_id, {"session": agreement.session, "agreements": []}
        )
        entry["agreements"].append(agreement)
    context = {
        "communiques": list(queries.published_communiques()),
        "sessions": list(sessions.values()),
        "today": timezone.localdate(),
    }
    return render(request, "conference/public.html", context)


@require_GET
def public_communique(request: HttpRequest, pk: int) -> HttpResponse:
    item = queries.published_communiques().filter(pk=pk).first()
    if item is None:
        raise Http404("No existe ese comunicado publicado.")
    return render(request, "conference/public_communique.html", {"communique": item})
