"""The capture form: flat HTML field names to the nested capture the API takes, and back.

The form and the API share one validation path (``services.detention_register``); this module
only translates names, so a field error found by a rule lands next to the field that caused it.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.http import QueryDict

from custodia.core.models import Municipality, State

OFFICER_ROWS = 3

PERSON_FIELDS = (
    "given_names",
    "first_surname",
    "second_surname",
    "alias",
    "sex",
    "age",
    "birth_date",
    "curp",
    "nationality",
    "physical_condition",
    "distinguishing_marks",
)
OFFICER_FIELDS = ("name", "rank", "unit", "cuip")


def _get(post: QueryDict, name: str) -> str:
    return post.get(name, "")


def _local_zone(post: QueryDict) -> str | None:
    code = _get(post, "place.municipality").strip()
    if code.isascii() and code.isdigit():
        municipality = Municipality.objects.select_related("state").filter(code=code).first()
        if municipality:
            return municipality.effective_timezone
    state_code = _get(post, "place.state").strip()
    if not (state_code.isascii() and state_code.isdigit()):
        return None
    state = State.objects.filter(code=state_code).first()
    return state.timezone if state else None


def local_to_aware(text: str, zone: str | None) -> str:
    """A ``datetime-local`` value typed at the place, made explicit with that place's offset."""
    text = text.strip()
    if not text:
        return ""
    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        return text  # the parser reports the bad format with its rule code
    if naive.tzinfo is not None or zone is None:
        return text
    return naive.replace(tzinfo=ZoneInfo(zone)).isoformat()


def _number(text: str, kind: type[int] | type[float]) -> int | float | str | None:
    """A typed number as a number; anything else goes on as text for the parser to reject."""
    text = text.strip().replace(",", ".") if kind is float else text.strip()
    if not text:
        return None
    try:
        value = kind(text)
    except ValueError:
        return text
    return value if math.isfinite(value) else text


def payload_from_post(post: QueryDict) -> dict[str, Any]:
    person: dict[str, Any] = {f: _get(post, f"person.{f}") for f in PERSON_FIELDS}
    person["age"] = _number(person["age"], int)
    person["birth_date"] = person["birth_date"].strip() or None
    officers = []
    for row in range(OFFICER_ROWS):
        officer = {f: _get(post, f"officers[{row}].{f}") for f in OFFICER_FIELDS}
        if any(v.strip() for v in officer.values()):
            officers.append(officer)
    lat = _number(_get(post, "place.latitude"), float)
    lon = _number(_get(post, "place.longitude"), float)
    contact = {
        "name": _get(post, "contact.name"),
        "relationship": _get(post, "contact.relationship"),
        "phone": _get(post, "contact.phone"),
    }
    return {
        "person": person,
        "detained_at": local_to_aware(_get(post, "detained_at"), _local_zone(post)),
        "place": {
            "state": _get(post, "place.state"),
            "municipality": _get(post, "place.municipality"),
            "address": _get(post, "place.address"),
            "latitude": lat,
            "longitude": lon,
        },
        "arrest_basis": _get(post, "arrest_basis"),
        "reason": _get(post, "reason"),
        "officers": officers,
        "receiving_authority": {
            "kind": _get(post, "receiving_authority.kind"),
            "name": _get(post, "receiving_authority.name"),
            "institution": _get(post, "receiving_authority.institution"),
        },
        "contact": contact if any(v.strip() for v in contact.values()) else None,
        "force_used": post.get("force_used") == "on",
    }


def form_field(path: str) -> str:
    """Where a finding is shown: the API path of the field is the form field's name, except for
    rules about a whole list or object, which show beside its first field."""
    if path == "officers":
        return "officers[0].name"
    if path in {"person", "place", "receiving_authority", "body"}:
        return "__all__"
    return path
