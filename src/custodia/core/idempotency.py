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
    request: HttpRequest,
    user: User,
    write: Callable[[], tuple[int, Any]],
    *,
    atomic: bool = True,
) -> tuple[int, Any]:
    """Run ``write`` (which returns status and JSON body) at most once per key.

    ``atomic=False`` is for a write that commits in parts (a batch of detentions, chunk by
    chunk) and is idempotent by itself: the first answer is stored after it, so a retry with
    the same key replays it; if the process dies before storing it, the retry runs the write
    again, which creates nothing twice."""
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
        if atomic:
            with transaction.atomic():
                status, body = write()
                _store(request, user, key, digest, status, body)
        else:
            status, body = write()
            with transaction.atomic():
                _store(request, user, key, digest, status, body)
        return status, body
    except IntegrityError:
        # Another request with the same key won the race; answer as it did.
        previous = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if previous is None:
            raise
        return _replay(previous, digest, request)


def _store(request: HttpRequest, user: User, key: str, digest: str, status: int, body: Any) -> None:
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


def _replay(record: IdempotencyRecord, digest: str, request: HttpRequest) -> tuple[int, Any]:
    if record.request_hash != digest or record.path != request.path[:300]:
        raise IdempotencyConflict()
    return record.status, record.response
