"""``Idempotency-Key`` on writes: the same key and body give the first answer again; the same key
with another body is a 409 (API.md, Conventions)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest

from .models import IdempotencyRecord, User

MAX_KEY_LENGTH = 200


class IdempotencyConflict(Exception):
    message = "La clave Idempotency-Key ya se usó con un cuerpo distinto."


class InvalidIdempotencyKey(Exception):
    message = "La clave Idempotency-Key debe tener entre 1 y 200 caracteres visibles."


def run_idempotent(
    request: HttpRequest, user: User, write: Callable[[], tuple[int, Any]]
) -> tuple[int, Any]:
    """Run ``write`` (which returns status and JSON body) at most once per key."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return write()
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidIdempotencyKey()
    digest = hashlib.sha256(request.body).hexdigest()
    previous = IdempotencyRecord.objects.filter(user=user, key=key).first()
    if previous is not None:
        return _replay(previous, digest, request)
    try:
        with transaction.atomic():
            status, body = write()
            if status < 500:
                IdempotencyRecord.objects.create(
                    user=user,
                    key=key,
                    method=request.method or "",
                    path=request.path[:300],
                    request_hash=digest,
                    status=status,
                    response=body,
                )
            return status, body
    except IntegrityError:
        # Another request with the same key won the race; answer as it did.
        previous = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if previous is None:
            raise
        return _replay(previous, digest, request)


def _replay(record: IdempotencyRecord, digest: str, request: HttpRequest) -> tuple[int, Any]:
    if record.request_hash != digest or record.path != request.path[:300]:
        raise IdempotencyConflict()
    return record.status, record.response
