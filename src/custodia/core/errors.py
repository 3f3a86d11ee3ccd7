"""The error for bad input in pages, the API and services: every problem with its field."""

from __future__ import annotations


class InvalidFields(Exception):
    """Bad input (public and officials' search, name alerts, zero reports, report parameters):
    ``errors`` holds (field, Spanish message) pairs. The API answers 400 with one entry per pair;
    pages show them by field."""

    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__("; ".join(message for _, message in errors))
        self.errors = errors

    def by_field(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for field, message in self.errors:
            grouped.setdefault(field, []).append(message)
        return grouped
