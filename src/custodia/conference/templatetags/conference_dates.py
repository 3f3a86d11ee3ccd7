"""Dates as the Conference's documents write them: "30 de junio de 2020" (Spanish months are
lower-case, which Django's "F" format does not give for es-MX)."""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def long_date(day: date | None) -> str:
    from custodia.conference.exports import long_date as spell

    if isinstance(day, datetime):
        day = timezone.localtime(day).date()
    return spell(day) if day else ""


@register.filter
def input_date(value: date | str | None) -> str:
    """A date input's value: what the user typed comes back as it was; a date as AAAA-MM-DD."""
    if isinstance(value, date):
        return value.isoformat()
    return value or ""
