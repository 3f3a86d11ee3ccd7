"""Registration numbers (folios): ``EE-YYYY-XXXXXXXX-C``.

- ``EE``: the INEGI code of the state where the detention happened.
- ``YYYY``: the year of the detention, in the place's local time.
- ``XXXXXXXX``: eight random symbols. Randomness, not a counter, so that no global lock or
  sequence is needed: the database's unique index catches the rare collision and the caller
  draws again.
- ``C``: a check symbol over everything before it.

The alphabet has 31 symbols: the digits and the capital letters without I, L, O and U (which are
read as 1, 1, 0 and V) and without V, which Spanish speakers cannot tell from B when a folio is
read aloud. 31 is prime, which is what makes the check symbol work: with ISO 7064's "pure"
construction, check = -(sum of v_i * r^(n-i)) mod 31 with r = 3 (a primitive root mod 31), a
single wrong symbol changes the sum by (a-b)·r^k and a swap of neighbours by (a-b)·(r-1)·r^k;
neither is ever a multiple of the prime 31, so both are always caught.

This module is pure: no Django.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTWXYZ"
MODULUS = len(ALPHABET)  # 31, prime
RADIX = 3
RANDOM_LENGTH = 8
_VALUES = {symbol: value for value, symbol in enumerate(ALPHABET)}
# What people type for a symbol that is not in the alphabet.
_READ_AS = {"O": "0", "I": "1", "L": "1"}
_SHAPE = re.compile(r"^(\d{2})(\d{4})([0-9A-Z]{8})([0-9A-Z])$")

assert MODULUS == 31


class InvalidFolio(ValueError):
    """The text is not a well-formed folio, or its check symbol does not match."""


def check_symbol(body: str) -> str:
    total = 0
    for symbol in body:
        total = (total * RADIX + _VALUES[symbol]) % MODULUS
    # Appending the check symbol must bring the running total to zero.
    return ALPHABET[(-total * RADIX) % MODULUS]


def is_consistent(compact: str) -> bool:
    total = 0
    for symbol in compact:
        if symbol not in _VALUES:
            return False
        total = (total * RADIX + _VALUES[symbol]) % MODULUS
    return total == 0


def new_folio(state_code: str, year: int, random_part: str | None = None) -> str:
    if not re.fullmatch(r"\d{2}", state_code):
        raise ValueError(f"state code must be two digits: {state_code!r}")
    if not 1000 <= year <= 9999:
        raise ValueError(f"year out of range: {year}")
    if random_part is None:
        random_part = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    body = f"{state_code}{year:04d}{random_part}"
    return format_folio(body + check_symbol(body))


def format_folio(compact: str) -> str:
    return f"{compact[:2]}-{compact[2:6]}-{compact[6:14]}-{compact[14:]}"


def normalize(text: str) -> str:
    """Turn what a person typed into the canonical folio, or raise :class:`InvalidFolio`.

    Case, spaces and hyphens do not matter, and O, I and L are read as 0, 1 and 1.
    """
    compact = re.sub(r"[\s\-_.]", "", text.upper())
    compact = "".join(_READ_AS.get(ch, ch) for ch in compact)
    match = _SHAPE.match(compact)
    if not match or any(ch not in _VALUES for ch in compact):
        raise InvalidFolio("El folio no tiene la forma EE-AAAA-XXXXXXXX-C.")
    if not is_consistent(compact):
        raise InvalidFolio("El folio no es válido: el carácter de verificación no coincide.")
    return format_folio(compact)


def state_of(folio: str) -> str:
    return folio[:2]
