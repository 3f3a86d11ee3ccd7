from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from custodia.ledger import signing


class Command(BaseCommand):
    help = "El libro verificable: llave, puntos de control y verificación independiente."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACCIÓN")
        actions.add_parser("keygen", help="Generar la llave Ed25519 de los puntos de control")
        actions.add_parser("checkpoint", help="Firmar ya un punto de control del árbol actual")
        verify = actions.add_parser(
            "verify", help="Verificar el libro (local, o el de otro servidor con --url)"
        )
        verify.add_argument("--url", help="URL base del servidor, p. ej. https://rnd.example/")
        verify.add_argument(
            "--state-dir", help="Dónde guardar los puntos de control vistos (var/ledger-seen)"
        )
        verify.add_argument("--timeout", type=float, default=30.0, help="Segundos por solicitud")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "keygen":
            path = signing.key_path()
            if path.exists():
                raise CommandError(f"Ya existe una llave en {path}; no se reemplaza.")
            key = signing.generate(path)
            public = signing.raw_public(key.public_key())
            self.stdout.write(f"Llave creada en {path} (permisos 600).")
            self.stdout.write(
                f"Clave pública (base64): {__import__('base64').b64encode(public).decode()}"
            )
            return
        if action == "checkpoint":
            from custodia.ledger.services import ensure_checkpoint_current, tree_size

            try:
                signing.load_private()
            except signing.KeyMissing as error:
                raise CommandError(str(error)) from error
            made = ensure_checkpoint_current()
            if made is None:
                self.stdout.write(f"El último punto de control ya cubre las {tree_size()} hojas.")
            else:
                self.stdout.write(
                    f"Punto de control: {made.tree_size} hojas, raíz {made.root_hash}"
                )
            return
        from custodia.ledger.verify import run_verification

        ok = run_verification(
            url=options["url"],
            state_dir=options["state_dir"],
            timeout=options["timeout"],
            out=self.stdout,  # type: ignore[arg-type]
        )
        if not ok:
            raise CommandError("La verificación falló (detalles arriba).")
