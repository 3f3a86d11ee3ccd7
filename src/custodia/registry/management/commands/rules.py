from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from custodia.registry.rules import Severity, catalog


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
