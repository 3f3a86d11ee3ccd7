"""Loading the geographic catalogs: the 32 states and INEGI's municipalities.

The municipality loader reads INEGI's catalogue (Catálogo Único de Claves de Áreas
Geoestadísticas, columns ``CVE_ENT``, ``CVE_MUN``, ``NOM_MUN``); the file shipped with Custodia
uses the same columns plus ``CAPITAL`` and ``TIMEZONE``. A file with any bad row loads nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

from django.db import transaction

DATA_DIR = Path(__file__).resolve().parent / "data"
STATES_FILE = DATA_DIR / "states.csv"
MUNICIPALITIES_FILE = DATA_DIR / "municipalities.csv"


@dataclass(frozen=True)
class RowError:
    row: int
    message: str

    def __str__(self) -> str:
        return f"fila {self.row}: {self.message}"


class CatalogFileError(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__("; ".join(str(e) for e in errors[:5]))
        self.errors = errors


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    # INEGI publishes UTF-8 with a BOM and, in older files, Windows-1252.
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CatalogFileError([RowError(0, "el archivo no está en UTF-8 ni en Windows-1252")])


def load_states(state_model: Any, path: Path = STATES_FILE) -> int:
    rows = list(csv.DictReader(io.StringIO(_read_text(path))))
    for row in rows:
        state_model.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "abbreviation": row["abbreviation"],
                "zone": row["zone"],
                "timezone": row["timezone"],
            },
        )
    return len(rows)


@dataclass(frozen=True)
class MunicipalityRow:
    code: str
    state: str
    name: str
    is_capital: bool | None
    timezone: str | None


def parse_municipalities(text: str, known_states: set[str]) -> list[MunicipalityRow]:
    reader = csv.DictReader(io.StringIO(text))
    headers = {(h or "").strip().upper(): h for h in reader.fieldnames or []}
    missing = [h for h in ("CVE_ENT", "CVE_MUN", "NOM_MUN") if h not in headers]
    if missing:
        raise CatalogFileError(
            [RowError(1, "faltan las columnas " + ", ".join(missing) + " (formato INEGI)")]
        )
    zones = available_timezones()
    rows: list[MunicipalityRow] = []
    errors: list[RowError] = []
    seen: set[str] = set()
    for number, raw in enumerate(reader, start=2):
        row = {key: (raw.get(original) or "").strip() for key, original in headers.items()}
        state, mun, name = row["CVE_ENT"].zfill(2), row["CVE_MUN"].zfill(3), row["NOM_MUN"]
        timezone = row.get("TIMEZONE") or None
        capital = row.get("CAPITAL", "")
        if not (state.isdigit() and len(state) == 2):
            errors.append(
                RowError(number, f"CVE_ENT «{row['CVE_ENT']}» no es una clave de entidad")
            )
            continue
        if state not in known_states:
            errors.append(RowError(number, f"la entidad {state} no existe en el catálogo"))
            continue
        if not (mun.isdigit() and len(mun) == 3):
            errors.append(RowError(number, f"CVE_MUN «{row['CVE_MUN']}» no es una clave municipal"))
            continue
        if not name or len(name) > 120:
            errors.append(RowError(number, "NOM_MUN vacío o de más de 120 caracteres"))
            continue
        if timezone and timezone not in zones:
            errors.append(RowError(number, f"zona horaria desconocida «{timezone}»"))
            continue
        if capital not in {"", "0", "1"}:
            errors.append(RowError(number, "CAPITAL debe ser 0 o 1"))
            continue
        code = state + mun
        if code in seen:
            errors.append(RowError(number, f"el municipio {code} está repetido"))
            continue
        seen.add(code)
        rows.append(
            MunicipalityRow(code, state, name, None if capital == "" else capital == "1", timezone)
        )
    if errors:
        raise CatalogFileError(errors)
    return rows


def load_municipalities(
    state_model: Any, municipality_model: Any, path: Path = MUNICIPALITIES_FILE
) -> tuple[int, int]:
    """Insert or update every municipality of the file. Returns (created, updated)."""
    known = set(state_model.objects.values_list("code", flat=True))
    rows = parse_municipalities(_read_text(path), known)
    existing = {
        m.code: m for m in municipality_model.objects.filter(code__in=[r.code for r in rows])
    }
    created = updated = 0
    with transaction.atomic():
        new = []
        for row in rows:
            current = existing.get(row.code)
            if current is None:
                new.append(
                    municipality_model(
                        code=row.code,
                        state_id=row.state,
                        name=row.name,
                        is_capital=bool(row.is_capital),
                        timezone=row.timezone or "",
                    )
                )
                continue
            current.name = row.name
            if row.is_capital is not None:
                current.is_capital = row.is_capital
            if row.timezone is not None:
                current.timezone = row.timezone
            current.save()
            updated += 1
        municipality_model.objects.bulk_create(new, batch_size=500)
        created = len(new)
    return created, updated
