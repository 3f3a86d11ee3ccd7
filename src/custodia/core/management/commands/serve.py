from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Aplica las migraciones pendientes y sirve Custodia (servidor WSGI waitress)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Dirección (127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="Puerto (8000)")
        parser.add_argument("--threads", type=int, default=8, help="Hilos de trabajo (8)")

    def handle(self, *args: Any, **options: Any) -> None:
        port, threads = options["port"], options["threads"]
        if not 1 <= port <= 65535:
            raise CommandError("El puerto debe estar entre 1 y 65535.")
        if not 1 <= threads <= 256:
            raise CommandError("El número de hilos debe estar entre 1 y 256.")
        call_command("migrate", interactive=False, verbosity=0)
        from custodia.core import partitions

        partitions.ensure()
        from custodia.reports import rollup

        rollup.ensure_current(self.stdout.write)
        from waitress import serve

        from custodia.wsgi import application

        host = options["host"]
        self.stdout.write(f"Custodia en http://{host}:{port}/  (Ctrl+C para detener)")
        self.stdout.flush()
        serve(application, host=host, port=port, threads=threads, ident="custodia")
