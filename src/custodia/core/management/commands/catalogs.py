from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from custodia.core.catalogs import CatalogFileError, load_municipalities, load_states
from custodia.core.models import Municipality, State


class Command(BaseCommand):
    help = "Catálogos geográficos: entidades y municipios del INEGI."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACCIÓN")
        imp = actions.add_parser(
            "import-municipalities",
            help="Importar el catálogo de municipios del INEGI (CSV con CVE_ENT, CVE_MUN, NOM_MUN)",
        )
        imp.add_argument("file", help="Archivo CSV")
        actions.add_parser("load", help="Cargar las entidades y los municipios incluidos")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "load":
            states = load_states(State)
            created, updated = load_municipalities(State, Municipality)
            self.stdout.write(
                f"{states} entidades; municipios: {created} nuevos, {updated} actualizados."
            )
            return
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No existe el archivo «{path}».")
        try:
            created, updated = load_municipalities(State, Municipality, path)
        except CatalogFileError as error:
            shown = error.errors[:20]
            lines = "\n".join(f"  {e}" for e in shown)
            more = len(error.errors) - len(shown)
            tail = f"\n  … y {more} errores más" if more > 0 else ""
            raise CommandError(
                f"No se importó nada: {len(error.errors)} fila(s) con errores.\n{lines}{tail}"
            ) from error
        self.stdout.write(f"Municipios importados: {created} nuevos, {updated} actualizados.")
