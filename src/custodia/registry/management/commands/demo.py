from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from custodia.registry import demo
from custodia.registry.models import Detention


class Command(BaseCommand):
    help = (
        "Datos de demostración: instituciones en varios estados, un usuario por rol y "
        "detenciones sintéticas."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--detentions", type=int, default=300, help="Detenciones sintéticas (300)"
        )
        parser.add_argument("--seed", type=int, default=2020, help="Semilla (2020)")
        parser.add_argument(
            "--without-conference",
            action="store_true",
            help="No cargar la XXIII Asamblea Plenaria de la Conferencia (sólo el registro)",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Agregar detenciones aunque la base ya tenga algunas",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count = options["detentions"]
        if not 0 <= count <= 1_000_000:
            raise CommandError("--detentions debe estar entre 0 y 1 000 000.")
        call_command("migrate", interactive=False, verbosity=0)
        from custodia.ledger import signing

        if not signing.key_path().exists():
            signing.generate(signing.key_path())
            self.stdout.write(f"Llave del libro creada en {signing.key_path()}.")
        from custodia.reports import rollup

        rollup.ensure_current(self.stdout.write)  # a database from an earlier version
        institutions = demo.ensure_institutions()
        users = demo.ensure_users(institutions)
        demo.ensure_subscriptions(institutions)
        existing = Detention.objects.count()
        if existing and not options["force"]:
            self.stdout.write(
                f"La base ya tiene {existing} detenciones; no se agregan más (use --force)."
            )
        elif count:
            with tqdm(total=count, desc="Detenciones", unit="det", disable=None) as bar:

                def advance(_: int) -> None:
                    bar.update(1)

                registered, rejected = demo.load_detentions(count, options["seed"], advance)
            self.stdout.write(f"Detenciones registradas: {registered} (rechazadas: {rejected}).")
        from custodia.conference import seed as conference_seed

        plenary = None if options["without_conference"] else conference_seed.load()
        if plenary is not None and plenary.new:
            self.stdout.write(f"Conferencia: {plenary.session.title} cargada (/conferencia/).")
        from custodia.ledger.services import ensure_checkpoint_current

        ensure_checkpoint_current()
        self.stdout.write("")
        self.stdout.write("Usuarios de demostración (usuario / contraseña · rol · institución):")
        for user in users:
            self.stdout.write(
                f"  {user.username:<18} {user.password:<22} {user.role:<17} {user.institution}"
            )
        self.stdout.write("Entre en http://127.0.0.1:8000/entrar/ · API: /api/v1/docs")
        self.stdout.write("Consulta pública, sin cuenta: http://127.0.0.1:8000/consulta/")
