"""The pure name matcher: normalisation, the phonetic key, nicknames, scoring and ranking."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custodia.lookup import names
from custodia.lookup.names import Name, parse, phonetic, score, words


def key(text: str) -> str:
    return " ".join(phonetic(w) for w in words(text))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("María de la Luz", ("maria", "luz")),
        ("  JOSÉ   LUIS ", ("jose", "luis")),
        ("Núñez", ("nunez",)),
        ("Ponce de León", ("ponce", "leon")),
        ("De los Santos", ("santos",)),
        ("Ortega y Gasset", ("ortega", "gasset")),
        ("O'Farrill", ("ofarrill",)),
        ("Pérez-Gómez", ("perez", "gomez")),
        ("Güemes", ("guemes",)),
        ("Ma. Guadalupe", ("ma", "guadalupe")),
        ("", ()),
        ("¿?¡!", ()),
    ],
)
def test_words_fold_case_accents_punctuation_and_particles(
    typed: str, expected: tuple[str, ...]
) -> None:
    assert words(typed) == expected


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Baldovinos", "Valdovinos"),  # b/v
        ("Vázquez", "Basquez"),
        ("Sánchez", "Sanchez"),
        ("González", "Gonsales"),  # s/z
        ("Cecilia", "Secilia"),  # c before e, i
        ("Zepeda", "Cepeda"),
        ("Llamas", "Yamas"),  # ll/y
        ("Hernández", "Ernandez"),  # silent h
        ("Hugo", "Ugo"),
        ("Quintero", "Kintero"),  # qu/k
        ("Carlos", "Karlos"),  # c/k before a, o, u
        ("Gerardo", "Jerardo"),  # g/j before e, i
        ("Ginés", "Jines"),
        ("Ximena", "Jimena"),  # x as j
        ("Xavier", "Javier"),
        ("Mexía", "Mejía"),
        ("Peña", "Pena"),  # ñ
        ("Ibarra", "Ybarra"),
        ("Garrido", "Garido"),  # doubled letters
        ("Rossana", "Rosana"),
        ("Raphael", "Rafael"),
    ],
)
def test_phonetic_key_joins_spellings_that_sound_alike(one: str, other: str) -> None:
    assert key(one) == key(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Guerrero", "Jerrero"),  # gu before e is a hard g
        ("Guillermo", "Jiyermo"),
        ("Chávez", "Cavez"),  # ch is not c
        ("Fernández", "Hernández"),
        ("Gómez", "Jómez"),  # g before o is hard
        ("Ana", "Eva"),
    ],
)
def test_phonetic_key_keeps_different_sounds_apart(one: str, other: str) -> None:
    assert key(one) != key(other)


def test_both_surnames_typed_in_one_field_are_split() -> None:
    assert parse("Juan", "Hernández López") == Name(("juan",), ("hernandez",), ("lopez",))
    assert parse("Juan", "Hernández", "López") == Name(("juan",), ("hernandez",), ("lopez",))
    assert parse("Juan", "Hernández") == Name(("juan",), ("hernandez",), ())


@pytest.mark.parametrize(
    ("nickname", "stands_for"),
    [
        ("Pepe", ("jose",)),
        ("Paco", ("francisco",)),
        ("Pancho", ("francisco",)),
        ("Lupe", ("guadalupe",)),
        ("Chucho", ("jesus",)),
        ("Memo", ("guillermo",)),
        ("Nacho", ("ignacio",)),
        ("Toño", ("antonio",)),
        ("Lalo", ("eduardo",)),
        ("Beto", ("alberto",)),
        ("Chema", ("jose", "maria")),
        ("Maricarmen", ("maria", "carmen")),
        ("Chayo", ("rosario",)),
        ("Quique", ("enrique",)),
        ("Rafa", ("rafael",)),
        ("Juanjo", ("juan", "jose")),
        ("Conchita", ("concepcion",)),
        ("Lety", ("leticia",)),
        ("Paty", ("patricia",)),
        ("Gaby", ("gabriela",)),
    ],
)
def test_nickname_table(nickname: str, stands_for: tuple[str, ...]) -> None:
    assert stands_for in names.nickname_names(words(nickname)[0])


def test_beto_stands_for_several_names_and_known_names_are_not_nicknames() -> None:
    assert {("alberto",), ("roberto",), ("humberto",)} <= set(names.nickname_names("beto"))
    assert names.nickname_names("juana") == ()


RECORD = parse("José Luis", "Hernández", "López")


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        (("Jose Luis", "Hernandez", "Lopez"), "sin acentos"),
        (("JOSE LUIS", "HERNANDEZ", "LOPEZ"), "mayúsculas"),
        (("José Luis", "Hernández", ""), "sin segundo apellido"),
        (("José Luis", "López", "Hernández"), "apellidos invertidos"),
        (("José Luis", "Hernández López", ""), "apellidos en un campo"),
        (("José", "Hernández", "López"), "sólo el primer nombre"),
        (("Jose Luiz", "Hernandes", "Lopes"), "ortografía"),
        (("Jsoe Luis", "Hernández", "López"), "transposición"),
        (("José Luis", "Hernadez", "Lpez"), "dos errores"),
        (("Pepe", "Hernández", "López"), "apodo"),
        (("Pepe Luis", "Hernandez", "Lopez"), "apodo y segundo nombre"),
    ],
)
def test_tolerated_variations_still_match(typed: tuple[str, str, str], kind: str) -> None:
    assert score(parse(*typed), RECORD) >= names.MIN_SCORE, kind


@pytest.mark.parametrize(
    "typed",
    [
        ("Juan", "Hernández", "López"),  # another given name
        ("José Luis", "Martínez", "García"),  # other surnames
        ("José Luis", "", ""),  # no surname at all
        ("", "Hernández", "López"),  # no given name
    ],
)
def test_other_people_do_not_match(typed: tuple[str, str, str]) -> None:
    assert score(parse(*typed), RECORD) < names.MIN_SCORE


def test_the_right_person_ranks_first_among_people_who_share_surnames() -> None:
    people = {
        "right": parse("José Luis", "Hernández", "López"),
        "brother": parse("Juan Carlos", "Hernández", "López"),
        "cousin": parse("José Luis", "Hernández", "Martínez"),
        "namesake": parse("José Luis", "Fernández", "López"),
        "swapped": parse("José Luis", "López", "Hernández"),
        "only first given": parse("José", "Hernández", "López"),
    }
    for typed in [
        parse("Jose Luis", "Hernandez", "Lopez"),
        parse("Pepe Luis", "Hernandez", "Lopez"),
        parse("José Luiz", "Ernandes", "Lopes"),
    ]:
        ranked = sorted(people, key=lambda who: -score(typed, people[who]))
        assert ranked[0] == "right", (typed, [(w, score(typed, people[w])) for w in ranked])


def test_penalties_order_what_a_query_leaves_out() -> None:
    exact = score(parse("José Luis", "Hernández", "López"), RECORD)
    missing_second = score(parse("José Luis", "Hernández", ""), RECORD)
    swapped = score(parse("José Luis", "López", "Hernández"), RECORD)
    only_second = score(parse("José Luis", "López", ""), RECORD)
    assert exact == 1.0
    assert exact > missing_second > only_second
    assert exact > swapped > only_second


def test_keep_cuts_low_scores_and_far_from_the_best() -> None:
    kept = names.keep([(0.5, "a"), (0.99, "b"), (0.9, "c"), (0.7, "d")])
    assert kept == [(0.99, "b"), (0.9, "c")]
    assert names.keep([(0.3, "a")]) == []


def test_deletes_cover_every_word_within_the_allowed_edits() -> None:
    assert names.deletes("ernandes", 1) >= {"ernandes", "rnandes", "ernande"}
    assert "enandes" in names.deletes("ernandes", 2) & names.deletes("enrandes", 2)
    assert names.deletes("ana", 0) == {"ana"}


name_words = st.text(alphabet="abcdefghijlmnoprstuvz", min_size=2, max_size=9)


@given(st.lists(name_words, min_size=1, max_size=3), name_words, name_words)
def test_a_name_typed_exactly_scores_one(given_words: list[str], first: str, second: str) -> None:
    name = Name(tuple(given_words), (first,), (second,))
    assert score(name, name) == 1.0


@given(st.lists(name_words, min_size=1, max_size=2), name_words, name_words, st.data())
def test_one_typo_in_a_long_word_keeps_the_match(
    given_words: list[str], first: str, second: str, data: st.DataObject
) -> None:
    record = Name(tuple(given_words), (first,), (second,))
    if len(first) < 4:
        return
    at = data.draw(st.integers(0, len(first) - 1))
    typo = first[:at] + ("x" if first[at] != "x" else "y") + first[at + 1 :]
    assert score(Name(record.given, (typo,), record.second), record) >= names.MIN_SCORE


def test_the_public_list_is_never_cut_inside_a_tie() -> None:
    from custodia.lookup.public import clean_cut

    assert clean_cut([1.0, 0.9], 10) == 2
    assert clean_cut([1.0] + [0.96] * 20, 10) == 1  # the exact match alone, not 9 of 20 ties
    assert clean_cut([1.0, 1.0, 0.97, 0.97, 0.9] + [0.88] * 10, 4) == 4
    assert clean_cut([1.0, 1.0, 0.97, 0.97, 0.97], 4) == 2  # the 0.97 tie spans the limit
    assert clean_cut([0.96] * 11, 10) == 0  # too many equally good: ask to narrow


@pytest.mark.parametrize(
    ("typed", "registered"),
    [
        ("joreg", "jorge"),
        ("jess", "jesus"),
        ("lus", "luis"),
        ("jse", "jose"),
        ("gonazlez", "gonzalez"),
        ("hernadez", "hernandez"),
        ("ernandes", "hernandez"),
        ("rodrigez", "rodriguez"),
    ],
)
def test_a_typed_word_meets_the_registered_one_in_their_neighbourhoods(
    typed: str, registered: str
) -> None:
    """What lets the index find a misspelt word with exact lookups (a typo may even change the
    length of the phonetic key: "joreg" keys as joreg, "jorge" as jorje)."""
    assert names.neighbourhood(typed) & names.neighbourhood(registered)
    assert names.word_similarity(typed, registered) >= names.TWO_EDITS
