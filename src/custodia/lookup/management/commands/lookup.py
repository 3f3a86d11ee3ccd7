from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from tqdm import tqdm


class Command(BaseCommand):
    help = "Índice de nombres de la consulta pública y de la búsqueda de personas."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACCIÓN")
        actions.add_parser(
            "reindex",
            help="Reconstruir el índice desde el registro (tras cambiar las reglas de nombres)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from custodia.lookup.index import rebuild
        from custodia.lookup.models import NameEntry, NameKey, NameVariant
        from custodia.registry.models import Detention

        total = Detention.objects.count()
        with (
            transaction.atomic(),
            tqdm(total=total, desc="Detenciones", unit="det", disable=None) as bar,
        ):
            count = rebuild(Detention, NameEntry, NameKey, NameVariant, progress=bar.update)
        self.stdout.write(f"Índice de nombres reconstruido: {count} detenciones.")
