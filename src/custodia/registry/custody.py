"""The custody chain as a state machine written as data, and the projection of a detention's
events into its current state (DESIGN.md §2). Pure: no Django.

``replay`` is the single definition of "current state": the service uses it to check and apply
each new event, and ``custodia registry rebuild --check`` uses it to audit the stored columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from .rules import RULES, Finding

# Statuses (the values of models.Status).
IN_POLICE_CUSTODY = "in_police_custody"
WITH_PROSECUTOR = "with_prosecutor"
WITH_CIVIC_JUDGE = "with_civic_judge"
WITH_ADOLESCENT_JUSTICE = "with_adolescent_justice"
WITH_CHILD_PROTECTION = "with_child_protection"
WITH_MIGRATION = "with_migration"
WITH_OTHER = "with_other_authority"
BEFORE_JUDGE = "before_judge"
IN_PRISON = "in_prison"
RELEASED = "released"
ESCAPED = "escaped"
DECEASED = "deceased"

HELD = frozenset(
    {
        IN_POLICE_CUSTODY,
        WITH_PROSECUTOR,
        WITH_CIVIC_JUDGE,
        WITH_ADOLESCENT_JUSTICE,
        WITH_CHILD_PROTECTION,
        WITH_MIGRATION,
        WITH_OTHER,
        BEFORE_JUDGE,
        IN_PRISON,
    }
)
ANY = HELD | {RELEASED, ESCAPED, DECEASED}

# Where a handover leaves the person, by the kind of the receiving authority.
STATUS_AFTER_HANDOVER = {
    "public_prosecutor": WITH_PROSECUTOR,
    "civic_judge": WITH_CIVIC_JUDGE,
    "adolescent_justice": WITH_ADOLESCENT_JUSTICE,
    "child_protection": WITH_CHILD_PROTECTION,
    "migration": WITH_MIGRATION,
    "judge": BEFORE_JUDGE,
    "prison": IN_PRISON,
    "other": WITH_OTHER,
}
AUTHORITY_KINDS = tuple(STATUS_AFTER_HANDOVER)

# The state machine: for each kind of event, the statuses it may follow. Anything else is
# RND-E301 (or a more specific code below).
ALLOWED_FROM: Mapping[str, frozenset[str]] = {
    "handed_over": HELD - {BEFORE_JUDGE, IN_PRISON},
    "transferred": HELD,
    "legal_status_changed": HELD,
    "presented_to_judge": frozenset(
        {IN_POLICE_CUSTODY, WITH_PROSECUTOR, WITH_ADOLESCENT_JUSTICE, IN_PRISON}
    ),
    "admitted_to_prison": frozenset(
        {BEFORE_JUDGE, WITH_PROSECUTOR, WITH_ADOLESCENT_JUSTICE, IN_POLICE_CUSTODY, IN_PRISON}
    ),
    "released": HELD,
    "escaped": HELD,
    "recaptured": frozenset({ESCAPED}),
    "died_in_custody": HELD,
    "corrected": ANY,
    "note": ANY,
    "redacted": ANY,
}
EVENT_KINDS = tuple(ALLOWED_FROM)

# Legal statuses seen in operation (DESIGN.md §1), with what they mean for the clocks.
LEGAL_STATUSES: Mapping[str, str] = {
    "flagrancia": "Flagrancia",
    "orden_de_aprehension": "Orden de aprehensión cumplimentada",
    "caso_urgente": "Caso urgente",
    "retencion_ministerial": "Retención ministerial",
    "arresto_administrativo": "Arresto administrativo",
    "ampliacion_plazo_constitucional": "Ampliación del plazo constitucional (144 h)",
    "vinculacion_a_proceso": "Vinculación a proceso",
    "no_vinculacion_a_proceso": "No vinculación a proceso",
    "prision_preventiva": "Prisión preventiva",
    "medida_cautelar_distinta": "Medida cautelar distinta de la prisión",
    "sentencia_condenatoria": "Sentencia condenatoria",
    "cumplimiento_de_pena": "Cumplimiento de pena",
    "libertad": "Libertad",
}
# A judge's decision on the person's situation: it stops the 72/144 h term (Const. art. 19).
BINDING_DECISIONS = frozenset(
    {
        "vinculacion_a_proceso",
        "no_vinculacion_a_proceso",
        "prision_preventiva",
        "medida_cautelar_distinta",
        "sentencia_condenatoria",
        "cumplimiento_de_pena",
    }
)
# A judge's order that allows holding someone in prison.
PRISON_ORDERS = frozenset(
    {
        "prision_preventiva",
        "sentencia_condenatoria",
        "cumplimiento_de_pena",
        "vinculacion_a_proceso",
        "orden_de_aprehension",
    }
)

# What a correction may change, and in which event.
CORRECTABLE_FIELDS = frozenset(
    {"occurred_at", "authority.name", "place.name", "place.address", "legal_status", "details"}
)


@dataclass(frozen=True)
class Authority:
    kind: str
    name: str
    institution: str | None = None


@dataclass(frozen=True)
class Event:
    """One custody event as the state machine sees it."""

    kind: str
    occurred_at: datetime
    sequence: int = 0
    id: int | None = None
    authority: Authority | None = None
    place_name: str = ""
    place_address: str = ""
    place_state: str | None = None
    legal_status: str | None = None
    organized_crime: bool = False
    details: str = ""
    corrects: int | None = None
    field: str | None = None
    value: Any = None
    reason: str = ""

    @classmethod
    def from_data(
        cls,
        kind: str,
        occurred_at: datetime,
        data: Mapping[str, Any],
        sequence: int = 0,
        id: int | None = None,
    ) -> Event:
        authority = data.get("authority")
        place = data.get("place") or {}
        return cls(
            kind=kind,
            occurred_at=occurred_at,
            sequence=sequence,
            id=id,
            authority=Authority(authority["kind"], authority["name"], authority.get("institution"))
            if authority
            else None,
            place_name=place.get("name") or "",
            place_address=place.get("address") or "",
            place_state=place.get("state"),
            legal_status=data.get("legal_status"),
            organized_crime=bool(data.get("organized_crime")),
            details=data.get("details") or "",
            corrects=data.get("corrects"),
            field=data.get("field"),
            value=data.get("value"),
            reason=data.get("reason") or "",
        )


@dataclass(frozen=True)
class Registration:
    """What the ``registered`` event establishes."""

    detained_at: datetime
    registered_at: datetime
    institution: str
    institution_name: str
    location: str
    arrest_basis: str
    age_group: str | None = None  # "child", "adolescent", "adult" or None when unknown


@dataclass(frozen=True)
class State:
    """The current state of a detention: the projection of its events."""

    status: str
    holder_kind: str
    holder_name: str
    holder_institution: str | None
    location: str
    legal_status: str | None
    detained_at: datetime
    registered_at: datetime
    arrest_basis: str
    age_group: str | None
    last_event_at: datetime
    custody_since: datetime
    version: int = 1
    handed_over_at: datetime | None = None
    prosecutor_since: datetime | None = None
    judge_since: datetime | None = None
    binding_order_at: datetime | None = None
    term_extended: bool = False
    organized_crime: bool = False
    judge_order: bool = False
    released_at: datetime | None = None
    died_at: datetime | None = None
    escaped_at: datetime | None = None
    prosecutor_until: datetime | None = None
    administrative_ended_at: datetime | None = None
    child_protection_at: datetime | None = None
    holders: frozenset[str] = field(default_factory=frozenset)
    handed_to_non_specialist: bool = False

    @property
    def held(self) -> bool:
        return self.status in HELD


def utc(moment: datetime) -> datetime:
    """Instants in UTC. Python adds and subtracts aware datetimes that share a ZoneInfo on the
    wall clock, so 48 h across a daylight-saving change would be 47 or 49 real hours; in UTC
    they are always 48."""
    return moment.astimezone(UTC)


def initial(reg: Registration) -> State:
    return State(
        status=IN_POLICE_CUSTODY,
        holder_kind="police",
        holder_name=reg.institution_name,
        holder_institution=reg.institution,
        location=reg.location,
        legal_status=_basis_status(reg.arrest_basis),
        detained_at=utc(reg.detained_at),
        registered_at=utc(reg.registered_at),
        arrest_basis=reg.arrest_basis,
        age_group=reg.age_group,
        last_event_at=utc(reg.detained_at),
        custody_since=utc(reg.detained_at),
        holders=frozenset({reg.institution}),
        # An arrest warrant is itself a judge's order.
        judge_order=reg.arrest_basis == "warrant",
    )


def _basis_status(basis: str) -> str | None:
    return {
        "flagrante": "flagrancia",
        "warrant": "orden_de_aprehension",
        "urgent_case": "caso_urgente",
        "administrative": "arresto_administrativo",
    }.get(basis)


def _location(event: Event, fallback: str) -> str:
    parts = [p for p in (event.place_name, event.place_address) if p]
    return ", ".join(parts) if parts else fallback


def apply(state: State, event: Event) -> State:
    """The state after ``event``. Assumes ``check`` found no error.

    The changes are gathered first and made in one ``replace``: a state has some forty fields,
    and copying it once per change was most of the cost of replaying a long history."""
    changes: dict[str, Any] = {"version": state.version + 1}
    if event.kind in {"note", "corrected", "redacted"}:
        return replace(state, **changes)

    def now(name: str) -> Any:
        return changes[name] if name in changes else getattr(state, name)

    at = utc(event.occurred_at)
    changes["last_event_at"] = max(state.last_event_at, at)
    if event.legal_status:
        changes["legal_status"] = event.legal_status
        if event.legal_status == "ampliacion_plazo_constitucional":
            changes["term_extended"] = True
        if event.legal_status in BINDING_DECISIONS and state.binding_order_at is None:
            changes["binding_order_at"] = at
        if event.legal_status in PRISON_ORDERS:
            changes["judge_order"] = True
    if event.organized_crime:
        changes["organized_crime"] = True
    authority = event.authority
    status = state.status
    if event.kind in {
        "handed_over",
        "transferred",
        "presented_to_judge",
        "admitted_to_prison",
        "recaptured",
    }:
        new_status = status
        if event.kind == "handed_over" and authority:
            new_status = STATUS_AFTER_HANDOVER[authority.kind]
            if state.handed_over_at is None:
                changes["handed_over_at"] = at
            if state.age_group in {"child", "adolescent"} and authority.kind not in {
                "adolescent_justice",
                "child_protection",
                "judge",
            }:
                changes["handed_to_non_specialist"] = True
        elif event.kind == "transferred" and authority:
            new_status = STATUS_AFTER_HANDOVER.get(authority.kind, status)
            if status == IN_POLICE_CUSTODY and authority.kind == "other":
                new_status = IN_POLICE_CUSTODY  # moved between police places
        elif event.kind == "presented_to_judge":
            new_status = BEFORE_JUDGE
            changes["judge_since"] = at
            changes["judge_order"] = True
        elif event.kind == "admitted_to_prison":
            new_status = IN_PRISON
        elif event.kind == "recaptured":
            new_status = IN_POLICE_CUSTODY
        if (
            now("handed_over_at") is None
            and status == IN_POLICE_CUSTODY
            and new_status not in {IN_POLICE_CUSTODY}
        ):
            changes["handed_over_at"] = at
        if new_status == WITH_PROSECUTOR and status != WITH_PROSECUTOR:
            changes["prosecutor_since"] = at
            changes["prosecutor_until"] = None
        if status == WITH_PROSECUTOR and new_status != WITH_PROSECUTOR:
            changes["prosecutor_until"] = at
        if (
            state.administrative_ended_at is None
            and state.arrest_basis == "administrative"
            and new_status not in {IN_POLICE_CUSTODY, WITH_CIVIC_JUDGE}
        ):
            changes["administrative_ended_at"] = at
        if new_status == WITH_CHILD_PROTECTION and state.child_protection_at is None:
            changes["child_protection_at"] = at
        holder = authority or Authority(
            state.holder_kind, state.holder_name, state.holder_institution
        )
        if holder.institution is None:
            # An authority outside Custodia (a judge, a hospital): the last institution in
            # Custodia keeps the record current until another one takes the person in.
            holder = replace(holder, institution=state.holder_institution)
        changed_holder = (holder.institution, holder.name) != (
            state.holder_institution,
            state.holder_name,
        )
        changes.update(
            status=new_status,
            holder_kind=holder.kind,
            holder_name=holder.name,
            holder_institution=holder.institution,
            location=_location(event, state.location),
            custody_since=at if changed_holder or new_status != status else state.custody_since,
            holders=state.holders | ({holder.institution} if holder.institution else set()),
        )
        return replace(state, **changes)
    if event.kind == "legal_status_changed":
        changes["location"] = _location(event, state.location)
        return replace(state, **changes)
    changes.update(_custody_ended(state, at))
    changes["location"] = _location(event, state.location)
    if event.kind == "released":
        changes.update(
            status=RELEASED, released_at=at, legal_status=event.legal_status or "libertad"
        )
    elif event.kind == "escaped":
        changes.update(status=ESCAPED, escaped_at=at)
    elif event.kind == "died_in_custody":
        changes.update(status=DECEASED, died_at=at)
    else:
        raise ValueError(f"unknown event kind {event.kind}")
    return replace(state, **changes)


def _custody_ended(s: State, at: datetime) -> dict[str, Any]:
    """Close the running periods when custody ends (release, escape, death)."""
    return {
        "prosecutor_until": at if s.status == WITH_PROSECUTOR else s.prosecutor_until,
        "administrative_ended_at": s.administrative_ended_at
        or (at if s.arrest_basis == "administrative" else None),
    }


def state_to_json(state: State) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in vars(state).items():
        if isinstance(value, datetime):
            out[name] = value.astimezone(UTC).isoformat()
        elif isinstance(value, frozenset):
            out[name] = sorted(value)
        else:
            out[name] = value
    return out


_DATETIME_FIELDS = frozenset(
    name for name, kind in State.__annotations__.items() if "datetime" in str(kind)
)


def state_from_json(data: Mapping[str, Any]) -> State:
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name in _DATETIME_FIELDS and isinstance(value, str):
            values[name] = datetime.fromisoformat(value)
        elif name == "holders":
            values[name] = frozenset(value)
        else:
            values[name] = value
    return State(**values)


def finding(code: str, message: str | None = None, field_path: str | None = None) -> Finding:
    return RULES[code].finding(field_path, message)


def check(
    state: State,
    event: Event,
    *,
    now: datetime,
    future_tolerance: timedelta = timedelta(minutes=5),
    events_by_id: Mapping[int, Event] | None = None,
) -> list[Finding]:
    """Why ``event`` may not follow ``state``; an empty list means it may."""
    problems: list[Finding] = []
    if event.occurred_at > now + future_tolerance:
        problems.append(finding("RND-E303"))
    if event.occurred_at < state.detained_at:
        problems.append(finding("RND-E302"))
    elif event.kind not in {"note", "corrected", "redacted"} and (
        event.occurred_at < state.last_event_at
    ):
        problems.append(finding("RND-E307"))
    if state.status == DECEASED and event.kind not in {"note", "corrected", "redacted"}:
        problems.append(finding("RND-E305"))
    elif state.status == RELEASED and event.kind == "released":
        problems.append(finding("RND-E306"))
    elif state.status not in ALLOWED_FROM[event.kind]:
        problems.append(
            finding(
                "RND-E301",
                f"Un movimiento «{event.kind}» no puede seguir a la situación «{state.status}».",
                "kind",
            )
        )
    if event.kind == "admitted_to_prison" and not (
        state.judge_order or (event.legal_status in PRISON_ORDERS)
    ):
        problems.append(finding("RND-E304"))
    if (
        event.kind in {"handed_over", "transferred", "admitted_to_prison"}
        and event.authority is None
    ):
        problems.append(finding("RND-E101", "Indique la autoridad.", "authority"))
    if event.kind == "legal_status_changed" and not event.legal_status:
        problems.append(finding("RND-E101", "Indique la situación jurídica.", "legal_status"))
    if event.kind == "corrected":
        problems.extend(_check_correction(event, events_by_id or {}))
    if event.kind == "note" and not event.details:
        problems.append(finding("RND-E101", "Escriba el texto de la nota.", "details"))
    return problems


def _check_correction(event: Event, events_by_id: Mapping[int, Event]) -> list[Finding]:
    target = events_by_id.get(event.corrects) if event.corrects is not None else None
    if target is None:
        return [finding("RND-E308")]
    problems = []
    if target.kind == "corrected":
        problems.append(finding("RND-E310"))
    if event.field not in CORRECTABLE_FIELDS:
        problems.append(finding("RND-E309"))
    elif event.field == "occurred_at":
        moment = _instant(event.value)
        if moment is None:
            problems.append(
                finding("RND-E143", "Debe ser una fecha y hora RFC 3339 con zona.", "value")
            )
        elif target.kind == "registered":
            problems.append(
                finding("RND-E309", "La hora de la detención no se corrige con un movimiento.")
            )
    elif event.field == "legal_status" and event.value not in LEGAL_STATUSES:
        problems.append(finding("RND-E144", "La situación jurídica no es válida.", "value"))
    elif not isinstance(event.value, str) or not event.value.strip() or len(event.value) > 2000:
        problems.append(finding("RND-E143", "El nuevo valor debe ser texto (1 a 2000).", "value"))
    if not event.reason:
        problems.append(finding("RND-E101", "Indique el motivo de la corrección.", "reason"))
    return problems


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None and 1900 <= moment.year <= 2999 else None


def corrected_events(events: Iterable[Event]) -> list[Event]:
    """The events with every correction applied to the event it names (latest wins); the
    corrections themselves stay in the list, so the version count is unchanged."""
    events = list(events)
    patches: dict[int, dict[str, Any]] = {}
    for e in events:
        if e.kind == "corrected" and e.corrects is not None and e.field:
            patches.setdefault(e.corrects, {})[e.field] = e.value
    if not patches:
        return events
    result = []
    for e in events:
        patch = patches.get(e.id) if e.id is not None else None
        result.append(_patched(e, patch) if patch else e)
    return result


def _patched(event: Event, patch: Mapping[str, Any]) -> Event:
    changes: dict[str, Any] = {}
    for path, value in patch.items():
        if path == "occurred_at":
            changes["occurred_at"] = (
                datetime.fromisoformat(value) if isinstance(value, str) else value
            )
        elif path == "authority.name" and event.authority:
            changes["authority"] = replace(event.authority, name=str(value))
        elif path == "place.name":
            changes["place_name"] = str(value)
        elif path == "place.address":
            changes["place_address"] = str(value)
        elif path == "legal_status":
            changes["legal_status"] = value
        elif path == "details":
            changes["details"] = str(value)
    return replace(event, **changes)


def replay(registration: Registration, events: Iterable[Event]) -> State:
    """The current state from the registration and the events after it, corrections applied."""
    state = initial(registration)
    patched = corrected_events(events)
    ordered = sorted(patched, key=lambda e: e.sequence)
    for event in ordered:
        state = apply(state, event)
    return state
