from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Los registros de la Conferencia: cargar la XXIII Asamblea Plenaria (30/06/2020)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACCIÓN")
        load = actions.add_parser(
            "load-seed", help="Cargar la sesión del acta (una vez; repetirlo no agrega nada)"
        )
        load.add_argument("--file", help="Otro archivo JSON con la misma forma")

    def handle(self, *args: Any, **options: Any) -> None:
        from custodia.conference import seed
        from custodia.core.errors import InvalidFields
        from custodia.ledger.services import ensure_checkpoint_current

        path = Path(options["file"]) if options.get("file") else seed.SEED
        try:
            loaded = seed.load(path)
        except FileNotFoundError as error:
            raise CommandError(f"No existe el archivo {path}.") from error
        except (ValueError, KeyError, TypeError) as error:
            raise CommandError(f"El archivo {path} no tiene la forma del acta: {error}") from error
        except InvalidFields as invalid:
            problems = "; ".join(message for _, message in invalid.errors)
            raise CommandError(f"El acta no se cargó (nada se escribió): {problems}") from invalid
        if not loaded.new:
            self.stdout.write(f"La {loaded.session.title} ya estaba cargada; no se agregó nada.")
            return
        ensure_checkpoint_current()
        session = loaded.session
        self.stdout.write(
            f"{session.title} ({session.held_on:%d/%m/%Y}) cargada: "
            f"{session.agreements.count()} acuerdos, "
            f"{sum(a.commitments.count() for a in session.agreements.all())} compromisos, "
            f"{sum(a.working_groups.count() for a in session.agreements.all())} mesas de trabajo, "
            f"{session.communiques.count()} comunicado(s). Véala en /conferencia/."
        )
