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
        # The monthly report reads a month of every institution's zero reports.
        indexes = [models.Index(fields=["day", "institution"], name="zero_report_day")]

    def __str__(self) -> str:
        return f"{self.institution_id} {self.day}"


# --- The monthly report's rollup (docs/reports.md, "Speed"): derived data, kept current in the
# transaction of every registry write and rebuilt by ``custodia report rollup --rebuild``.


class DetentionFact(models.Model):
    """What the monthly report counts of one detention, in the form its counts are made of
    (``rollup.Fact``). The rollup's memory of what it counted: a write to the detention counts
    the difference between the new fact and this one."""

    detention = models.OneToOneField(
        "registry.Detention", on_delete=models.PROTECT, primary_key=True, related_name="+"
    )
    month = models.IntegerField()  # local month of the detention, as YYYYMM
    state = models.CharField(max_length=2)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    municipality = models.CharField(max_length=5, blank=True)
    day = models.SmallIntegerField()  # local day of the month
    slot = models.SmallIntegerField()  # weekday x 24 + hour, on the local clock
    arrest_basis = models.CharField(max_length=16)
    sex = models.CharField(max_length=8)
    age_band = models.CharField(max_length=8)
    outcome = models.CharField(max_length=24)
    registration = models.IntegerField()  # delay bucket, minutes (rollup.delay_bucket)
    handover = models.IntegerField(null=True)  # delay bucket; null: not handed over
    fields = models.IntegerField()  # bit i: the record fills monthly.FIELDS[i]
    clocks = models.CharField(max_length=16)  # "breached-open" bit masks of rollup.CLOCK_BITS
    warnings = models.CharField(max_length=120, blank=True)  # warning codes, space-separated
    # When a running clock falls due before the month ends: the fact changes with time alone
    # then, and is counted again (rollup.refresh_due).
    recheck_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["recheck_at"],
                name="fact_recheck",
                condition=models.Q(recheck_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.detention_id} {self.month}"


class StateMonthCount(models.Model):
    """How many of a state's detentions (or events) of a month have ``key`` in ``dimension``."""

    month = models.IntegerField()
    dimension = models.CharField(max_length=16)
    state = models.CharField(max_length=2)
    key = models.CharField(max_length=40)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "dimension", "state", "key"], name="state_month_count_cell"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.state} {self.dimension}={self.key}: {self.n}"


class InstitutionMonthCount(models.Model):
    """The same per institution, for the institutions' tables of a state's report."""

    month = models.IntegerField()
    dimension = models.CharField(max_length=16)
    state = models.CharField(max_length=2)
    institution = models.IntegerField()  # Institution.pk; no foreign key: derived counts
    key = models.CharField(max_length=40)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "dimension", "state", "institution", "key"],
                name="institution_month_count_cell",
            )
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.institution} {self.dimension}={self.key}: {self.n}"


class RollupState(models.Model):
    """One row: the version of the facts' form and the clock policy the rollup was counted
    with. When either differs from the running code's, the report says so and
    ``custodia report rollup --rebuild`` (or the next ``custodia serve``) counts again."""

    version = models.IntegerField()
    policy = models.TextField()
    built_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"v{self.version} {self.policy}"
