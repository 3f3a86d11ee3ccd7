from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Informes mensuales de detenciones (docs/reports.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACCIÓN")
        monthly = actions.add_parser("monthly", help="Informe mensual de una entidad o nacional")
        monthly.add_argument("--month", required=True, help="AAAA-MM, en la hora local")
        monthly.add_argument("--state", default="", help="clave INEGI; sin ella, nacional")
        monthly.add_argument("--format", default="json", help="json, csv, xlsx o pdf")
        monthly.add_argument("-o", "--output", default="-", help="archivo (por omisión, la salida)")
        monthly.add_argument(
            "--all-states",
            action="store_true",
            help="cada entidad: con --send, su PDF por correo a sus analistas (bandeja de salida)",
        )
        monthly.add_argument("--send", action="store_true", help="enviar (con --all-states)")

    def handle(self, *args: Any, **options: Any) -> None:
        from tqdm import tqdm

        from custodia.core.errors import InvalidFields
        from custodia.core.models import State
        from custodia.reports import formats, monthly, queries

        if options["send"] and not options["all_states"]:
            raise CommandError("--send: úselo con --all-states.")
        if options["all_states"]:
            self.all_states(options)
            return
        fmt = options["format"]
        if fmt not in formats.FORMATS:
            raise CommandError(
                f"--format: use {', '.join(formats.FORMATS)} (la página HTML está en /reportes/)."
            )
        if fmt in ("xlsx", "pdf") and options["output"] == "-":
            raise CommandError(f"--format {fmt}: indique el archivo con -o ARCHIVO.")
        try:
            year, month = queries.parse_month(options["month"], "--month")
        except InvalidFields as invalid:
            raise CommandError(invalid.errors[0][1].replace("Mes:", "--month:")) from None
        state = options["state"].strip() or None
        if state and not State.objects.filter(code=state).exists():
            raise CommandError(
                "--state: use la clave INEGI de dos dígitos de una entidad, p. ej. 29."
            )
        with tqdm(total=2, desc="Informe", unit="paso", disable=None, file=sys.stderr) as bar:
            report = monthly.monthly(year, month, state)
            bar.update()
            text = formats.render(report, fmt)
            bar.update()
        if options["output"] == "-":
            assert isinstance(text, str)  # binary formats were refused above
            self.stdout.write(text, ending="")
            return
        path = Path(options["output"])
        try:
            if isinstance(text, bytes):
                path.write_bytes(text)
            else:
                path.write_text(text, encoding="utf-8")
        except OSError as error:
            raise CommandError(f"-o: no se pudo escribir {path}: {error.strerror}.") from None
        self.stderr.write(f"Informe escrito en {path}.")

    def all_states(self, options: dict[str, Any]) -> None:
        from tqdm import tqdm

        from custodia.core.errors import InvalidFields
        from custodia.core.models import State
        from custodia.reports import queries, sending

        if not options["send"]:
            raise CommandError("--all-states: agregue --send para enviar los informes por correo.")
        if options["state"] or options["output"] != "-":
            raise CommandError("--all-states: no se combina con --state ni con -o.")
        try:
            year, month = queries.parse_month(options["month"], "--month")
        except InvalidFields as invalid:
            raise CommandError(invalid.errors[0][1].replace("Mes:", "--month:")) from None
        states = list(State.objects.order_by("code"))
        queued, skipped, repeated = 0, 0, 0
        for state in tqdm(states, desc="Entidades", unit="ent", disable=None, file=sys.stderr):
            result = sending.queue_state_report(year, month, state)
            if result is None:
                skipped += 1
            elif result.new:
                queued += result.recipients
            else:
                repeated += 1
        self.stdout.write(
            f"Informes de {year:04d}-{month:02d} en la bandeja de salida: {queued} correo(s). "
            f"Entidades sin analistas con correo: {skipped}. Ya enviadas antes: {repeated}. "
            "Los entrega `custodia notify`."
        )
