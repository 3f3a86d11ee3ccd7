"""``custodia synth --detentions N --seed S``: a synthetic nation in an empty registry."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

MAX_DETENTIONS = 100_000_000


class Command(BaseCommand):
    help = (
        "Nación sintética reproducible: detenciones con nombres mexicanos, cadenas de custodia, "
        "hojas del libro y los problemas de calidad de cada institución (docs/synth.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--detentions", type=int, required=True, help="cuántas detenciones")
        parser.add_argument("--seed", type=int, default=1, help="semilla (1)")
        parser.add_argument(
            "--months", type=int, default=36, help="meses completos antes del actual (36)"
        )
        parser.add_argument("--until", default="", help="AAAA-MM-DD: último día (por omisión, hoy)")
        parser.add_argument(
            "--chunk", type=int, default=10_000, help="detenciones por transacción (10 000)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from tqdm import tqdm

        from custodia.ledger import signing
        from custodia.synth import load

        count = options["detentions"]
        if not 1 <= count <= MAX_DETENTIONS:
            raise CommandError(f"--detentions debe estar entre 1 y {MAX_DETENTIONS:,}.")
        if not 1 <= options["months"] <= 240:
            raise CommandError("--months debe estar entre 1 y 240.")
        if not 100 <= options["chunk"] <= 200_000:
            raise CommandError("--chunk debe estar entre 100 y 200 000.")
        today = None
        if options["until"]:
            try:
                today = date.fromisoformat(options["until"])
            except ValueError:
                raise CommandError("--until: use una fecha AAAA-MM-DD.") from None
        start, end = load.default_period(options["months"], today)
        call_command("migrate", interactive=False, verbosity=0)
        if not signing.key_path().exists():
            signing.generate(signing.key_path())
            self.stdout.write(f"Llave del libro creada en {signing.key_path()}.")
        try:
            load.check_empty()
        except load.SynthError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Nación sintética: {count:,} detenciones del {start:%Y-%m-%d} al "
            f"{end:%Y-%m-%d} (semilla {options['seed']})."
        )
        with tqdm(total=count, desc="Detenciones", unit="det", disable=None) as bar:
            try:
                loaded = load.load(
                    count,
                    options["seed"],
                    start,
                    end,
                    chunk_size=options["chunk"],
                    progress=bar.update,
                    say=lambda text: bar.write(text),
                    bars=lambda description, total: tqdm(
                        total=total, desc=description, unit="reg", disable=None, leave=False
                    ),
                )
            except load.SynthError as error:
                raise CommandError(str(error)) from None
        rate = loaded.detentions / loaded.copy_seconds if loaded.copy_seconds else 0
        self.stdout.write(
            f"{loaded.detentions:,} detenciones, {loaded.events:,} movimientos y "
            f"{loaded.leaves:,} hojas del libro ({loaded.rows:,} filas) en "
            f"{loaded.copy_seconds:,.1f} s: {rate:,.0f} detenciones/s."
        )
        for name, seconds in loaded.parts.items():
            self.stdout.write(f"  {name}: {seconds:,.1f} s")
        if loaded.steps:
            self.stdout.write("Después:")
        for name, seconds in loaded.steps.items():
            self.stdout.write(f"  {name}: {seconds:,.1f} s")
