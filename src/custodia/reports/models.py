"""What the monthly report stands on besides the registry itself (issue 6, DESIGN.md §4)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from custodia.core.models import Channel, Institution


class ZeroReport(models.Model):
    """An institution's statement that it detained nobody on a day (its state's local date).
    Silence is not zero: a day with neither captures nor a zero report is a silent day in the
    report. Append-only, enforced by the database: a statement once filed stays on the record,
    and a detention registered later for that day shows as a contradiction, not as an edit."""

    institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        related_name="zero_reports",
        verbose_name="institución",
    )
    day = models.DateField("día")
    note = models.CharField("observación", max_length=300, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    filed_at = models.DateTimeField("presentado", auto_now_add=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)

    class Meta:
        ordering = ["-day"]
        verbose_name = "reporte en cero"
        verbose_name_plural = "reportes en cero"
        constraints = [
            models.UniqueConstraint(fields=["institution", "day"], name="zero_report_once")
        ]

    def __str__(self) -> str:
        return f"{self.institution_id} {self.day}"
