"""The registry's endpoints (API.md, "Detentions"). Thin: parse, call a service or query."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja import Status as Reply
from pydantic import Field

from custodia.core import access
from custodia.core.accesslog import client_ip
from custodia.core.api_auth import TokenAuth
from custodia.core.idempotency import run_idempotent
from custodia.core.models import Channel, User

from . import imports, queries, rules
from .alerts import visible_alerts
from .folio import InvalidFolio, normalize
from .models import Status
from .schemas import DetentionIn, EventIn, FindingOut, Instant, RuleOut
from .services import detention_register, event_record

router = Router(tags=["Detenciones"])


class BadParameter(Exception):
    """A query parameter the API cannot use; answered with 400."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


auth = TokenAuth()


def _user(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


class ErrorsOut(Schema):
    errors: list[FindingOut]


class DetentionListFilters(Schema):
    state: str | None = Field(
        default=None, pattern=r"^\d{2}$", description="Clave INEGI de la entidad"
    )
    institution: str | None = Field(default=None, max_length=40, pattern=r"^[-a-zA-Z0-9_]+$")
    status: Status | None = None
    from_: Instant | None = Field(default=None, alias="from")
    to: Instant | None = None
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=queries.PAGE_SIZE, ge=1, le=200, description="Resultados por página")


class DetentionPage(Schema):
    results: list[dict[str, Any]]
    next_cursor: str | None


_ERRORS = {
    400: ErrorsOut,
    401: ErrorsOut,
    403: ErrorsOut,
    404: ErrorsOut,
    409: ErrorsOut,
    413: ErrorsOut,
    422: ErrorsOut,
}


@router.post(
    "/detentions",
    auth=auth,
    response={201: dict[str, Any], **_ERRORS},
    summary="Registrar una detención",
)
def register_detention(request: HttpRequest, payload: DetentionIn) -> Reply[Any]:
    user = _user(request)

    def write() -> tuple[int, Any]:
        # The answer is the whole record, built from the rows just written (and logged as a
        # read by the registration's own transaction) rather than read back.
        registration = detention_register(
            actor=user, data=payload, channel=Channel.API, ip=client_ip(request), read_back=True
        )
        return 201, queries.registration_as_dict(registration)

    status, body = run_idempotent(request, user, write)
    return Reply(status, body)


class BatchIn(Schema):
    detentions: list[Any] = Field(
        description=(
            "Hasta 1000 detenciones, cada una como en POST /detentions más external_id (su "
            "identificador en el sistema de origen) y, opcional, events (sus movimientos)."
        )
    )


class BatchRowOut(Schema):
    row: int
    external_id: str
    status: Literal["created", "existing", "rejected"]
    folio: str | None
    warnings: list[FindingOut]
    errors: list[FindingOut]


class BatchSummaryOut(Schema):
    received: int
    created: int
    existing: int
    rejected: int


class BatchOut(Schema):
    summary: BatchSummaryOut
    rows: list[BatchRowOut]


@router.post(
    "/detentions:batch",
    auth=auth,
    response={200: BatchOut, **_ERRORS},
    summary="Registrar detenciones en lote (sistemas estatales)",
    description=(
        "Cada fila se valida con el catálogo de reglas de una captura y se registra completa o "
        "no se registra. Idempotente por (institución, external_id): reenviar la misma fila "
        "devuelve su folio con estado existing y no crea nada. La respuesta informa fila por "
        "fila: número, external_id, folio o códigos de regla con su mensaje."
    ),
)
def register_batch(request: HttpRequest, payload: BatchIn) -> Reply[Any]:
    user = _user(request)
    access.require_register_detention(user)
    if len(payload.detentions) > imports.MAX_BATCH:
        raise BatchTooLarge(len(payload.detentions))

    def write() -> tuple[int, Any]:
        summary = imports.Summary()
        rows = []
        numbered = enumerate(payload.detentions, start=1)
        for result in imports.import_rows(
            actor=user, rows=numbered, channel=Channel.API, ip=client_ip(request)
        ):
            summary.add(result)
            rows.append(result.as_dict())
        return 200, {"summary": summary.as_dict(), "rows": rows}

    # Chunk by chunk, each its own transaction: one transaction for the whole batch would hold
    # the ledger's head, and so every capture in the country, until its last row.
    status, body = run_idempotent(request, user, write, atomic=False)
    return Reply(status, body)


class BatchTooLarge(Exception):
    def __init__(self, count: int):
        super().__init__(count)
        self.message = (
            f"El lote trae {count} detenciones; el máximo por llamada es {imports.MAX_BATCH}. "
            "Divídalo en varias llamadas (reenviar filas ya registradas no duplica nada)."
        )


