"""``custodia import detentions FILE.csv|FILE.jsonl --user USERNAME``: a state system's export
loaded row by row through the same rules as a capture (docs/import.md)."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection


class Command(BaseCommand):
    help = "Importar detenciones en lote desde un sistema estatal (docs/import.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        what = parser.add_subparsers(dest="what", required=True, metavar="QUÉ")
        detentions = what.add_parser(
            "detentions", help="Detenciones de un archivo CSV o JSON Lines (.jsonl)"
        )
        detentions.add_argument("file", metavar="ARCHIVO", help="archivo .csv o .jsonl")
        detentions.add_argument(
            "--user",
            required=True,
            help="usuario de captura o supervisión en cuyo nombre se registra (su institución)",
        )
        detentions.add_argument(
            "--workers",
            type=int,
            default=None,
            help="procesos que importan a la vez (PostgreSQL; por omisión, uno por núcleo)",
        )
        detentions.add_argument(
            "--errors",
            default="",
            help="CSV del informe de errores (por omisión, ARCHIVO.errores.csv junto al archivo)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from tqdm import tqdm

        from custodia.core.access import AccessDenied, require_register_detention
        from custodia.core.models import Channel, User
        from custodia.registry import imports

        workers = options["workers"]
        if workers is not None and not 1 <= workers <= 32:
            raise CommandError("--workers debe estar entre 1 y 32.")
        if connection.vendor != "postgresql":
            if workers is not None and workers > 1:
                self.stderr.write("--workers: con SQLite se importa en un solo proceso.")
            workers = 1
        elif workers is None:
            workers = min(os.cpu_count() or 1, 8)
        path = Path(options["file"])
        user = User.objects.select_related("institution").filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"--user: no existe el usuario «{options['user']}».")
        try:
            require_register_detention(user)
        except AccessDenied as denied:
            raise CommandError(f"--user {user.username}: {denied.message}") from None
        report_path = (
            Path(options["errors"])
            if options["errors"]
            else path.with_name(path.name + ".errores.csv")
        )
        try:
            total, rows = imports.read_file(path)
        except imports.FileProblem as problem:
            raise CommandError(str(problem)) from None
        if total is not None and total <= imports.CHUNK:
            workers = 1  # one chunk: starting processes would cost more than they save

        summary = imports.Summary()
        try:
            out = report_path.open("w", newline="", encoding="utf-8-sig")
        except OSError as error:
            raise CommandError(
                f"No se pudo escribir el informe {report_path}: {error.strerror or error}."
            ) from None
        # Written as rows land: what was imported before an interruption is in the report.
        with out, tqdm(total=total, desc="Filas", unit="fila", disable=None) as bar:
            writer = csv.writer(out)
            writer.writerow(imports.ERROR_COLUMNS)
            for result in imports.import_rows(
                actor=user, rows=rows, channel=Channel.CLI, workers=workers
            ):
                summary.add(result)
                writer.writerows(imports.error_report_rows([result]))
                bar.update(1)
        counts = summary.as_dict()
        self.stdout.write(
            f"{counts['received']} filas: {counts['created']} registradas, "
            f"{counts['existing']} ya existían, {counts['rejected']} rechazadas."
        )
        self.stdout.write(f"Informe de errores y advertencias: {report_path}")
        if summary.rejected:
            raise CommandError(
                f"{summary.rejected} filas rechazadas: corríjalas según el informe y vuelva a "
                "importar el archivo (lo ya registrado no se duplica)."
            )
