"""Bearer-token authentication for the JSON API (API.md, Conventions)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from .models import ApiToken, User, hash_token

# Writing last_used_at on every call would turn each read into a write; once a minute is enough.
LAST_USED_RESOLUTION_SECONDS = 60


class TokenAuth(HttpBearer):
    openapi_description = "Token de API: `Authorization: Bearer cst_…` (custodia token create)."

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        if not token or len(token) > 200:
            return None
        found: Any = (
            ApiToken.objects.select_related("user", "user__institution")
            .filter(token_hash=hash_token(token), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if found is None:
            return None
        now = timezone.now()
        if (
            found.last_used_at is None
            or (now - found.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS
        ):
            ApiToken.objects.filter(Q(pk=found.pk)).update(last_used_at=now)
        user: User = found.user
        return user
