"""The validation rules, as pure functions over a capture (rules.py), and their catalog."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.mx import curp as stdnum_curp

from custodia.registry import rules
from custodia.registry.rules import RULES, Capture, Officer, Policy, Severity, evaluate

NOW = datetime(2020, 6, 30, 20, 0, tzinfo=UTC)
POLICY = Policy(registry_start=datetime(2019, 5, 28, 5, 0, tzinfo=UTC))


class FakeCatalog:
    """A catalog of three places and two institutions: the rules only ask these questions."""

    municipalities = {"29033": "29", "29005": "29", "08037": "08"}
    institutions = {"fgje-tlax": "public_prosecutor", "jc-tlaxcala": "civic_judge"}

    def state_exists(self, code: str) -> bool:
        return code in {"29", "08"}

    def municipality_state(self, code: str) -> str | None:
        return self.municipalities.get(code)

    def institution_kind(self, code: str) -> str | None:
        return self.institutions.get(code)


CATALOG = FakeCatalog()
GOOD = Capture(
    detained_at=NOW - timedelta(minutes=20),
    registered_at=NOW,
    sex="male",
    age=34,
    birth_date=date(1986, 2, 11),
    curp="HELJ860211HTLRPN09",
    state="29",
    municipality="29033",
    latitude=19.31,
    longitude=-98.24,
    arrest_basis="flagrante",
    receiving_kind="public_prosecutor",
    receiving_institution="fgje-tlax",
    officers=(Officer("Pedro Ruiz"),),
    physical_condition="sin lesiones visibles",
)


def found(capture: Capture) -> set[str]:
    return {f.code for f in evaluate(capture, POLICY, CATALOG)}


def test_a_complete_capture_breaks_no_rule() -> None:
    assert found(GOOD) == set()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"detained_at": NOW + timedelta(minutes=6)}, "RND-E102"),
        ({"detained_at": datetime(2019, 1, 1, tzinfo=UTC)}, "RND-E103"),
        ({"age": 121, "birth_date": None, "curp": None}, "RND-E105"),
        ({"age": 20}, "RND-E106"),
        ({"birth_date": date(2021, 1, 1), "curp": None}, "RND-E107"),
        ({"curp": "HELJ860211HTLRPN0"}, "RND-E110"),
        ({"curp": "HELJ860211HTLRPN01"}, "RND-E111"),
        ({"birth_date": date(1986, 2, 12)}, "RND-E112"),
        ({"sex": "female"}, "RND-E113"),
        ({"state": "99", "municipality": None}, "RND-E120"),
        ({"municipality": "29999"}, "RND-E121"),
        ({"municipality": "08037"}, "RND-E122"),
        ({"latitude": 40.0, "longitude": -3.7}, "RND-E123"),
        ({"longitude": None}, "RND-E124"),
        ({"officers": ()}, "RND-E130"),
        ({"arrest_basis": "administrative"}, "RND-E131"),
        ({"age": 16, "birth_date": None, "curp": None}, "RND-E132"),
        ({"receiving_institution": "nope"}, "RND-E150"),
        ({"receiving_institution": "jc-tlaxcala"}, "RND-E151"),
        ({"detained_at": NOW - timedelta(minutes=61)}, "RND-W201"),
        ({"detained_at": NOW - timedelta(hours=7)}, "RND-W202"),
        ({"curp": None, "birth_date": None}, "RND-W203"),
        ({"latitude": None, "longitude": None}, "RND-W205"),
        ({"physical_condition": None}, "RND-W206"),
    ],
)
def test_each_rule_fires_on_its_case(change: dict[str, object], code: str) -> None:
    assert code in found(replace(GOOD, **change))  # type: ignore[arg-type]


def test_future_tolerance_is_five_minutes() -> None:
    assert "RND-E102" not in found(replace(GOOD, detained_at=NOW + timedelta(minutes=4)))


def test_registration_at_exactly_sixty_minutes_is_not_late() -> None:
    assert "RND-W201" not in found(replace(GOOD, detained_at=NOW - timedelta(minutes=60)))


def test_minor_in_administrative_arrest_goes_to_civic_judge_with_a_warning() -> None:
    minor = replace(
        GOOD,
        age=16,
        birth_date=None,
        curp=None,
        arrest_basis="administrative",
        receiving_kind="civic_judge",
        receiving_institution="jc-tlaxcala",
    )
    codes = found(minor)
    assert "RND-W204" in codes
    assert not {"RND-E131", "RND-E132"} & codes


def test_child_under_twelve_may_go_to_child_protection() -> None:
    child = replace(
        GOOD,
        age=10,
        birth_date=None,
        curp=None,
        receiving_kind="child_protection",
        receiving_institution=None,
    )
    assert "RND-E132" not in found(child)


def test_adolescent_to_adolescent_justice_is_fine() -> None:
    teen = replace(
        GOOD,
        age=16,
        birth_date=None,
        curp=None,
        receiving_kind="adolescent_justice",
        receiving_institution=None,
    )
    assert "RND-E132" not in found(teen)


def test_no_age_and_no_birth_date_is_a_missing_field() -> None:
    findings = evaluate(replace(GOOD, age=None, birth_date=None, curp=None), POLICY, CATALOG)
    assert ("RND-E101", "person.age") in {(f.code, f.field) for f in findings}


def test_catalog_codes_severities_and_messages() -> None:
    for code, rule in RULES.items():
        assert code.startswith("RND-E") == (rule.severity is Severity.ERROR)
        assert code.startswith("RND-W") == (rule.severity is Severity.WARNING)
        assert rule.message and rule.basis and rule.title
    assert len({r.code for r in rules.catalog()}) == len(rules.catalog())


sexes = st.sampled_from(["male", "female"])
birthdays = st.dates(min_value=date(1930, 1, 1), max_value=date(2005, 12, 31))


def build_curp(born: date, sex: str) -> str:
    stem = (
        f"HELJ{born:%y%m%d}{'H' if sex == 'male' else 'M'}TLRPN{'0' if born.year < 2000 else 'A'}"
    )
    return stem + stdnum_curp.calc_check_digit(stem)


@given(birthdays, sexes)
def test_a_consistent_curp_passes(born: date, sex: str) -> None:
    capture = replace(GOOD, birth_date=born, age=None, curp=build_curp(born, sex), sex=sex)
    assert not {c for c in found(capture) if c.startswith("RND-E11")}


# RENAPO's check digit, written out independently of python-stdnum.
CURP_VALUES = "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ"


def independent_check_digit(first17: str) -> str:
    total = sum(CURP_VALUES.index(c) * (18 - i) for i, c in enumerate(first17))
    return str((10 - total % 10) % 10)


@given(birthdays, sexes, st.integers(0, 17), st.sampled_from("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"))
def test_a_curp_whose_check_digit_fails_is_always_caught(
    born: date, sex: str, i: int, ch: str
) -> None:
    good = build_curp(born, sex)
    mutated = good[:i] + ch + good[i + 1 :]
    if mutated == good or independent_check_digit(mutated[:17]) == mutated[17]:
        return  # the mod-10 digit cannot see every change; only those it can are promised
    capture = replace(GOOD, birth_date=born, age=None, curp=mutated, sex=sex)
    assert {c for c in found(capture) if c.startswith("RND-E11")}, mutated


def test_wrong_last_digit_is_a_check_digit_error() -> None:
    good = build_curp(date(1986, 2, 11), "male")
    for digit in "0123456789":
        if digit != good[-1]:
            assert "RND-E111" in found(replace(GOOD, curp=good[:-1] + digit))


@given(birthdays, sexes, sexes)
def test_curp_sex_must_match(born: date, curp_sex: str, sex: str) -> None:
    capture = replace(GOOD, birth_date=born, age=None, curp=build_curp(born, curp_sex), sex=sex)
    assert ("RND-E113" in found(capture)) == (curp_sex != sex)
