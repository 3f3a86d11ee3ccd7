"""The tamper-evident log (DESIGN.md §5): leaves, stored subtree hashes, signed checkpoints.

Leaves, nodes, checkpoints and redactions are append-only (database triggers). ``LedgerHead`` is
the one mutable row: the tree size, locked by every append so that leaf indexes are dense.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class LedgerHead(models.Model):
    size = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"tamaño {self.size}"


class LedgerLeaf(models.Model):
    index = models.BigIntegerField(primary_key=True)
    leaf_hash = models.CharField(max_length=64)
    # The event's commitment is SHA-256 of its canonical JSON, which includes this random salt:
    # the public leaf hash reveals nothing, and cannot be tested against guesses.
    salt = models.CharField(max_length=32)
    event = models.OneToOneField(
        "registry.CustodyEvent",
        on_delete=models.PROTECT,
        related_name="leaf",
        null=True,
        # Not a database foreign key on PostgreSQL, where events are partitioned (ledger 0004).
        db_constraint=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["index"]

    def __str__(self) -> str:
        return f"#{self.index} {self.leaf_hash[:12]}"


class LedgerNode(models.Model):
    """Hash of the complete subtree (level, index): leaves [index·2^level, (index+1)·2^level)."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="node_position")]

    def __str__(self) -> str:
        return f"({self.level}, {self.index})"


class Checkpoint(models.Model):
    tree_size = models.BigIntegerField(db_index=True)
    root_hash = models.CharField(max_length=64)
    timestamp = models.DateTimeField()
    text = models.TextField()
    signature = models.CharField(max_length=120)
    key_id = models.CharField(max_length=16)

    class Meta:
        ordering = ["-tree_size", "-id"]
        get_latest_by = "id"

    def __str__(self) -> str:
        return f"{self.tree_size} {self.root_hash[:12]}"


class VerificationRun(models.Model):
    """A run of `custodia ledger verify` against this database, for the auditor's page."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    ok = models.BooleanField()
    tree_size = models.BigIntegerField()
    summary = models.TextField()
    source = models.CharField(max_length=300)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.finished_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'FALLA'}"


class Redaction(models.Model):
    """Personal data suppressed by an administrator, with the legal reason. The person row is
    overwritten with a marker; the commitment of the registration stays in the log."""

    detention = models.ForeignKey(
        "registry.Detention", on_delete=models.PROTECT, related_name="redactions"
    )
    reason = models.TextField()
    redacted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    redacted_at = models.DateTimeField()
    person_digest = models.CharField(max_length=64)

    class Meta:
        ordering = ["-redacted_at"]

    def __str__(self) -> str:
        return f"{self.detention_id} {self.redacted_at:%Y-%m-%d}"
