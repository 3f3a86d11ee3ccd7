"""The public consultation page, /consulta/: no login, no JavaScript needed, phone first."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from custodia.core import access
from custodia.core.accesslog import client_ip
from custodia.core.errors import InvalidFields
from custodia.core.models import Channel, State, User
from custodia.core.ratelimit import retry_after

from . import alerts, official, public

DEFAULT_HELP = """\
Si es una emergencia, llame al 911.

Pregunte directamente en la fiscalía o ministerio público, el juzgado cívico y la policía \
(municipal, estatal y Guardia Nacional) del lugar donde vio a la persona por última vez: deben \
informarle si la tienen bajo su custodia.

Si no logra saber dónde está, repórtelo ante la fiscalía y ante la Comisión Nacional de \
Búsqueda de Personas o la comisión de búsqueda de su estado. Reportar no requiere esperar 72 \
horas.

Puede volver a consultar más tarde o pedir que le avisemos por correo si la persona aparece \
registrada."""


def _too_many(
    request: HttpRequest, template: str, context: dict[str, object], wait: int
) -> HttpResponse:
    response = render(request, template, context | {"rate_limited": wait}, status=429)
    response["Retry-After"] = str(wait)
    return response


def _invalid(
    request: HttpRequest, template: str, context: dict[str, object], invalid: InvalidFields
) -> HttpResponse:
    context = context | {"errors": invalid.by_field(), "error_list": invalid.errors}
    return render(request, template, context, status=400)


def help_paragraphs() -> list[str]:
    """The next-steps text: the operator's file under var/ if present, else the default."""
    path = settings.CUSTODIA_PUBLIC_HELP_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = DEFAULT_HELP
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def consulta(request: HttpRequest) -> HttpResponse:
    fields = {f: request.GET.get(f, "") for f in public.QUERY_FIELDS}
    context: dict[str, object] = {
        "fields": fields,
        "states": State.objects.order_by("name"),
        "errors": {},
        "searched": False,
        "help": help_paragraphs(),
        "more_open": any(fields[f] for f in ("age", "detained_from", "detained_to")),
    }
    if not any(fields[f] for f in ("given_names", "first_surname", "second_surname")):
        return render(request, "lookup/consulta.html", context)
    wait = retry_after(request, "public-search")
    if wait is not None:
        return _too_many(request, "lookup/consulta.html", context, wait)
    try:
        query = public.parse_query(fields)
    except InvalidFields as invalid:
        return _invalid(request, "lookup/consulta.html", context, invalid)
    answer = public.search(query, channel=Channel.WEB, ip=client_ip(request))
    shown = [row | _readable(row) for row in answer.results]
    context.update(searched=True, answer=answer, shown=shown)
    return render(request, "lookup/consulta.html", context)


DISPLAY_ZONE = ZoneInfo("America/Mexico_City")


def _readable(row: dict[str, str]) -> dict[str, str]:
    """Dates as people read them; the API keeps ISO 8601."""
    updated = datetime.fromisoformat(row["updated_at"].replace("Z", "+00:00"))
    detained = date.fromisoformat(row["detained_on"])
    return {
        "detained_on_text": detained.strftime("%d/%m/%Y"),
        "updated_at_text": updated.astimezone(DISPLAY_ZONE).strftime("%d/%m/%Y %H:%M"),
    }


@login_required
def people_search(request: HttpRequest) -> HttpResponse:
    """/busqueda/: officials search the whole history with a stated purpose."""
    user: User = request.user  # type: ignore[assignment]
    if not access.can_search_people(user):
        return render(
            request,
            "core/forbidden.html",
            {"message": "Su rol no permite buscar personas en el registro."},
            status=403,
        )
    fields = {f: request.GET.get(f, "") for f in official.FIELDS}
    context: dict[str, object] = {"fields": fields, "errors": {}, "searched": False}
    if not any(fields[f] for f in official.FIELDS):
        return render(request, "lookup/busqueda.html", context)
    try:
        query = official.parse(fields)
    except InvalidFields as invalid:
        return _invalid(request, "lookup/busqueda.html", context, invalid)
    hits, total = official.search(user, query, channel=Channel.WEB, ip=client_ip(request))
    context.update(searched=True, hits=hits, total=total, purpose=query.purpose)
    return render(request, "lookup/busqueda.html", context)


@require_POST
def alert_subscribe(request: HttpRequest) -> HttpResponse:
    """The "avísenme" form under the consultation's results: creates an unconfirmed alert."""
    fields = {f: request.POST.get(f, "") for f in ALERT_FIELDS}
    context: dict[str, object] = {"fields": fields}
    wait = retry_after(request, "public-alert")
    if wait is not None:
        return _too_many(request, "lookup/alert_result.html", context, wait)
    state = fields["state"] if State.objects.filter(code=fields["state"]).exists() else ""
    try:
        alerts.subscribe(
            email=fields["email"],
            given_names=fields["given_names"],
            first_surname=fields["first_surname"],
            second_surname=fields["second_surname"],
            state=state,
        )
    except InvalidFields as invalid:
        return _invalid(request, "lookup/alert_result.html", context, invalid)
    context["subscribed"] = True
    return render(request, "lookup/alert_result.html", context)


def alert_confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        alert = alerts.confirm(token)
    except alerts.BadLink:
        return render(request, "lookup/alert_result.html", {"bad_link": True}, status=404)
    return render(request, "lookup/alert_result.html", {"confirmed": alert})


@csrf_exempt  # RFC 8058 one-click: mail clients POST here without a form; the token is signed
def alert_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        alert = alerts.unsubscribe(token) if request.method == "POST" else alerts.peek(token)
    except alerts.BadLink:
        return render(request, "lookup/alert_result.html", {"bad_link": True}, status=404)
    if request.method == "POST":
        return render(request, "lookup/alert_result.html", {"unsubscribed": alert})
    return render(request, "lookup/alert_unsubscribe.html", {"alert": alert, "token": token})


ALERT_FIELDS = ("email", "given_names", "first_surname", "second_surname", "state")
