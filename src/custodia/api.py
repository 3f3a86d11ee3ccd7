"""The JSON API, version 1 (API.md): one NinjaAPI, one error format, Spanish messages."""

from __future__ import annotations

import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.renderers import JSONRenderer

from custodia.conference.api import router as conference_router
from custodia.core.access import AccessDenied
from custodia.core.errors import InvalidFields
from custodia.core.idempotency import IdempotencyConflict, InvalidIdempotencyKey
from custodia.ledger.api import LedgerError
from custodia.ledger.api import router as ledger_router
from custodia.lookup.api import RateLimited
from custodia.lookup.api import router as lookup_router
from custodia.registry.api import BadParameter, BatchTooLarge
from custodia.registry.api import router as registry_router
from custodia.registry.queries import DetentionNotFound
from custodia.registry.schemas import findings_from_errors
from custodia.registry.services import EventRejected, RegistrationRejected, VersionConflict
from custodia.reports.api import router as reports_router


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} no es un número JSON válido")


class StrictJSONParser(Parser):
    """UTF-8 only, and no NaN or Infinity, which JSON does not have."""

    def parse_body(self, request: HttpRequest) -> Any:
        return json.loads(request.body.decode("utf-8"), parse_constant=_reject_constant)


class UTF8JSONRenderer(JSONRenderer):
    """Accents as themselves ("Hernández"), not as \\u escapes: the body is UTF-8 anyway."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    title="Custodia — API del Registro Nacional de Detenciones",
    version="1",
    description=(
        "API JSON de Custodia. Autenticación con `Authorization: Bearer <token>`. "
        'Los errores tienen la forma `{"errors": [{"code", "field", "message"}]}` '
        "con mensajes en español. Contrato: API.md."
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    parser=StrictJSONParser(),
    renderer=UTF8JSONRenderer(),
)
api.add_router("/", registry_router)
api.add_router("/", ledger_router)
api.add_router("/", lookup_router)
api.add_router("/", reports_router)
api.add_router("/", conference_router)


def error_response(
    request: HttpRequest, status: int, errors: list[dict[str, Any]], **headers: str
) -> HttpResponse:
    response = api.create_response(request, {"errors": errors}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _one(code: str, message: str, field: str = "") -> list[dict[str, Any]]:
    return [{"code": code, "field": field, "message": message}]


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    findings = findings_from_errors(list(exc.errors))
    return error_response(request, 422, [f.as_dict() for f in findings])


@api.exception_handler(RegistrationRejected)
def on_rejected(request: HttpRequest, exc: RegistrationRejected) -> HttpResponse:
    return error_response(request, 422, [f.as_dict() for f in exc.findings])


@api.exception_handler(EventRejected)
def on_event_rejected(request: HttpRequest, exc: EventRejected) -> HttpResponse:
    return error_response(request, 422, [f.as_dict() for f in exc.findings])


@api.exception_handler(VersionConflict)
def on_version_conflict(request: HttpRequest, exc: VersionConflict) -> HttpResponse:
    return error_response(request, 409, _one("HTTP-409", exc.message, "expected_version"))


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        request,
        401,
        _one("HTTP-401", "Falta el token de acceso o no es válido (Authorization: Bearer …)."),
        WWW_Authenticate="Bearer",
    )


@api.exception_handler(AccessDenied)
def on_denied(request: HttpRequest, exc: AccessDenied) -> HttpResponse:
    return error_response(request, 403, _one("HTTP-403", exc.message))


@api.exception_handler(DetentionNotFound)
def on_detention_not_found(request: HttpRequest, exc: DetentionNotFound) -> HttpResponse:
    return error_response(request, 404, _one("HTTP-404", exc.message, "folio"))


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, _one("HTTP-404", "No encontrado."))


@api.exception_handler(IdempotencyConflict)
def on_idempotency_conflict(request: HttpRequest, exc: IdempotencyConflict) -> HttpResponse:
    return error_response(request, 409, _one("HTTP-409", exc.message, "Idempotency-Key"))


@api.exception_handler(InvalidIdempotencyKey)
def on_bad_idempotency_key(request: HttpRequest, exc: InvalidIdempotencyKey) -> HttpResponse:
    return error_response(request, 400, _one("HTTP-400", exc.message, "Idempotency-Key"))


@api.exception_handler(LedgerError)
def on_ledger_error(request: HttpRequest, exc: LedgerError) -> HttpResponse:
    return error_response(request, exc.status, _one(f"HTTP-{exc.status}", exc.message, exc.field))


@api.exception_handler(BadParameter)
def on_bad_parameter(request: HttpRequest, exc: BadParameter) -> HttpResponse:
    return error_response(request, 400, _one("HTTP-400", exc.message, exc.field))


@api.exception_handler(BatchTooLarge)
def on_batch_too_large(request: HttpRequest, exc: BatchTooLarge) -> HttpResponse:
    return error_response(request, 413, _one("HTTP-413", exc.message, "detentions"))


@api.exception_handler(InvalidFields)
def on_invalid_fields(request: HttpRequest, exc: InvalidFields) -> HttpResponse:
    errors = [{"code": "HTTP-400", "field": f, "message": m} for f, m in exc.errors]
    return error_response(request, 400, errors)


@api.exception_handler(RateLimited)
def on_rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    message = f"Demasiadas consultas desde su conexión. Intente de nuevo en {exc.seconds} segundos."
    return error_response(request, 429, _one("HTTP-429", message), Retry_After=str(exc.seconds))


# ninja raises HttpError with English text for what it rejects itself.
_NINJA_MESSAGES = {
    "Cannot parse request body": ("body", "El cuerpo no es JSON válido en UTF-8."),
    "Method not allowed": ("", "Método no permitido."),
}


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    status = exc.status_code
    text = str(exc).split(" (")[0]
    field, message = _NINJA_MESSAGES.get(text, ("", text))
    if status == 429:
        field, message = "", "Demasiadas solicitudes; espere antes de reintentar."
    return error_response(request, status, _one(f"HTTP-{status}", message, field))
