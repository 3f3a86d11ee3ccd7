from __future__ import annotations

import secrets
import sys
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from custodia.core.models import Institution, Role, User


class Command(BaseCommand):
    help = "Usuarios: custodia user create USUARIO --role ROL --institution CLAVE"

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACCIÓN")
        create = actions.add_parser("create", help="Crear un usuario")
        create.add_argument("username", help="Nombre de usuario")
        create.add_argument("--role", required=True, choices=Role.values, help="Rol")
        create.add_argument("--institution", required=True, help="Clave de la institución")
        create.add_argument(
            "--password-stdin", action="store_true", help="Leer la contraseña de la entrada"
        )
        create.add_argument("--email", default="")
        create.add_argument("--first-name", default="")
        create.add_argument("--last-name", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"].strip()
        if (
            not username
            or len(username) > 150
            or not all(ch.isalnum() or ch in "@.+-_" for ch in username)
        ):
            raise CommandError(
                "El nombre de usuario admite hasta 150 letras, números y los signos @ . + - _"
            )
        if User.objects.filter(username=username).exists():
            raise CommandError(f"Ya existe el usuario «{username}».")
        institution = Institution.objects.filter(code=options["institution"].strip()).first()
        if institution is None:
            raise CommandError(f"La institución «{options['institution']}» no existe.")
        generated = not options["password_stdin"]
        password = secrets.token_urlsafe(12) if generated else sys.stdin.readline().rstrip("\n")
        user = User(
            username=username,
            role=options["role"],
            institution=institution,
            email=options["email"],
            first_name=options["first_name"],
            last_name=options["last_name"],
            is_staff=options["role"] == Role.ADMIN,
            is_superuser=options["role"] == Role.ADMIN,
        )
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError("Contraseña rechazada: " + " ".join(error.messages)) from error
        user.set_password(password)
        user.save()
        self.stdout.write(f"Usuario creado: {username} ({user.get_role_display()}, {institution})")
        if generated:
            self.stdout.write(f"Contraseña: {password}")
