from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from custodia.core import partitions
from custodia.notify.worker import run_once

PARTITION_CHECK_SECONDS = 3600


class Command(BaseCommand):
    help = (
        "Entrega las notificaciones pendientes (plazos vencidos y cambios de custodia) por "
        "correo y webhook firmado. Sin --loop, una sola pasada."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Seguir trabajando (servicio)")
        parser.add_argument(
            "--interval", type=float, default=15.0, help="Segundos entre pasadas (15)"
        )
        parser.add_argument(
            "--max-runs", type=int, default=0, help="Con --loop, detenerse tras N pasadas"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        interval, max_runs = options["interval"], options["max_runs"]
        if not 0.1 <= interval <= 3600:
            raise CommandError("--interval debe estar entre 0.1 y 3600 segundos.")
        if max_runs < 0:
            raise CommandError("--max-runs no puede ser negativo.")
        runs = 0
        checked = float("-inf")
        while True:
            if time.monotonic() - checked >= PARTITION_CHECK_SECONDS:
                # A long-running loop keeps the monthly partitions a year ahead.
                partitions.ensure()
                checked = time.monotonic()
            report = run_once()
            runs += 1
            self.stdout.write(str(report))
            self.stdout.flush()
            if not options["loop"] or (max_runs and runs >= max_runs):
                return
            try:
                time.sleep(interval)
            except KeyboardInterrupt:
                return
