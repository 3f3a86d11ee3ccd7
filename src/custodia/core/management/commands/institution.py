from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_slug

from custodia.core.models import Institution, InstitutionKind, Municipality, State


class Command(BaseCommand):
    help = "Instituciones: custodia institution create CODE --name NOMBRE --kind TIPO --state EE"

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACCIÓN")
        create = actions.add_parser("create", help="Crear una institución")
        create.add_argument("code", help="Clave única (letras, números y guiones)")
        create.add_argument("--name", required=True, help="Nombre oficial")
        create.add_argument("--kind", required=True, choices=InstitutionKind.values, help="Tipo")
        create.add_argument("--state", help="Clave INEGI de la entidad (dos dígitos)")
        create.add_argument("--municipality", help="Clave INEGI del municipio (cinco dígitos)")

    def handle(self, *args: Any, **options: Any) -> None:
        code, name = options["code"].strip(), " ".join(options["name"].split())
        try:
            validate_slug(code)
        except ValidationError as error:
            raise CommandError(
                f"La clave «{code}» sólo puede tener letras, números, guiones y guiones bajos."
            ) from error
        if len(code) > 40 or not name or len(name) > 200:
            raise CommandError("La clave admite 40 caracteres y el nombre entre 1 y 200.")
        state = None
        if options["state"]:
            state = State.objects.filter(code=options["state"].strip()).first()
            if state is None:
                raise CommandError(f"La entidad «{options['state']}» no existe (clave INEGI).")
        elif options["kind"] not in {
            InstitutionKind.POLICE_FEDERAL,
            InstitutionKind.NATIONAL_GUARD,
            InstitutionKind.SECRETARIAT,
            InstitutionKind.HUMAN_RIGHTS,
            InstitutionKind.MIGRATION,
        }:
            raise CommandError(
                "Indique --state: sólo las instituciones nacionales no tienen entidad."
            )
        municipality = None
        if options["municipality"]:
            municipality = Municipality.objects.filter(code=options["municipality"].strip()).first()
            if municipality is None or (state and municipality.state_id != state.code):
                raise CommandError("El municipio no existe o no pertenece a la entidad indicada.")
        if Institution.objects.filter(code=code).exists():
            raise CommandError(f"Ya existe una institución con la clave «{code}».")
        Institution.objects.create(
            code=code, name=name, kind=options["kind"], state=state, municipality=municipality
        )
        self.stdout.write(f"Institución creada: {code} · {name}")
