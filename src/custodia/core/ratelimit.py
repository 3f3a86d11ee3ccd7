"""Per-client rate limits for what anyone may call without logging in (the public
consultation). Fixed windows counted in Django's cache; several limits at once, for example
"10/minute" and "100/hour". ``CUSTODIA_RATE_LIMITS=off`` lifts them (tests, benchmarks).

The counts live in Django's default cache, which is per process: `custodia serve` is one
process (waitress threads), so the limits hold; behind several processes each counts alone.
"""

from __future__ import annotations

import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache

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


def retry_after(request: Any, scope: str, rates: list[tuple[int, int]]) -> int | None:
    """Count this request; None if it is allowed, else the seconds to wait (Retry-After)."""
    if not settings.CUSTODIA_RATE_LIMITS:
        return None
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
        if used > count:
            waits.append(math.ceil((window + 1) * period - now))
    return max(waits) if waits else None
