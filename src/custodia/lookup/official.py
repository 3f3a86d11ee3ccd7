"""Officials' search of the whole history (issue 5): by name, alias, CURP or folio, within the
user's jurisdiction, with a stated purpose; every search and every result opened is logged."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from custodia.core import access
from custodia.core.accesslog import log_access
from custodia.core.errors import InvalidFields
from custodia.core.models import Channel, User
from custodia.registry.folio import InvalidFolio, normalize
from custodia.registry.models import Detention
from custodia.registry.queries import visible_detentions

from . import names
from .models import NameEntry, NameKey
from .search import Narrowing, find

MAX_RESULTS = 50
PURPOSE_MIN, PURPOSE_MAX = 10, 300
CURP_SHAPE = re.compile(r"^[A-Z][AEIOUX][A-Z]{2}\d{6}[HMX][A-Z]{5}[0-9A-Z]\d$")

FIELDS = ("given_names", "first_surname", "second_surname", "alias", "curp", "folio", "purpose")
LABELS = {
    "given_names": "Nombre(s)",
    "first_surname": "Primer apellido",
    "second_surname": "Segundo apellido",
    "alias": "Alias",
    "curp": "CURP",
    "folio": "Folio",
    "purpose": "Propósito",
}


@dataclass(frozen=True)
class OfficialQuery:
    given_names: str = ""
    first_surname: str = ""
    second_surname: str = ""
    alias: str = ""
    curp: str = ""
    folio: str = ""
    purpose: str = ""


@dataclass
class Hit:
    detention: Detention
    score: float
    matched_by: str  # "folio", "curp", "nombre", "alias"


def parse(raw: dict[str, Any]) -> OfficialQuery:
    errors: list[tuple[str, str]] = []
    values: dict[str, str] = {}
    for field in FIELDS:
        value = raw.get(field) or ""
        label = LABELS[field]
        if not isinstance(value, str):
            errors.append((field, f"{label}: debe ser texto."))
            value = ""
        value = value.strip()
        limit = PURPOSE_MAX if field == "purpose" else 120
        if len(value) > limit:
            errors.append((field, f"{label}: escriba como máximo {limit} caracteres."))
        values[field] = value
    if len(values["purpose"]) < PURPOSE_MIN:
        errors.append(
            (
                "purpose",
                "Propósito: indique para qué consulta (al menos 10 caracteres, por ejemplo "
                "«carpeta de investigación 123/2026» o «solicitud de la familia»).",
            )
        )
    if values["curp"]:
        values["curp"] = values["curp"].upper().replace(" ", "")
        if not CURP_SHAPE.match(values["curp"]):
            errors.append(("curp", "CURP: 18 caracteres con la forma de una CURP."))
    if values["folio"]:
        try:
            values["folio"] = normalize(values["folio"])
        except InvalidFolio as error:
            errors.append(("folio", f"Folio: {error}"))
    has_name = any(len(w) > 1 for w in names.words(values["given_names"])) and any(
        len(w) > 1 for w in names.words(values["first_surname"])
    )
    has_alias = any(len(w) > 1 for w in names.words(values["alias"]))
    if not (has_name or has_alias or values["curp"] or values["folio"]):
        errors.append(
            (
                "given_names",
                "Escriba nombre(s) y primer apellido, o un alias, una CURP o un folio.",
            )
        )
    if errors:
        raise InvalidFields(errors)
    return OfficialQuery(**values)


def search(
    user: User, query: OfficialQuery, *, channel: Channel | str, ip: str | None = None
) -> tuple[list[Hit], int]:
    """Matches within the user's jurisdiction (released people included), best first, and
    how many there were. The search and the folios it returned go to the access log."""
    if not access.can_search_people(user):
        raise access.AccessDenied("Su rol no permite buscar personas en el registro.")
    scope = visible_detentions(user)
    scored: dict[int, tuple[float, str]] = {}

    def add(pk: int, score: float, how: str) -> None:
        if score > scored.get(pk, (0.0, ""))[0]:
            scored[pk] = (score, how)

    if query.folio:
        for pk in scope.filter(folio=query.folio).values_list("pk", flat=True):
            add(pk, 1.0, "folio")
    if query.curp:
        for pk in scope.filter(person__curp=query.curp).values_list("pk", flat=True):
            add(pk, 1.0, "curp")
    if query.given_names and query.first_surname:
        name = names.parse(query.given_names, query.first_surname, query.second_surname)
        narrowing, within = _name_scope(user, scope)
        for score, pk in find(name, held_only=False, narrowing=narrowing, within=within).matches:
            add(pk, score, "nombre")
    if query.alias:
        for pk, score in _alias_matches(query.alias, scope):
            add(pk, score, "alias")
    ranked = sorted(scored.items(), key=lambda item: (-item[1][0], item[0]))
    total = len(ranked)
    top = ranked[:MAX_RESULTS]
    detentions = {
        d.pk: d
        for d in scope.filter(pk__in=[pk for pk, _ in top]).select_related(
            "person", "institution", "state"
        )
    }
    hits = [Hit(detentions[pk], score, how) for pk, (score, how) in top if pk in detentions]
    with transaction.atomic():
        log_access(
            user=user,
            channel=channel,
            action="people.search",
            folios=[h.detention.folio for h in hits] or [""],
            purpose=query.purpose,
            ip=ip,
        )
    return hits, total


def _name_scope(user: User, scope: QuerySet[Detention]) -> tuple[Narrowing, Any]:
    """The jurisdiction as the name index can apply it cheaply: nothing for national roles, the
    state column for state analysts (exactly their scope), a subquery otherwise."""
    if not access.detention_scope(user):  # national analysts and auditors see everything
        return Narrowing(), None
    state = access.whole_state_of(user)
    if state:
        return Narrowing(state=state), None
    return Narrowing(), scope


def _alias_matches(alias: str, scope: QuerySet[Detention]) -> list[tuple[int, float]]:
    typed = [w for w in names.words(alias) if len(w) > 1]
    keys = [f"alias/{names.phonetic(w)}" for w in typed]
    ids = NameKey.objects.filter(key__in=keys, entry_id__in=scope.values("pk")).values("entry_id")
    found = []
    for pk, registered in NameEntry.objects.filter(pk__in=ids).values_list("pk", "alias"):
        words = registered.split()
        if not words:
            continue
        score = sum(max(names.word_similarity(t, r) for r in words) for t in typed) / len(typed)
        if score >= names.MIN_SCORE:
            found.append((pk, round(score, 4)))
    return found


def hit_as_dict(hit: Hit) -> dict[str, Any]:
    d = hit.detention
    return {
        "folio": d.folio,
        "name": d.person.full_name,
        "alias": d.person.alias,
        "curp": d.person.curp,
        "status": d.status,
        "state": d.state_id,
        "detained_at": d.detained_at.isoformat().replace("+00:00", "Z"),
        "institution": d.institution.code,
        "current_authority": d.current_authority,
        "score": hit.score,
        "matched_by": hit.matched_by,
    }
