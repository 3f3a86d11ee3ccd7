"""The name index behind the public consultation and officials' search (DESIGN.md §4b).

Kept in the same transaction as every write that changes a name or a custody status
(``lookup.index``). Derived data: ``custodia lookup reindex`` rebuilds it from the registry.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class NameEntry(models.Model):
    """A detained person's name as the matcher reads it (folded words), one per detention."""

    detention = models.OneToOneField(
        "registry.Detention", on_delete=models.CASCADE, primary_key=True, related_name="name_entry"
    )
    state = models.CharField(max_length=2)
    held = models.BooleanField()
    given = models.CharField(max_length=240)
    first = models.CharField(max_length=240)
    second = models.CharField(max_length=240, blank=True)
    alias = models.CharField(max_length=240, blank=True)
    # Narrowing fields of the public consultation (API.md): approximate age, detention dates.
    age = models.PositiveSmallIntegerField(null=True)
    detained_at = models.DateTimeField()

    class Meta:
        verbose_name = "entrada del índice de nombres"
        verbose_name_plural = "índice de nombres"

    def __str__(self) -> str:
        return f"{self.given} {self.first} {self.second}".strip()


class NameKey(models.Model):
    """Retrieval keys of an entry: phonetic (given word, surname word) pairs, and alias words.
    ``held`` and ``state`` are copied here so the public search reads one index."""

    entry = models.ForeignKey(NameEntry, on_delete=models.CASCADE, related_name="keys")
    key = models.CharField(max_length=100)
    held = models.BooleanField()
    state = models.CharField(max_length=2)
    # How many keys the entry has in all: of two entries sharing as many keys with a query, the
    # one with fewer keys of its own is the closer match (no extra given name or surname), so
    # candidates are ranked well before any name is read.
    entry_keys = models.PositiveSmallIntegerField(default=1)

    class Meta:
        # Covering (entry_id included) so that ranking entries by the keys they share with a
        # query reads only the index on PostgreSQL, never the scattered table rows.
        indexes = [
            models.Index(
                fields=["key", "state"], include=["entry", "entry_keys"], name="namekey_all_cover"
            ),
            models.Index(
                fields=["key", "state"],
                include=["entry", "entry_keys"],
                condition=Q(held=True),
                name="namekey_held_cover",
            ),
            models.Index(fields=["entry"], name="namekey_entry"),
        ]

    def __str__(self) -> str:
        return self.key


class NameVariant(models.Model):
    """The vocabulary of registered name words by phonetic key, with each key's deletion
    neighbourhood, so that a typed word finds the registered words one or two edits away with
    exact index lookups."""

    variant = models.CharField(max_length=60)
    key = models.CharField(max_length=60)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["variant", "key"], name="name_variant")]

    def __str__(self) -> str:
        return f"{self.variant} → {self.key}"


class NameAlert(models.Model):
    """A person's request to be told by email when someone matching a name is registered or
    changes custody (issue 5). Double opt-in: nothing is sent but the confirmation until the
    link in it is followed. The links are signed (django.core.signing), not stored."""

    email = models.EmailField("correo")
    given_names = models.CharField(max_length=120)
    first_surname = models.CharField(max_length=120)
    second_surname = models.CharField(max_length=120, blank=True)
    state = models.CharField(max_length=2, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = "alerta por nombre"
        verbose_name_plural = "alertas por nombre"
        indexes = [models.Index(fields=["email"], name="namealert_email")]

    def __str__(self) -> str:
        return f"{self.given_names} {self.first_surname} → {self.email}"

    @property
    def full_name(self) -> str:
        parts = (self.given_names, self.first_surname, self.second_surname)
        return " ".join(p for p in parts if p)


class NameAlertKey(models.Model):
    """Surname words of an alert by phonetic key and its deletion neighbourhood: a registered
    surname within the allowed edits shares one of them, so a new detention finds the alerts to
    score with one indexed query."""

    alert = models.ForeignKey(NameAlert, on_delete=models.CASCADE, related_name="keys")
    key = models.CharField(max_length=60)

    class Meta:
        indexes = [models.Index(fields=["key"], name="namealertkey_key")]

    def __str__(self) -> str:
        return self.key
