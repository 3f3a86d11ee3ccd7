"""What each leaf commits to: an event's canonical JSON (sorted keys, no insignificant
whitespace, UTF-8) with a random 16-byte salt. Pure: no Django."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from . import merkle


def new_salt() -> str:
    return secrets.token_hex(16)


# One encoder for every document (json.dumps with these options would make one per call).
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical(document: Any) -> bytes:
    return _CANONICAL.encode(document).encode("utf-8")


def instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def event_document(
    *,
    folio: str,
    sequence: int,
    kind: str,
    occurred_at: datetime,
    recorded_at: datetime,
    recorded_by: int,
    institution: int,
    local_zone: str,
    data: Mapping[str, Any],
    salt: str,
) -> dict[str, Any]:
    return {
        "detention": folio,
        "sequence": sequence,
        "kind": kind,
        "occurred_at": instant(occurred_at),
        "recorded_at": instant(recorded_at),
        "recorded_by": recorded_by,
        "institution": institution,
        "local_zone": local_zone,
        "data": dict(data),
        "salt": salt,
    }


def commitment(document: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(canonical(document)).digest()


def leaf_hash(document: Mapping[str, Any]) -> bytes:
    return merkle.leaf_hash(commitment(document))


def person_digest(person: Mapping[str, Any], salt: str) -> str:
    """Binds the registration's leaf to the person's data without putting it in the event: an
    auditor recomputes it from the stored person; a redaction replaces the data, not this."""
    return hashlib.sha256(bytes.fromhex(salt) + canonical(dict(person))).hexdigest()
