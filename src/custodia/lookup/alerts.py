"""Name alerts for the public (issue 5): subscribe, confirm by link (double opt-in), be told by
email when a matching person is registered or changes custody, unsubscribe in one click.

Messages go through the notify outbox: the confirmation is an ``alert.confirm`` message; matches
are found when the worker fans out each ``custody.changed`` message. The emails carry only the
fields of the public consultation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from custodia.core.errors import InvalidFields
from custodia.registry import custody

from . import names
from .models import NameAlert, NameAlertKey, NameEntry

CONFIRM_SALT = "custodia.lookup.alert.confirm"
UNSUBSCRIBE_SALT = "custodia.lookup.alert.unsubscribe"


class BadLink(Exception):
    """A confirmation or unsubscribe link that is forged, mangled or expired."""


def _surname_keys(alert: NameAlert) -> set[str]:
    typed = names.words(alert.first_surname) + names.words(alert.second_surname)
    found: set[str] = set()
    for word in typed:
        if len(word) > 1:
            key = names.phonetic(word)
            found |= names.deletes(key, names.edits_allowed(key))
    return found


def subscribe(
    *, email: str, given_names: str, first_surname: str, second_surname: str = "", state: str = ""
) -> NameAlert | None:
    """Create an unconfirmed alert and queue its confirmation email. Returns None, silently,
    when the address already has the maximum number of active alerts: the answer must not tell
    a stranger what alerts an address holds."""
    from custodia.notify.outbox import enqueue_alert_confirmation

    errors: list[tuple[str, str]] = []
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        errors.append(
            ("email", "Correo: escriba una dirección válida, por ejemplo nombre@correo.mx.")
        )
    if not any(len(w) > 1 for w in names.words(given_names or "")):
        errors.append(("given_names", "Nombre(s): es obligatorio."))
    if not any(len(w) > 1 for w in names.words(first_surname or "")):
        errors.append(("first_surname", "Primer apellido: es obligatorio."))
    if errors:
        raise InvalidFields(errors)
    now = timezone.now()
    cfg = settings.CUSTODIA_NAME_ALERTS
    with transaction.atomic():
        active = NameAlert.objects.filter(
            email__iexact=email, unsubscribed_at__isnull=True, expires_at__gt=now
        ).count()
        if active >= cfg["per_email"]:
            return None
        alert = NameAlert.objects.create(
            email=email,
            given_names=given_names.strip()[:120],
            first_surname=first_surname.strip()[:120],
            second_surname=(second_surname or "").strip()[:120],
            state=state or "",
            expires_at=now + timedelta(days=cfg["days"]),
        )
        NameAlertKey.objects.bulk_create(
            NameAlertKey(alert=alert, key=key) for key in sorted(_surname_keys(alert))
        )
        enqueue_alert_confirmation(alert)
    return alert


def confirm_token(alert: NameAlert) -> str:
    return signing.dumps(alert.pk, salt=CONFIRM_SALT)


def unsubscribe_token(alert: NameAlert) -> str:
    return signing.dumps(alert.pk, salt=UNSUBSCRIBE_SALT)


def confirm_url(alert: NameAlert) -> str:
    path = reverse("lookup:alert_confirm", args=[confirm_token(alert)])
    return f"{settings.CUSTODIA_PUBLIC_URL}{path}"


def unsubscribe_url(alert: NameAlert) -> str:
    path = reverse("lookup:alert_unsubscribe", args=[unsubscribe_token(alert)])
    return f"{settings.CUSTODIA_PUBLIC_URL}{path}"


def _load(token: str, salt: str, max_age: timedelta | None) -> NameAlert:
    try:
        pk = signing.loads(token, salt=salt, max_age=max_age)
        return NameAlert.objects.get(pk=int(pk))
    except (signing.BadSignature, NameAlert.DoesNotExist, TypeError, ValueError) as error:
        raise BadLink from error


def confirm(token: str) -> NameAlert:
    hours = settings.CUSTODIA_NAME_ALERTS["confirm_hours"]
    alert = _load(token, CONFIRM_SALT, timedelta(hours=hours))
    if alert.confirmed_at is None and alert.unsubscribed_at is None:
        NameAlert.objects.filter(pk=alert.pk, confirmed_at__isnull=True).update(
            confirmed_at=timezone.now()
        )
        alert.refresh_from_db()
    return alert


def peek(token: str) -> NameAlert:
    """The alert an unsubscribe link names, without changing it."""
    return _load(token, UNSUBSCRIBE_SALT, None)


def unsubscribe(token: str) -> NameAlert:
    alert = _load(token, UNSUBSCRIBE_SALT, None)
    NameAlert.objects.filter(pk=alert.pk, unsubscribed_at__isnull=True).update(
        unsubscribed_at=timezone.now()
    )
    alert.refresh_from_db()
    return alert


def is_active(alert: NameAlert, now: datetime) -> bool:
    return (
        alert.confirmed_at is not None and alert.unsubscribed_at is None and alert.expires_at > now
    )


def matching_alerts(detention: Any, now: datetime) -> list[NameAlert]:
    """Confirmed, live alerts whose name matches the detention's person."""
    entry = NameEntry.objects.filter(pk=detention.pk).first()
    if entry is None:  # redacted, or never indexed
        return []
    registered = names.Name(
        tuple(entry.given.split()), tuple(entry.first.split()), tuple(entry.second.split())
    )
    surname_keys = {names.phonetic(w) for w in registered.surnames if len(w) > 1}
    variants: set[str] = set()
    for key in surname_keys:
        variants |= names.deletes(key, names.edits_allowed(key))
    if not variants:
        return []
    candidates = NameAlert.objects.filter(
        Q(state="") | Q(state=entry.state),
        pk__in=NameAlertKey.objects.filter(key__in=variants).values("alert_id"),
        confirmed_at__isnull=False,
        unsubscribed_at__isnull=True,
        expires_at__gt=now,
    )
    found = []
    for alert in candidates:
        query = names.parse(alert.given_names, alert.first_surname, alert.second_surname)
        if names.score(query, registered) >= names.MIN_SCORE:
            found.append(alert)
    return found