@router.get(
    "/detentions",
    auth=auth,
    response={200: DetentionPage, **_ERRORS},
    summary="Listar las detenciones visibles",
)
def list_detentions(request: HttpRequest, filters: Query[DetentionListFilters]) -> Any:
    try:
        page = queries.list_detentions(
            _user(request),
            queries.ListFilters(
                state=filters.state,
                institution=filters.institution,
                status=filters.status,
                detained_from=filters.from_,
                detained_to=filters.to,
            ),
            channel=Channel.API,
            cursor=filters.cursor,
            ip=client_ip(request),
            page_size=filters.limit,
        )
    except ValueError as error:
        raise BadParameter(
            "cursor", "El cursor no es válido: use el next_cursor de la respuesta."
        ) from error
    return {
        "results": [queries.detention_summary(d) for d in page.items],
        "next_cursor": page.next_cursor,
    }


def _json_body(request: HttpRequest) -> Any:
    """The body as JSON, strictly (UTF-8, no NaN); the event service validates its shape."""
    from custodia.api import StrictJSONParser

    if not request.body:
        return {}
    try:
        return StrictJSONParser().parse_body(request)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadParameter("body", "El cuerpo no es JSON válido en UTF-8.") from error


def _folio(text: str) -> str:
    try:
        return normalize(text)
    except InvalidFolio as error:
        raise queries.DetentionNotFound(str(error)) from error


@router.get(
    "/detentions/{folio}",
    auth=auth,
    response={200: dict[str, Any], **_ERRORS},
    summary="Consultar una detención",
)
def get_detention(request: HttpRequest, folio: str, purpose: str = "") -> Any:
    """``purpose`` (optional) is written to the access log with the read."""
    detention = queries.get_detention(
        _user(request),
        _folio(folio),
        channel=Channel.API,
        ip=client_ip(request),
        purpose=purpose.strip()[:300],
    )
    return queries.detention_as_dict(detention)


@router.get(
    "/detentions/{folio}/events",
    auth=auth,
    response={200: dict[str, Any], **_ERRORS},
    summary="Historial de movimientos",
)
def list_events(request: HttpRequest, folio: str) -> Any:
    detention = queries.get_detention(
        _user(request), _folio(folio), channel=Channel.API, ip=client_ip(request)
    )
    return {
        "folio": detention.folio,
        "events": [queries.event_as_dict(e) for e in detention.events.all()],
    }


@router.post(
    "/detentions/{folio}/events",
    auth=auth,
    response={201: dict[str, Any], **_ERRORS},
    summary="Registrar un movimiento de custodia",
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"schema": EventIn.model_json_schema()}},
            "required": True,
        }
    },
)
def record_event(request: HttpRequest, folio: str) -> Reply[Any]:
    user = _user(request)
    canonical = _folio(folio)
    data = _json_body(request)

    def write() -> tuple[int, Any]:
        recorded = event_record(
            actor=user, folio=canonical, data=data, channel=Channel.API, ip=client_ip(request)
        )
        # The state this event produced (read inside its transaction), not whatever a later
        # writer has committed since: the version returned is the one to send back next time.
        detention = recorded.detention
        body = {
            "event": queries.event_as_dict(recorded.event),
            "current": queries.current_as_dict(detention),
            "version": detention.version,
            "status": detention.status,
        }
        return 201, body

    status, body = run_idempotent(request, user, write)
    return Reply(status, body)


class AlertFilters(Schema):
    state: str | None = Field(default=None, pattern=r"^\d{2}$")
    institution: str | None = Field(default=None, max_length=40, pattern=r"^[-a-zA-Z0-9_]+$")
    severity: Literal["warning", "critical"] | None = None


@router.get(
    "/alerts",
    auth=auth,
    response={200: dict[str, Any], **_ERRORS},
    summary="Plazos legales vencidos",
    tags=["Alertas"],
)
def list_alerts(request: HttpRequest, filters: Query[AlertFilters]) -> Any:
    user = _user(request)
    if not access.can_see_alerts(user):
        raise access.AccessDenied("Su rol no consulta alertas de plazos.")
    now = timezone.now()
    found = visible_alerts(
        user,
        now,
        state=filters.state,
        institution=filters.institution,
        severity=filters.severity,
    )
    return {"results": [a.as_dict(now) for a in found], "count": len(found)}


@router.get(
    "/rules", response=list[RuleOut], summary="Catálogo de reglas de validación", tags=["Reglas"]
)
def list_rules(request: HttpRequest) -> Any:
    return [
        {
            "code": r.code,
            "severity": r.severity.value,
            "field": r.field,
            "title": r.title,
            "message": r.message,
            "basis": r.basis,
        }
        for r in rules.catalog()
    ]
