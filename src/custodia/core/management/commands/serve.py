from __future__ import annotations

import os
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections


class Command(BaseCommand):
    help = (
        "Aplica las migraciones pendientes y sirve Custodia: un proceso con hilos (waitress) o, "
        "con --workers N, N procesos (gunicorn), para usar todos los núcleos con PostgreSQL."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Dirección (127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="Puerto (8000)")
        parser.add_argument("--threads", type=int, default=8, help="Hilos por proceso (8)")
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="Procesos de trabajo (1). Más de uno solo con PostgreSQL; uno por núcleo.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        port, threads, workers = options["port"], options["threads"], options["workers"]
        if not 1 <= port <= 65535:
            raise CommandError("El puerto debe estar entre 1 y 65535.")
        if not 1 <= threads <= 256:
            raise CommandError("El número de hilos debe estar entre 1 y 256.")
        if not 1 <= workers <= 64:
            raise CommandError("El número de procesos (--workers) debe estar entre 1 y 64.")
        if workers > 1 and connection.vendor != "postgresql":
            raise CommandError(
                "Varios procesos (--workers) requieren PostgreSQL: SQLite admite un solo "
                "escritor a la vez. Defina DATABASE_URL o use --workers 1."
            )
        call_command("migrate", interactive=False, verbosity=0)
        from custodia.core import partitions

        partitions.ensure()
        from custodia.reports import rollup

        rollup.ensure_current(self.stdout.write)
        # Read by the rate limits (each process counts alone: core/ratelimit.py).
        os.environ["CUSTODIA_SERVER_WORKERS"] = str(workers)
        from custodia.wsgi import application

        host = options["host"]
        self.stdout.write(f"Custodia en http://{host}:{port}/  (Ctrl+C para detener)")
        self.stdout.flush()
        if workers == 1:
            from waitress import serve

            serve(application, host=host, port=port, threads=threads, ident="custodia")
            return
        # The processes are forked from this one: none may inherit its database connection.
        connections.close_all()
        _run_gunicorn(
            application,
            {
                "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
                "workers": workers,
                "worker_class": "gthread",
                "threads": threads,
                "preload_app": True,
                "proc_name": "custodia",
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                # A long report or export must not get its process killed; requests are
                # served by threads, so the process's heartbeat does not wait for them.
                "timeout": 120,
                "graceful_timeout": 30,
            },
        )


def _run_gunicorn(app: Any, settings: dict[str, Any]) -> None:
    """gunicorn run from here rather than from its command line: our settings, our app."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self) -> None:
            for name, value in settings.items():
                self.cfg.set(name, value)

        def load(self) -> Any:
            return app

    Server().run()
