"""The custody-event form on a detention's page: flat field names to the event the API takes."""

from __future__ import annotations

from typing import Any

from django.http import QueryDict

from .capture_form import local_to_aware
from .custody import LEGAL_STATUSES
from .schemas import AUTHORITY_KIND_LABELS, EVENT_KIND_LABELS

KIND_CHOICES = [(k, v) for k, v in EVENT_KIND_LABELS.items() if k != "corrected"]
AUTHORITY_CHOICES = list(AUTHORITY_KIND_LABELS.items())
LEGAL_STATUS_CHOICES = list(LEGAL_STATUSES.items())
CORRECTABLE_CHOICES = [
    ("occurred_at", "Fecha y hora"),
    ("authority.name", "Nombre de la autoridad"),
    ("place.name", "Nombre del lugar"),
    ("place.address", "Domicilio del lugar"),
    ("legal_status", "Situación jurídica"),
    ("details", "Detalles"),
]


def _text(post: QueryDict, name: str) -> str:
    return post.get(name, "").strip()


def event_payload(post: QueryDict, zone: str) -> dict[str, Any]:
    kind = _text(post, "kind")
    body: dict[str, Any] = {
        "kind": kind,
        "occurred_at": local_to_aware(_text(post, "occurred_at"), zone) or None,
        "details": _text(post, "details") or None,
        "legal_status": _text(post, "legal_status") or None,
        "organized_crime": post.get("organized_crime") == "on",
    }
    version = _text(post, "expected_version")
    if version.isdigit():
        body["expected_version"] = int(version)
    authority = {
        "kind": _text(post, "authority.kind"),
        "name": _text(post, "authority.name"),
        "institution": _text(post, "authority.institution") or None,
    }
    if authority["kind"] or authority["name"]:
        body["authority"] = authority
    place = {
        "name": _text(post, "place.name") or None,
        "address": _text(post, "place.address") or None,
        "state": _text(post, "place.state") or None,
    }
    if any(place.values()):
        body["place"] = place
    return body


def correction_payload(post: QueryDict, zone: str) -> dict[str, Any]:
    field = _text(post, "field")
    value = _text(post, "value")
    if field == "occurred_at":
        value = local_to_aware(value, zone)
    target = _text(post, "corrects")
    body: dict[str, Any] = {
        "kind": "corrected",
        "corrects": int(target) if target.isdigit() and len(target) < 19 else None,
        "field": field or None,
        "value": value or None,
        "reason": _text(post, "reason") or None,
    }
    version = _text(post, "expected_version")
    if version.isdigit():
        body["expected_version"] = int(version)
    if body["corrects"] is None:
        body.pop("corrects")
    return body
