"""What a Conference record's ledger leaf commits to: its state after the change, as plain JSON.
The services write these documents into revisions, and verification compares each record's
current state with its last revision."""

from __future__ import annotations

from typing import Any

from custodia.ledger.commitments import instant

from .models import (
    Agreement,
    Commitment,
    Communique,
    Deliverable,
    FollowUp,
    GroupMember,
    Liaison,
    Meeting,
    Session,
    WorkingGroup,
)


def _day(value: Any) -> str | None:
    return value.isoformat() if value else None


def session(s: Session) -> dict[str, Any]:
    return {
        "number": s.number,
        "kind": s.kind,
        "held_on": _day(s.held_on),
        "place": s.place,
        "agenda": [
            {"position": i.position, "title": i.title, "presenter": i.presenter}
            for i in s.agenda.order_by("position")
        ],
        "agenda_approved_on": _day(s.agenda_approved_on),
        "agenda_approved_by": s.agenda_approved_by_id,
        "attendance": [
            {"state": a.state_id, "mode": a.mode, "attendee": a.attendee, "position": a.position}
            for a in s.attendance.order_by("state_id")
        ],
    }


def agreement(a: Agreement) -> dict[str, Any]:
    return {
        "session": a.session_id,
        "number": a.number,
        "code": a.code,
        "title": a.title,
        "text": a.text,
        "public": a.public,
        "instruments": sorted(a.instruments.values_list("instrument", flat=True)),
    }


def commitment(c: Commitment) -> dict[str, Any]:
    return {
        "agreement": c.agreement_id,
        "position": c.position,
        "description": c.description,
        "owner_kind": c.owner_kind,
        "owner_state": c.owner_state_id,
        "owner_zone": c.owner_zone,
        "owner_institution": c.owner_institution_id,
        "owner_name": c.owner_name,
        "due_on": _day(c.due_on),
        "status": c.status,
        "tracking": c.tracking,
        "link": c.link,
        "working_group": c.working_group_id,
    }


def follow_up(f: FollowUp) -> dict[str, Any]:
    return {
        "commitment": f.commitment_id,
        "reported_on": _day(f.reported_on),
        "progress": f.progress,
        "status": f.status,
        "author": f.author_id,
        "files": [
            {"name": e.name, "size": e.size, "sha256": e.sha256} for e in f.files.order_by("id")
        ],
    }


def working_group(g: WorkingGroup) -> dict[str, Any]:
    return {
        "name": g.name,
        "purpose": g.purpose,
        "agreement": g.agreement_id,
        "proponent": g.proponent,
        "proponent_state": g.proponent_state_id,
        "rule": g.rule,
        "counterpart": g.counterpart,
        "coordinator": g.coordinator,
        "status": g.status,
        "report_session": g.report_session_id,
    }


def member(m: GroupMember) -> dict[str, Any]:
    return {
        "group": m.group_id,
        "name": m.name,
        "position": m.position,
        "state": m.state_id,
        "seat": m.seat,
        "zone": m.zone,
        "party": m.party,
        "joined_on": _day(m.joined_on),
        "left_on": _day(m.left_on),
    }


def liaison(item: Liaison) -> dict[str, Any]:
    return {"group": item.group_id, "institution": item.institution, "purpose": item.purpose}


def meeting(m: Meeting) -> dict[str, Any]:
    return {
        "group": m.group_id,
        "held_on": _day(m.held_on),
        "place": m.place,
        "attendees": m.attendees,
        "minutes": m.minutes,
    }


def deliverable(d: Deliverable) -> dict[str, Any]:
    return {
        "group": d.group_id,
        "title": d.title,
        "description": d.description,
        "due_on": _day(d.due_on),
        "delivered_on": _day(d.delivered_on),
    }


def communique(c: Communique) -> dict[str, Any]:
    return {
        "session": c.session_id,
        "agreement": c.agreement_id,
        "title": c.title,
        "body": c.body,
        "text_in_record": c.text_in_record,
        "note": c.note,
        "status": c.status,
        "approved_on": _day(c.approved_on),
        "published_at": instant(c.published_at) if c.published_at else None,
    }


# record name → (model, document function): what verification compares.
KINDS: dict[str, tuple[Any, Any]] = {
    "session": (Session, session),
    "agreement": (Agreement, agreement),
    "commitment": (Commitment, commitment),
    "follow_up": (FollowUp, follow_up),
    "working_group": (WorkingGroup, working_group),
    "member": (GroupMember, member),
    "liaison": (Liaison, liaison),
    "meeting": (Meeting, meeting),
    "deliverable": (Deliverable, deliverable),
    "communique": (Communique, communique),
}
