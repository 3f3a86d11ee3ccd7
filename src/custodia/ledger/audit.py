"""Reading the access log as an auditor: filters, and users who read far more than their peers."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, QuerySet

from custodia.core.models import AccessLog

READ_ACTIONS = ("detention.read", "detention.list", "ledger.inspect")
# A user is flagged when their reads are at least this many times their role's median and the
# robust z-score (median and MAD, so one heavy reader cannot hide others) passes the threshold.
FACTOR = 3.0
ROBUST_Z = 3.5
MIN_READS = 20


@dataclass(frozen=True)
class Filters:
    username: str = ""
    folio: str = ""
    institution: str = ""
    channel: str = ""
    action: str = ""
    start: datetime | None = None
    end: datetime | None = None

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in vars(self).items() if v not in ("", None)]
        return "; ".join(parts) or "sin filtros"


def filtered(filters: Filters) -> QuerySet[AccessLog]:
    qs = AccessLog.objects.all()
    if filters.username:
        qs = qs.filter(username=filters.username)
    if filters.folio:
        qs = qs.filter(folio=filters.folio)
    if filters.institution:
        qs = qs.filter(institution_code=filters.institution)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.start:
        qs = qs.filter(at__gte=filters.start)
    if filters.end:
        qs = qs.filter(at__lt=filters.end)
    return qs.order_by("-id")


@dataclass(frozen=True)
class Anomaly:
    username: str
    role: str
    institution: str
    reads: int
    peer_median: float
    robust_z: float

    @property
    def factor(self) -> float:
        return self.reads / self.peer_median if self.peer_median else float("inf")


def anomalies(start: datetime, end: datetime) -> list[Anomaly]:
    """Users whose reads of personal data in [start, end) are far above their role's peers'."""
    rows = (
        AccessLog.objects.filter(at__gte=start, at__lt=end, action__in=READ_ACTIONS)
        .exclude(username="")
        .values("username", "role", "institution_code")
        .annotate(reads=Count("id"))
    )
    by_role: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_role.setdefault(row["role"], []).append(row)
    found = []
    for role, users in by_role.items():
        counts = [u["reads"] for u in users]
        if len(counts) < 3:
            continue  # no peers to compare with
        median = statistics.median(counts)
        mad = statistics.median(abs(c - median) for c in counts) or 1.0
        for user in users:
            z = 0.6745 * (user["reads"] - median) / mad
            if user["reads"] >= MIN_READS and user["reads"] >= FACTOR * median and z >= ROBUST_Z:
                found.append(
                    Anomaly(
                        user["username"],
                        role,
                        user["institution_code"],
                        user["reads"],
                        float(median),
                        z,
                    )
                )
    return sorted(found, key=lambda a: a.reads, reverse=True)
