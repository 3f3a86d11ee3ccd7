from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


class BodySizeLimitMiddleware:
    """Refuse over-large bodies with 413 before anything reads them (API.md: 413)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.CUSTODIA_MAX_BODY_BYTES
        if length > limit:
            message = f"El cuerpo de la solicitud excede el máximo de {limit // 1024} KiB."
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"errors": [{"code": "HTTP-413", "field": "body", "message": message}]},
                    status=413,
                )
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