@dataclass(frozen=True)
class AlertEmail:
    subject: str
    text: str
    unsubscribe: str


def confirmation_email(alert: NameAlert) -> AlertEmail:
    hours = settings.CUSTODIA_NAME_ALERTS["confirm_hours"]
    text = (
        f"Alguien (quizá usted) pidió recibir en este correo un aviso cuando se registre la "
        f"detención de una persona llamada «{alert.full_name}», o cuando cambie de autoridad.\n\n"
        f"Para activar el aviso, abra este enlace (vale {hours} horas):\n{confirm_url(alert)}\n\n"
        "Si no lo pidió, ignore este mensaje: sin confirmar no recibirá nada más.\n\n"
        f"Para no recibir nada de este aviso: {unsubscribe_url(alert)}\n"
    )
    return AlertEmail(
        "Custodia: confirme su aviso de consulta de detenciones", text, unsubscribe_url(alert)
    )


def match_email(alert: NameAlert, row: dict[str, str] | None) -> AlertEmail:
    """``row`` holds the public-consultation fields of the matching person, or None when the
    person is no longer held (they then leave the consultation, as the page would show)."""
    if row is None:
        body = (
            f"Una persona cuyo nombre coincide con «{alert.full_name}» ya no aparece como "
            "detenida en el Registro Nacional de Detenciones (pudo ser puesta en libertad). "
            "La consulta pública sólo muestra a personas detenidas en este momento.\n"
        )
    else:
        body = (
            f"Una persona cuyo nombre coincide con «{alert.full_name}» aparece en el Registro "
            "Nacional de Detenciones:\n\n"
            f"  Nombre registrado: {row['name']}\n"
            f"  Fecha de la detención: {row['detained_on']}\n"
            f"  Autoridad que la detuvo: {row['detaining_authority']}\n"
            f"  Autoridad que la tiene ahora: {row['current_authority']}\n"
            f"  Lugar: {row['current_location'] or 'no informado'}\n"
            f"  Última actualización (UTC): {row['updated_at']}\n\n"
            "Verifique el nombre completo: puede tratarse de otra persona con un nombre parecido.\n"
        )
    text = (
        body
        + f"\nConsulta pública: {settings.CUSTODIA_PUBLIC_URL}{reverse('lookup:consulta')}\n"
        + f"Para dejar de recibir este aviso (un clic): {unsubscribe_url(alert)}\n"
    )
    return AlertEmail("Custodia: aviso sobre una persona detenida", text, unsubscribe_url(alert))


def still_held(detention: Any) -> bool:
    return detention.status in custody.HELD
