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
        limit = (
            settings.CUSTODIA_MAX_BATCH_BODY_BYTES
            if request.path.endswith(":batch")
            else settings.CUSTODIA_MAX_BODY_BYTES
        )
        if length > limit:
            message = f"El cuerpo de la solicitud excede el máximo de {limit // 1024} KiB."
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"errors": [{"code": "HTTP-413", "field": "body", "message": message}]},
                    status=413,
                )
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class NullCharacterGuardMiddleware:
    """Refuse NUL characters in the path, the query string or a submitted form with a 400.

    PostgreSQL cannot store NUL in text, so one left through would turn a typo or a probe into a
    500 deep inside a query. JSON bodies are checked field by field by the parser (RND-E140).
    """

    MESSAGE = "La solicitud contiene caracteres nulos (\\0), que no están permitidos."

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._has_nul(request):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"errors": [{"code": "HTTP-400", "field": "", "message": self.MESSAGE}]},
                    status=400,
                )
            return HttpResponse(self.MESSAGE, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        if "\x00" in request.path:
            return True
        if any("\x00" in k or any("\x00" in v for v in vs) for k, vs in request.GET.lists()):
            return True
        content_type = request.META.get("CONTENT_TYPE", "")
        # Only url-encoded forms: reading them keeps the body readable, unlike a multipart stream.
        if request.method == "POST" and content_type.startswith(
            "application/x-www-form-urlencoded"
        ):
            return any(
                "\x00" in k or any("\x00" in v for v in vs) for k, vs in request.POST.lists()
            )
        return False
