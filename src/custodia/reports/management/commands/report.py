from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection


class Command(BaseCommand):
    help = "Informes mensuales de detenciones (docs/reports.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACCIÓN")
        monthly = actions.add_parser("monthly", help="Informe mensual de una entidad o nacional")
        monthly.add_argument("--month", required=True, help="AAAA-MM, en la hora local")
        monthly.add_argument("--state", default="", help="clave INEGI; sin ella, nacional")
        monthly.add_argument("--format", default="json", help="json, csv, xlsx, pdf o html")
        monthly.add_argument("-o", "--output", default="-", help="archivo (por omisión, la salida)")
        monthly.add_argument(
            "--all-states",
            action="store_true",
            help="cada entidad: con --send, su PDF por correo a sus analistas (bandeja de salida)",
        )
        monthly.add_argument("--send", action="store_true", help="enviar (con --all-states)")
        rollup = actions.add_parser(
            "rollup",
            help="Cifras agregadas del informe: reconstruir (--rebuild) o verificar (--check)",
        )
        what = rollup.add_mutually_exclusive_group(required=True)
        what.add_argument(
            "--rebuild", action="store_true", help="contar todo de nuevo desde el registro"
        )
        what.add_argument(
            "--check",
            action="store_true",
            help="comparar con un reconteo del registro (sale con 1 si difieren)",
        )
        rollup.add_argument("--month", default="", help="con --check: sólo este mes (AAAA-MM)")
        rollup.add_argument(
            "--workers",
            type=int,
            default=1,
            help="con --rebuild en PostgreSQL: procesos que calculan en paralelo (uno por núcleo)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from tqdm import tqdm

        from custodia.core.errors import InvalidFields
        from custodia.core.models import State
        from custodia.reports import formats, monthly, queries

        if options["action"] == "rollup":
            self.rollup(options)
            return
        if options["send"] and not options["all_states"]:
            raise CommandError("--send: úselo con --all-states.")
        if options["all_states"]:
            self.all_states(options)
            return
        fmt = options["format"]
        if fmt not in (*formats.FORMATS, "html"):
            raise CommandError(f"--format: use {', '.join(formats.FORMATS)} o html.")
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
            text = (
                formats.as_html(report, queries.month_label(year, month))
                if fmt == "html"
                else formats.render(report, fmt)
            )
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

    def rollup(self, options: dict[str, Any]) -> None:
        from django.db.models import Max, Min
        from tqdm import tqdm

        from custodia.core.errors import InvalidFields
        from custodia.registry.models import CustodyEvent, Detention
        from custodia.reports import monthly, queries, rollup
        from custodia.reports.models import StateMonthCount

        if options["rebuild"]:
            if options["month"]:
                raise CommandError("--month: úselo con --check; --rebuild cuenta todos los meses.")
            if not 1 <= options["workers"] <= 32:
                raise CommandError("--workers debe estar entre 1 y 32.")
            if options["workers"] > 1 and connection.vendor != "postgresql":
                self.stderr.write("--workers: con SQLite se cuenta en un solo proceso.")
            total = Detention.objects.count() + CustodyEvent.objects.count()
            with tqdm(
                total=total, desc="Registros", unit="reg", disable=None, file=sys.stderr
            ) as bar:
                done = rollup.rebuild(progress=bar.update, workers=options["workers"])
            self.stdout.write(
                f"Cifras del informe contadas de nuevo: {done['facts']} detenciones y "
                f"{done['events']} movimientos."
            )
            return
        if options["month"]:
            try:
                months = [queries.parse_month(options["month"], "--month")]
            except InvalidFields as invalid:
                raise CommandError(invalid.errors[0][1].replace("Mes:", "--month:")) from None
        else:  # every month with counts, and every month from the first detention to the last
            found = {
                (m // 100, m % 100)
                for m in StateMonthCount.objects.values_list("month", flat=True).distinct()
            }
            span = Detention.objects.aggregate(first=Min("detained_at"), last=Max("detained_at"))
            if span["first"]:
                step = monthly.previous_month(span["first"].year, span["first"].month)
                end = rollup.next_month(span["last"].year, span["last"].month)
                while step <= end:
                    found.add(step)
                    step = rollup.next_month(*step)
            months = sorted(found)
        problems: list[str] = []
        for year, month in tqdm(months, desc="Meses", unit="mes", disable=None, file=sys.stderr):
            problems += [f"{year:04d}-{month:02d}: {p}" for p in rollup.check(year, month)]
        for line in problems[:50]:
            self.stdout.write(f"  {line}")
        if not rollup.is_current():
            problems.append("versión o umbrales distintos")
            self.stdout.write(
                "  Las cifras se contaron con otra versión o con otros umbrales de plazos."
            )
        self.stdout.write(f"{len(months)} mes(es) revisado(s); {len(problems)} diferencia(s).")
        if problems:
            raise CommandError(
                "Las cifras del informe no coinciden con el registro: "
                "ejecute «custodia report rollup --rebuild»."
            )
