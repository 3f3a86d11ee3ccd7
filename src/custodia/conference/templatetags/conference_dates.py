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
