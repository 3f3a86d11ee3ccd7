"""Per-client rate limits for what anyone may call without logging in (the public
consultation). Fixed windows counted in Django's cache; several limits at once, for example
"10/minute" and "100/hour". ``CUSTODIA_RATE_LIMITS=off`` lifts them (tests, benchmarks).

The counts live in Django's default cache, which is per process. `custodia serve` with one
process (waitress threads) holds the limits exactly. With ``--workers N`` each of the N
processes counts alone, so each allows a client the Nth part of every limit, rounded down,
and at least one request. A client never gets more than the limit in all (unless the limit is
smaller than N: then one request per process), and may be refused somewhat sooner when its
requests happen to land unevenly. Exact counts across processes would need a shared store.
"""

from __future__ import annotations

import math
import os
import time
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.checks import Error

from .accesslog import client_ip

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def parse_rates(text: str) -> list[tuple[int, int]]:
    """ "10/minute,100/hour" -> [(10, 60), (100, 3600)]; ValueError with a Spanish message."""
    rates = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        count, _, period = part.partition("/")
        if not count.strip().isdigit() or period.strip() not in PERIODS or int(count) < 1:
            raise ValueError(
                f"Límite de solicitudes no válido: «{part}». Use por ejemplo 10/minute,100/hour "
                f"(periodos: {', '.join(PERIODS)})."
            )
        rates.append((int(count), PERIODS[period.strip()]))
    return rates


# Each limited action and the setting that holds its rates.
SCOPES = {
    "public-search": "CUSTODIA_PUBLIC_SEARCH_RATES",
    "public-alert": "CUSTODIA_PUBLIC_ALERT_RATES",
}


@lru_cache(maxsize=16)
def _parsed(text: str) -> tuple[tuple[int, int], ...]:
    return tuple(parse_rates(text))


def rates_of(scope: str) -> tuple[tuple[int, int], ...]:
    return _parsed(getattr(settings, SCOPES[scope]))


def check_rate_settings(**kwargs: Any) -> list[Error]:
    """System check: a bad limit in the environment stops start-up with a Spanish message,
    instead of failing every public request."""
    problems = []
    for scope, name in SCOPES.items():
        try:
            _parsed(getattr(settings, name))
        except ValueError as error:
            problems.append(Error(f"{name}: {error}", id="custodia.E001", obj=scope))
    return problems


def server_workers() -> int:
    """How many processes serve (``custodia serve --workers``, which sets the variable)."""
    text = os.environ.get("CUSTODIA_SERVER_WORKERS", "1").strip()
    return int(text) if text.isdigit() and int(text) > 0 else 1


def retry_after(request: Any, scope: str) -> int | None:
    """Count this request against ``scope``'s limits; None if it is allowed, else the seconds
    to wait (Retry-After)."""
    if not settings.CUSTODIA_RATE_LIMITS:
        return None
    rates = rates_of(scope)
    share = server_workers()
    ident = client_ip(request) or "?"
    now = time.time()
    waits = []
    for count, period in rates:
        window = int(now // period)
        key = f"ratelimit:{scope}:{count}/{period}:{ident}:{window}"
        if cache.add(key, 1, period + 1):
            used = 1
        else:
            try:
                used = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, period + 1)
                used = 1
        if used > max(1, count // share):
            waits.append(math.ceil((window + 1) * period - now))
    return max(waits) if waits else None
