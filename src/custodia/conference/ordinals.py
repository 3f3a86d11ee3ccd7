"""How the Conference numbers things: sessions in Roman numerals ("XXIII Asamblea Plenaria"),
agreements in Spanish ordinal words ("TERCERO"). Pure: no Django."""

from __future__ import annotations

_ROMAN = (
    (1000, "M"),
    (900, "CM"),
    (500, "D"),
    (400, "CD"),
    (100, "C"),
    (90, "XC"),
    (50, "L"),
    (40, "XL"),
    (10, "X"),
    (9, "IX"),
    (5, "V"),
    (4, "IV"),
    (1, "I"),
)

# The agreements of a session are numbered with masculine ordinals in capitals (the seed's
# "PRIMERO. ORDEN DEL DÍA"); the Conference's records have never needed more than a few dozen.
_UNITS = (
    "",
    "PRIMERO",
    "SEGUNDO",
    "TERCERO",
    "CUARTO",
    "QUINTO",
    "SEXTO",
    "SÉPTIMO",
    "OCTAVO",
    "NOVENO",
)
_TENS = ("", "DÉCIMO", "VIGÉSIMO", "TRIGÉSIMO", "CUADRAGÉSIMO")
MAX_ORDINAL = 49


def roman(number: int) -> str:
    if not 1 <= number <= 3999:
        raise ValueError(f"{number} no se escribe en números romanos")
    parts = []
    for value, letters in _ROMAN:
        count, number = divmod(number, value)
        parts.append(letters * count)
    return "".join(parts)


def ordinal_word(number: int) -> str:
    """1 → PRIMERO, 11 → DÉCIMO PRIMERO, 20 → VIGÉSIMO."""
    if not 1 <= number <= MAX_ORDINAL:
        raise ValueError(f"{number} está fuera de los ordinales de acuerdos (1 a {MAX_ORDINAL})")
    tens, units = divmod(number, 10)
    return " ".join(word for word in (_TENS[tens], _UNITS[units]) if word)


def ordinal_number(word: str) -> int:
    """The inverse of ordinal_word, ignoring case and accents' absence ("tercero" → 3)."""
    wanted = _plain(word)
    for number in range(1, MAX_ORDINAL + 1):
        if _plain(ordinal_word(number)) == wanted:
            return number
    raise ValueError(f"«{word}» no es un ordinal de acuerdo")


def _plain(word: str) -> str:
    table = str.maketrans("ÁÉÍÓÚ", "AEIOU")
    return " ".join(word.upper().translate(table).split())
