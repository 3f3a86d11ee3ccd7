from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from custodia.core.models import ApiToken, User


class Command(BaseCommand):
    help = "Tokens de API: custodia token create USUARIO (imprime el token en la última línea)"

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACCIÓN")
        create = actions.add_parser("create", help="Crear un token (se muestra una sola vez)")
        create.add_argument("username", help="Usuario dueño del token")
        create.add_argument("--name", default="", help="Nombre o uso del token")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"El usuario «{options['username']}» no existe.")
        if not user.is_active:
            raise CommandError(f"El usuario «{user.username}» está desactivado.")
        _, raw = ApiToken.issue(user, name=options["name"][:100])
        self.stderr.write(f"Token para {user.username} (guárdelo: no se volverá a mostrar):")
        self.stdout.write(raw)
