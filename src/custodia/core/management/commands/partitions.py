from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from custodia.core import partitions


class Command(BaseCommand):
    help = (
        "Particiones mensuales de los movimientos de custodia y de la bitácora de accesos "
        "(PostgreSQL): crea las que falten hasta 12 meses adelante y las lista con sus filas."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--list", action="store_true", help="Sólo listar; no crear particiones")

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                "Las particiones existen sólo en PostgreSQL; en SQLite las tablas son únicas."
            )
        if not options["list"]:
            made = partitions.ensure()
            self.stdout.write(f"Particiones nuevas: {made}.")
        found = partitions.listing()
        if not found:
            raise CommandError("No hay tablas particionadas: aplique las migraciones (migrate).")
        for table in partitions.TABLES:
            mine = [p for p in found if p.table == table]
            rows = sum(p.rows for p in mine)
            self.stdout.write(
                f"\n{table}: {len(mine)} particiones, ~{rows:,} filas (estimación del planificador)"
            )
            for p in mine:
                self.stdout.write(f"  {p.name:<40} {p.rows:>12,} filas  {p.span}")
