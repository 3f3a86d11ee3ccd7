"""The folio's check symbol catches every single wrong symbol and every swap of neighbours."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custodia.registry.folio import (
    ALPHABET,
    InvalidFolio,
    check_symbol,
    format_folio,
    is_consistent,
    new_folio,
    normalize,
)

states = st.integers(1, 32).map(lambda n: f"{n:02d}")
years = st.integers(2019, 2099)
randoms = st.text(alphabet=ALPHABET, min_size=8, max_size=8)


def compact(folio: str) -> str:
    return folio.replace("-", "")


@given(states, years, randoms)
def test_new_folios_are_consistent_and_carry_state_and_year(state: str, year: int, r: str) -> None:
    folio = new_folio(state, year, r)
    assert re.fullmatch(r"\d{2}-\d{4}-[0-9A-Z]{8}-[0-9A-Z]", folio)
    assert folio.startswith(f"{state}-{year}-")
    assert is_consistent(compact(folio))
    assert normalize(folio) == folio


@given(states, years, randoms, st.data())
def test_any_single_substitution_is_detected(
    state: str, year: int, r: str, data: st.DataObject
) -> None:
    text = compact(new_folio(state, year, r))
    position = data.draw(st.integers(0, len(text) - 1))
    wrong = data.draw(st.sampled_from([c for c in ALPHABET if c != text[position]]))
    mutated = text[:position] + wrong + text[position + 1 :]
    assert not is_consistent(mutated)


@given(states, years, randoms, st.data())
def test_any_swap_of_neighbours_is_detected(
    state: str, year: int, r: str, data: st.DataObject
) -> None:
    text = compact(new_folio(state, year, r))
    position = data.draw(st.integers(0, len(text) - 2))
    if text[position] == text[position + 1]:
        return  # swapping equal symbols changes nothing
    swapped = text[:position] + text[position + 1] + text[position] + text[position + 2 :]
    assert not is_consistent(swapped)


def test_every_substitution_and_swap_exhaustively_for_one_folio() -> None:
    text = compact(new_folio("29", 2020, "K7M3Q9XA"))
    for i, original in enumerate(text):
        for symbol in ALPHABET:
            if symbol != original:
                assert not is_consistent(text[:i] + symbol + text[i + 1 :])
    for i in range(len(text) - 1):
        if text[i] != text[i + 1]:
            assert not is_consistent(text[:i] + text[i + 1] + text[i] + text[i + 2 :])


def test_alphabet_has_no_ambiguous_symbols() -> None:
    assert len(ALPHABET) == 31
    assert not set("ILOUV") & set(ALPHABET)


def test_typed_variants_normalize_to_the_folio() -> None:
    folio = new_folio("29", 2020, "K7M3Q9XA")
    assert normalize(folio.lower()) == folio
    assert normalize(" " + compact(folio) + " ") == folio
    # O typed for zero is read as zero.
    zero = new_folio("09", 2020, "0000AAAA")
    assert normalize(zero.replace("0", "O")) == zero


@pytest.mark.parametrize(
    "text",
    [
        "",
        "29-2020",
        "29-2020-K7M3Q9XA",
        "XX-2020-K7M3Q9XA-1",
        "29-2020-K7M3Q9XA-11",
        "29-2020-K7M3Q9UA-1",
    ],
)
def test_malformed_text_is_rejected(text: str) -> None:
    with pytest.raises(InvalidFolio):
        normalize(text)


def test_wrong_check_symbol_is_rejected_with_a_spanish_message() -> None:
    body = "292020K7M3Q9XA"
    good = check_symbol(body)
    bad = next(c for c in ALPHABET if c != good)
    with pytest.raises(InvalidFolio, match="verificación"):
        normalize(format_folio(body + bad))
