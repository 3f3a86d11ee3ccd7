"""The ``custodia`` command: Django's management commands, with Spanish argument errors."""

from __future__ import annotations

import argparse
import os
import sys

# argparse builds its messages through gettext at the time of the error; the operator reads
# Spanish (API.md: "Every command exits non-zero with a clear Spanish message").
_ARGPARSE_SPANISH = {
    "usage: ": "uso: ",
    "the following arguments are required: %s": "faltan los argumentos obligatorios: %s",
    "unrecognized arguments: %s": "argumentos no reconocidos: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "opción no válida: %(value)r (elija entre %(choices)s)"
    ),
    "argument %(argument_name)s: %(message)s": "argumento %(argument_name)s: %(message)s",
    "invalid %(type)s value: %(value)r": "valor no válido (%(type)s): %(value)r",
    "expected one argument": "se esperaba un valor",
    "expected at most one argument": "se esperaba como máximo un valor",
    "expected at least one argument": "se esperaba al menos un valor",
    "not allowed with argument %s": "no se permite junto con el argumento %s",
    "ambiguous option: %(option)s could match %(matches)s": (
        "opción ambigua: %(option)s puede ser %(matches)s"
    ),
    "%(prog)s: error: %(message)s\n": "%(prog)s: error: %(message)s\n",
    "show this help message and exit": "muestra esta ayuda y termina",
    "positional arguments": "argumentos",
    "options": "opciones",
}


def _spanish(message: str) -> str:
    return _ARGPARSE_SPANISH.get(message, message)


def main() -> None:
    argparse._ = _spanish  # type: ignore[attr-defined]
    setattr(  # noqa: B010 - argparse looks these up at the time of the error
        argparse, "ngettext", lambda singular, plural, n: _spanish(singular if n == 1 else plural)
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "custodia.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    argv[0] = "custodia"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
