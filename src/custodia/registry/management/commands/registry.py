from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from tqdm import tqdm

from custodia.registry import custody
from custodia.registry.models import Detention
from custodia.registry.services import replay_detention


def differences(detention: Detention, state: custody.State) -> list[str]:
    """Where the stored projection differs from the replayed events."""
    expected = {
        "status": state.status,
        "current_authority": state.holder_name[:120],
        "current_institution": state.holder_institution,
        "current_location": state.location[:300],
        "legal_status": state.legal_status or "",
        "last_event_at": state.last_event_at,
        "version": state.version,
        "custody_state": custody.state_to_json(state),
    }
    stored = {
        "status": detention.status,
        "current_authority": detention.current_authority,
        "current_institution": (
            detention.current_institution.code if detention.current_institution else None
        ),
        "current_location": detention.current_location,
        "legal_status": detention.legal_status,
        "last_event_at": detention.last_event_at,
        "version": detention.version,
        "custody_state": detention.custody_state,
    }
    return [name for name in expected if expected[name] != stored[name]]


class Command(BaseCommand):
    help = "El registro: reconstruye (o verifica con --check) el estado actual desde los eventos."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACCIÓN")
        rebuild = actions.add_parser(
            "rebuild", help="Reproducir los movimientos de cada detención y comparar o corregir"
        )
        rebuild.add_argument(
            "--check", action="store_true", help="Sólo informar diferencias (sale con 1 si hay)"
        )
        rebuild.add_argument("--folio", help="Sólo esta detención")
        redact = actions.add_parser(
            "redact", help="Suprimir los datos personales de una detención (queda como evento)"
        )
        redact.add_argument("folio", help="Folio de la detención")
        redact.add_argument("--reason", required=True, help="Fundamento legal de la supresión")
        redact.add_argument("--by", required=True, help="Usuario administrador que la ordena")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "redact":
            self._redact(options)
            return
        from custodia.lookup import index as name_index
        from custodia.registry.services import _store_state
        from custodia.reports import rollup

        qs = Detention.objects.select_related(
            "institution", "state", "municipality", "current_institution"
        ).order_by("pk")
        if options["folio"]:
            qs = qs.filter(folio=options["folio"].strip().upper())
            if not qs.exists():
                raise CommandError(f"No existe la detención «{options['folio']}».")
        found: list[tuple[str, list[str]]] = []
        total = qs.count()
        for detention in tqdm(
            qs.iterator(chunk_size=500), total=total, desc="Detenciones", unit="det", disable=None
        ):
            state = replay_detention(detention)
            diff = differences(detention, state)
            if not diff:
                continue
            found.append((detention.folio, diff))
            if not options["check"]:
                with transaction.atomic():
                    _store_state(detention, detention.version, state)
                    name_index.set_held(detention.pk, state.status)
                    rollup.refresh([detention.pk])
        for folio, diff in found[:50]:
            self.stdout.write(f"  {folio}: difiere en {', '.join(diff)}")
        verb = "encontradas" if options["check"] else "corregidas"
        self.stdout.write(f"{total} detenciones revisadas; {len(found)} diferencias {verb}.")
        if options["check"] and found:
            raise CommandError("El estado guardado no coincide con los eventos.")

    def _redact(self, options: dict[str, Any]) -> None:
        from custodia.core.access import AccessDenied
        from custodia.core.models import User
        from custodia.registry.folio import InvalidFolio, normalize
        from custodia.registry.queries import DetentionNotFound
        from custodia.registry.services import RedactionRefused, detention_redact

        actor = User.objects.filter(username=options["by"]).first()
        if actor is None:
            raise CommandError(f"El usuario «{options['by']}» no existe.")
        try:
            folio = normalize(options["folio"])
            event = detention_redact(actor=actor, folio=folio, reason=options["reason"])
        except InvalidFolio as error:
            raise CommandError(str(error)) from error
        except (AccessDenied, DetentionNotFound, RedactionRefused) as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"Datos personales suprimidos en {folio} (movimiento #{event.sequence}). "
            "El libro y sus pruebas siguen siendo válidos."
        )
