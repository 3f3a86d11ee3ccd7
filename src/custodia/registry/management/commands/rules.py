from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from custodia.registry.clocks import CLOCKS
from custodia.registry.custody import ALLOWED_FROM
from custodia.registry.rules import Severity, catalog
from custodia.registry.schemas import EVENT_KIND_LABELS


def markdown() -> str:
    lines = [
        "# Reglas de validación del Registro Nacional de Detenciones",
        "",
        "<!-- Generated from src/custodia/registry/rules.py by `make docs`; do not edit. -->",
        "",
        "Cada captura, por la página o por la API, se revisa con este catálogo. Los códigos",
        "`RND-E` son errores: la captura se rechaza y no se guarda nada. Los códigos `RND-W` son",
        "advertencias: la captura se acepta y queda señalada para el informe de calidad. El mismo",
        "catálogo se publica en `/reglas/` y en `GET /api/v1/rules`.",
        "",
        "| Código | Tipo | Campo | Regla | Mensaje | Fundamento |",
        "|---|---|---|---|---|---|",
    ]
    for rule in catalog():
        kind = "error" if rule.severity is Severity.ERROR else "advertencia"
        cells = [f"`{rule.code}`", kind, f"`{rule.field}`", rule.title, rule.message, rule.basis]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines += [
        "",
        "## Máquina de estados de la custodia",
        "",
        "Cada movimiento sólo puede seguir a las situaciones indicadas (`custody.ALLOWED_FROM`);",
        "cualquier otro es `RND-E301` (o un código más preciso: E304, E305, E306).",
        "",
        "| Movimiento | Puede seguir a |",
        "|---|---|",
    ]
    for kind, allowed in ALLOWED_FROM.items():
        names = ", ".join(f"`{s}`" for s in sorted(allowed))
        lines.append(f"| {EVENT_KIND_LABELS[kind]} (`{kind}`) | {names} |")
    lines += [
        "",
        "## Plazos legales",
        "",
        "Se calculan al consultar, a partir de los movimientos, sobre instantes (UTC): los cambios",
        "de horario y las zonas horarias no los alteran. Los umbrales son configurables.",
        "",
        "| Plazo | Clave | Umbral por omisión | Fundamento |",
        "|---|---|---|---|",
    ]
    defaults = {
        "registration_delay": "60 min (advertencia), 6 h (crítico)",
        "handover": "4 h (advertencia), 12 h (crítico)",
        "prosecutor_retention": "48 h; 96 h con delincuencia organizada",
        "judge_term": "72 h; 144 h con ampliación",
        "administrative_arrest": "36 h",
        "adolescent": "inmediato",
        "child": "4 h",
        "silent_custody": "24 h sin movimientos bajo custodia policial",
        "death_in_custody": "inmediato (visible 30 días)",
    }
    for key, (label, basis) in CLOCKS.items():
        lines.append(f"| {label} | `{key}` | {defaults[key]} | {basis} |")
    return "\n".join(lines) + "\n"


class Command(BaseCommand):
    help = "Muestra el catálogo de reglas de validación (--markdown para la documentación)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--markdown", action="store_true", help="Salida en Markdown")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["markdown"]:
            self.stdout.write(markdown(), ending="")
            return
        for rule in catalog():
            self.stdout.write(f"{rule.code}  {rule.field:<32} {rule.message}")
