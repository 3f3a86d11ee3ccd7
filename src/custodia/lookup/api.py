"""Public consultation endpoint (API.md, "Public consultation"): no token, rate-limited."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from custodia.core.access import AccessDenied, can_search_people
from custodia.core.accesslog import client_ip
from custodia.core.api_auth import TokenAuth
from custodia.core.models import Channel, User
from custodia.core.ratelimit import retry_after

from . import official, public

router = Router(tags=["Consulta pública"])


class RateLimited(Exception):
    def __init__(self, seconds: int):
        super().__init__(seconds)
        self.seconds = seconds


@router.get(
    "/public/search",
    auth=None,
    summary="Consulta pública: ¿está detenida esta persona?",
    description=(
        "Sólo personas detenidas ahora. Obligatorios: given_names y first_surname. Opcionales: "
        "second_surname, state (clave INEGI), age (aproximada), detained_from y detained_to "
        "(AAAA-MM-DD). Devuelve únicamente nombre, fecha de detención, autoridad que detuvo, "
        "autoridad a cargo, lugar y última actualización."
    ),
)
def search(request: HttpRequest) -> Any:
    wait = retry_after(request, "public-search")
    if wait is not None:
        raise RateLimited(wait)
    raw = {field: request.GET.get(field) for field in public.QUERY_FIELDS}
    query = public.parse_query(raw)
    return public.search(query, channel=Channel.API, ip=client_ip(request)).as_dict()


@router.get(
    "/people/search",
    auth=TokenAuth(),
    summary="Búsqueda de personas en todo el historial (funcionarios)",
    description=(
        "Todos los roles salvo captura, dentro de su jurisdicción; incluye personas liberadas. "
        "Criterios: given_names + first_surname [+ second_surname], alias, curp o folio. "
        "purpose (obligatorio) queda en la bitácora de accesos con los folios devueltos."
    ),
)
def people_search(request: HttpRequest) -> Any:
    user: User = request.auth  # type: ignore[attr-defined]
    if not can_search_people(user):  # before looking at the query at all
        raise AccessDenied("Su rol no permite buscar personas en el registro.")
    query = official.parse({f: request.GET.get(f) for f in official.FIELDS})
    hits, total = official.search(user, query, channel=Channel.API, ip=client_ip(request))
    return {"results": [official.hit_as_dict(h) for h in hits], "total_matches": total}
