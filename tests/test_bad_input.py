"""Bad input never gets a 500 and never writes (API.md, Conventions: "Never a 500 for bad input").

Every malformed or invalid body, form or command-line argument is answered with a 4xx (or a
form error) carrying rule codes and Spanish messages, and leaves no detention, custody event or
``detention.register`` access-log row behind.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from conftest import CURP, DELETE, capture, codes
from custodia.core.models import (
    AccessLog,
    ApiToken,
    IdempotencyRecord,
    Institution,
    User,
)
from custodia.registry.folio import new_folio
from custodia.registry.models import CustodyEvent, DetainedPerson, Detention, Officer

URL = "/api/v1/detentions"
CAPTURE_PAGE = "/detenciones/nueva/"
CUSTODIA = Path(sys.executable).with_name("custodia")
ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
ONE_MEGABYTE = 1024 * 1024

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|«[^»]*»")
_WORD = re.compile(r"[a-záéíóúüñ]+")
_SPANISH_WORDS = frozenset(
    "el la los las un una de del al debe es no ser este esta está que se en o y con por para "
    "sólo solo falta faltan indique registre existe demasiado demasiados".split()
)
_ENGLISH_WORDS = frozenset(
    "the or and must should field required input invalid value is not valid expected string "
    "integer number missing please unknown too long choose following arguments".split()
)


def assert_spanish(message: str) -> None:
    """A message is Spanish: it has Spanish function words and no English ones (quoted values,
    such as option codes or the user's own input, are not judged)."""
    words = set(_WORD.findall(_QUOTED.sub(" ", message).lower()))
    assert words & _SPANISH_WORDS, f"no Spanish words in {message!r}"
    english = words & _ENGLISH_WORDS
    assert not english, f"English words {sorted(english)} in {message!r}"


def error_list(response: Any) -> list[dict[str, str]]:
    """The body is exactly ``{"errors": [{"code", "field", "message"}, ...]}``."""
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"errors"}, body
    errors = body["errors"]
    assert isinstance(errors, list) and errors, body
    for error in errors:
        assert isinstance(error, dict) and set(error) == {"code", "field", "message"}, error
        assert all(isinstance(value, str) for value in error.values()), error
        assert re.fullmatch(r"RND-E1\d\d|HTTP-\d{3}", error["code"]), error
        assert error["message"].strip(), error
    return errors


def assert_rejected(response: Any, status: int, *expected_codes: str) -> list[dict[str, str]]:
    """The response has the status, the error shape, every expected code, Spanish messages."""
    assert response.status_code == status, response.content[:1000]
    errors = error_list(response)
    for error in errors:
        assert_spanish(error["message"])
    found = {e["code"] for e in errors}
    assert set(expected_codes) <= found, f"expected {expected_codes}, got {errors}"
    return errors


def field_of(errors: list[dict[str, str]], code: str) -> set[str]:
    return {e["field"] for e in errors if e["code"] == code}


def written() -> dict[str, int]:
    """Row counts of everything a registration writes."""
    return {
        "detentions": Detention.objects.count(),
        "people": DetainedPerson.objects.count(),
        "officers": Officer.objects.count(),
        "custody_events": CustodyEvent.objects.count(),
        "register_log": AccessLog.objects.filter(action="detention.register").count(),
        "idempotency": IdempotencyRecord.objects.count(),
    }


def assert_nothing_written() -> None:
    assert Detention.objects.count() == 0
    counts = written()
    assert counts == dict.fromkeys(counts, 0), counts


def post(client: Client, body: Any, content_type: str = "application/json", **headers: str) -> Any:
    """POST a capture; a server error comes back as a 500 response, not as an exception."""
    client.raise_request_exception = False
    return client.post(URL, body, content_type=content_type, headers=headers)


def get(client: Client, url: str) -> Any:
    client.raise_request_exception = False
    return client.get(url)


def raw_json(body: Any) -> bytes:
    return json.dumps(body).encode()


@pytest.fixture
def web(officer: User) -> Client:
    """A browser session of the capture user (same institution as the ``api`` token)."""
    client = Client(raise_request_exception=False)
    client.force_login(officer)
    return client


def valid_form(**changes: str) -> dict[str, str]:
    """A complete capture form as the browser posts it."""
    form = {
        "person.given_names": "Juan Carlos",
        "person.first_surname": "Hernández",
        "person.sex": "male",
        "person.age": "34",
        "detained_at": "2020-06-30T14:05",
        "place.state": "29",
        "place.municipality": "29033",
        "arrest_basis": "flagrante",
        "reason": "robo a transeúnte",
        "officers[0].name": "Pedro Ruiz Soto",
        "receiving_authority.kind": "public_prosecutor",
        "receiving_authority.name": "MP Centro",
    }
    form.update(changes)
    return form


def form_errors(response: Any) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = response.context["errors"]
    return errors


# ---------------------------------------------------------------------------------------------
# POST /api/v1/detentions: the baseline, so that every rejection below is meaningful
# ---------------------------------------------------------------------------------------------


def test_the_unmodified_capture_is_accepted(api: Client) -> None:
    response = post(api, capture())

    assert response.status_code == 201, response.content
    assert written()["detentions"] == written()["register_log"] == 1


# ---------------------------------------------------------------------------------------------
# Wrong types, missing and unknown fields
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "value", "field"),
    [
        ("person__age", "treinta", "person.age"),
        ("person__age", 34.5, "person.age"),
        ("officers", {"name": "Pedro Ruiz Soto"}, "officers"),
        ("officers", ["Pedro Ruiz Soto"], "officers[0]"),
        ("person", "Juan Carlos Hernández", "person"),
        ("place__latitude", "abc", "place.latitude"),
        ("force_used", "quizá", "force_used"),
        ("place__state", 29, "place.state"),
        ("person__given_names", ["Juan"], "person.given_names"),
        ("person__birth_date", "11/02/1986", "person.birth_date"),
        ("detained_at", "ayer por la tarde", "detained_at"),
        ("contact", ["María López"], "contact"),
        ("reason", {"texto": "robo"}, "reason"),
    ],
)
def test_wrong_types_are_422_rnd_e143_on_the_field(
    api: Client, override: str, value: Any, field: str
) -> None:
    response = post(api, capture(**{override: value}))

    errors = assert_rejected(response, 422, "RND-E143")
    assert field in field_of(errors, "RND-E143")
    assert_nothing_written()


CHILD_WITHOUT_BIRTH_DATA: dict[str, Any] = {
    # Without birth date or CURP the age alone decides; a child goes to child protection.
    "person__birth_date": DELETE,
    "person__curp": DELETE,
    "receiving_authority__kind": "child_protection",
    "receiving_authority__institution": DELETE,
}
EPOCH = "<unix time of the detention>"
EPOCH_TEXT = "<unix time of the detention, as text>"


@pytest.mark.parametrize(
    "overrides",
    [
        {"person__age": True, **CHILD_WITHOUT_BIRTH_DATA},
        {"detained_at": EPOCH},
        {"detained_at": EPOCH_TEXT},
        {"person__birth_date": 508464000, "person__curp": DELETE},  # 1986-02-11 at 00:00 UTC
    ],
    ids=["age-true", "detained_at-epoch-number", "detained_at-epoch-text", "birth_date-epoch"],
)
def test_values_of_the_wrong_json_type_are_not_silently_coerced(
    api: Client, overrides: dict[str, Any]
) -> None:
    epoch = int((timezone.now() - timedelta(minutes=20)).timestamp())
    replaced = {EPOCH: epoch, EPOCH_TEXT: str(epoch)}
    body = capture(
        **{k: replaced.get(v, v) if isinstance(v, str) else v for k, v in overrides.items()}
    )

    response = post(api, body)

    assert response.status_code == 422, response.content[:300]
    assert "RND-E143" in codes(response)
    assert_nothing_written()


@pytest.mark.parametrize(
    "path",
    [
        "person",
        "person__given_names",
        "person__first_surname",
        "person__sex",
        "detained_at",
        "place",
        "place__state",
        "arrest_basis",
        "reason",
        "officers",
        "receiving_authority",
        "receiving_authority__kind",
        "receiving_authority__name",
    ],
)
def test_missing_required_fields_are_422_rnd_e101_on_the_field(api: Client, path: str) -> None:
    response = post(api, capture(**{path: DELETE}))

    errors = assert_rejected(response, 422, "RND-E101")
    assert path.replace("__", ".") in field_of(errors, "RND-E101")
    assert_nothing_written()


def test_missing_both_age_and_birth_date_is_rnd_e101_on_age(api: Client) -> None:
    response = post(
        api, capture(person__age=DELETE, person__birth_date=DELETE, person__curp=DELETE)
    )

    errors = assert_rejected(response, 422, "RND-E101")
    assert field_of(errors, "RND-E101") == {"person.age"}
    assert_nothing_written()


def _with_unknown(where: str) -> dict[str, Any]:
    body = capture()
    if where == "top":
        body["folio"] = "29-2020-00000000-0"
    elif where == "officer":
        body["officers"][0]["placa"] = "123"
    else:
        body[where]["sin_acento"] = "x"
    return body


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ("top", "folio"),
        ("person", "person.sin_acento"),
        ("place", "place.sin_acento"),
        ("receiving_authority", "receiving_authority.sin_acento"),
        ("contact", "contact.sin_acento"),
        ("officer", "officers[0].placa"),
    ],
)
def test_unknown_fields_top_level_and_nested_are_422_rnd_e142(
    api: Client, where: str, field: str
) -> None:
    response = post(api, _with_unknown(where))

    errors = assert_rejected(response, 422, "RND-E142")
    assert field_of(errors, "RND-E142") == {field}
    assert_nothing_written()


def test_timestamp_without_offset_is_422_rnd_e104(api: Client) -> None:
    response = post(api, capture(detained_at="2020-06-30T14:05:00"))

    errors = assert_rejected(response, 422, "RND-E104")
    assert field_of(errors, "RND-E104") == {"detained_at"}
    assert_nothing_written()


# ---------------------------------------------------------------------------------------------
# Sizes, encodings, malformed JSON, control characters
# ---------------------------------------------------------------------------------------------


def test_a_one_megabyte_name_is_413_before_parsing(api: Client) -> None:
    # The body is above CUSTODIA_MAX_BODY_BYTES (256 KiB): the middleware answers 413, so the
    # field-level RND-E141 is never reached.
    body = raw_json(capture(person__given_names="a" * ONE_MEGABYTE))
    assert len(body) > settings.CUSTODIA_MAX_BODY_BYTES

    response = post(api, body)

    errors = assert_rejected(response, 413, "HTTP-413")
    assert [e["field"] for e in errors] == ["body"]
    assert_nothing_written()


@pytest.mark.parametrize("length", [121, 100_000])
def test_an_over_long_name_under_the_body_limit_is_422_rnd_e141(api: Client, length: int) -> None:
    response = post(api, capture(person__given_names="a" * length))

    errors = assert_rejected(response, 422, "RND-E141")
    assert field_of(errors, "RND-E141") == {"person.given_names"}
    assert "120" in errors[0]["message"]
    assert_nothing_written()


def test_more_than_fifty_officers_is_422_rnd_e141(api: Client) -> None:
    response = post(api, capture(officers=[{"name": "Pedro Ruiz Soto"}] * 51))

    errors = assert_rejected(response, 422, "RND-E141")
    assert field_of(errors, "RND-E141") == {"officers"}
    assert_nothing_written()


@pytest.mark.parametrize(
    "body",
    [
        b'{"person": {"given_names": "Jos\xe9"}}',  # Latin-1, not UTF-8
        b"\xff\xfe{\x00}\x00",  # UTF-16
        b'{"person": ',  # truncated
        b"{'person': {}}",  # single quotes
        b'{"reason": "robo",}',  # trailing comma
        b"\xef\xbb\xbf" + raw_json(capture()),  # UTF-8 byte order mark
        b"person.given_names=Juan",  # not JSON at all
        b"[" * 50_000 + b"]" * 50_000,  # nested deeper than any parser allows
    ],
    ids=["latin1", "utf16", "truncated", "single-quotes", "trailing-comma", "bom", "form", "deep"],
)
def test_bytes_that_are_not_utf8_json_are_400(api: Client, body: bytes) -> None:
    response = post(api, body)

    errors = assert_rejected(response, 400, "HTTP-400")
    assert [e["field"] for e in errors] == ["body"]
    assert_nothing_written()


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_400(api: Client, literal: str) -> None:
    body = raw_json(capture()).replace(b"19.3139", literal.encode())
    assert literal.encode() in body

    response = post(api, body)

    assert_rejected(response, 400, "HTTP-400")
    assert_nothing_written()


def test_a_number_too_large_for_a_float_is_422_not_infinity(api: Client) -> None:
    body = raw_json(capture()).replace(b"19.3139", b"1e400")

    response = post(api, body)

    errors = assert_rejected(response, 422, "RND-E143")
    assert field_of(errors, "RND-E143") == {"place.latitude"}
    assert_nothing_written()


@pytest.mark.parametrize("body", [b"[1, 2]", b"[]", b"42", b"-0.5", b'"hola"', b"true", b"null"])
def test_json_that_is_not_an_object_is_422_rnd_e143_on_body(api: Client, body: bytes) -> None:
    response = post(api, body)

    errors = assert_rejected(response, 422, "RND-E143")
    assert field_of(errors, "RND-E143") == {"body"}
    assert_nothing_written()


def test_an_empty_body_is_422_rnd_e101_on_body(api: Client) -> None:
    response = post(api, b"")

    errors = assert_rejected(response, 422, "RND-E101")
    assert field_of(errors, "RND-E101") == {"body"}
    assert_nothing_written()


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("person__given_names", "Juan\x00Carlos"),
        ("person__given_names", "Juan\x1b[31mCarlos"),
        ("person__first_surname", "Hernández\x7f"),
        ("person__alias", "El\x85Güero"),
        ("person__given_names", "Juan\ud800"),  # lone surrogate, sent as a JSON escape
        ("person__first_surname", "Hern\ue000ndez"),  # private use
        ("person__given_names", "Juan\nCarlos"),  # a line break in a one-line field
        ("reason", "robo\x00"),
        ("place__state", "2\x009"),
        ("place__municipality", "29\x0033"),
        ("person__curp", CURP[:-1] + "\x00"),
        ("officers", [{"name": "Pedro\x07"}]),
    ],
)
def test_control_characters_are_422_rnd_e140(api: Client, path: str, text: Any) -> None:
    response = post(api, capture(**{path: text}))

    errors = assert_rejected(response, 422, "RND-E140")
    expected = "officers[0].name" if path == "officers" else path.replace("__", ".")
    assert expected in field_of(errors, "RND-E140")
    assert_nothing_written()


# ---------------------------------------------------------------------------------------------
# SQL and HTML are data
# ---------------------------------------------------------------------------------------------

HTML_NAME = "<script>alert(1)</script>"
HTML_ALIAS = '<img src=x onerror="alert(2)">'
SQL_REASON = "Robert'); DROP TABLE registry_detention;-- <b>negritas</b>"
SQL_ADDRESS = "1' OR '1'='1"


def test_sql_and_html_in_text_fields_are_stored_verbatim_and_escaped_on_the_page(
    api: Client, web: Client
) -> None:
    response = post(
        api,
        capture(
            person__given_names=HTML_NAME,
            person__alias=HTML_ALIAS,
            reason=SQL_REASON,
            place__address=SQL_ADDRESS,
        ),
    )
    assert response.status_code == 201, response.content
    folio = response.json()["folio"]

    detention = Detention.objects.get(folio=folio)
    assert (detention.reason, detention.address) == (SQL_REASON, SQL_ADDRESS)
    person = DetainedPerson.objects.get(detention=detention)
    assert (person.given_names, person.alias) == (HTML_NAME, HTML_ALIAS)
    assert get(api, f"{URL}/{folio}").json()["person"]["given_names"] == HTML_NAME

    page = web.get(f"/detenciones/{folio}/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert HTML_NAME not in html
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in html
    assert "<img src=x" not in html
    assert "&lt;b&gt;negritas&lt;/b&gt;" in html
    assert "<b>negritas</b>" not in html
    assert "DROP TABLE registry_detention;--" in html
    assert Detention.objects.count() == 1, "the table is still there and holds the record"


# ---------------------------------------------------------------------------------------------
# Authentication, headers, content type
# ---------------------------------------------------------------------------------------------


def _revoked(officer: User) -> str:
    token, raw = ApiToken.issue(officer, name="revocado")
    token.revoked_at = timezone.now()
    token.save()
    return raw


def _inactive_user(officer: User) -> str:
    _, raw = ApiToken.issue(officer, name="usuario dado de baja")
    officer.is_active = False
    officer.save()
    return raw


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer cst_nope",
        "Basic dXNlcjpwYXNz",
        "Bearer " + "x" * 500,
        "Bearer ñandú",
        "REVOKED",
        "INACTIVE",
        "RAW_NO_SCHEME",
    ],
)
def test_missing_wrong_or_revoked_tokens_are_401_in_spanish(
    officer: User, authorization: str | None
) -> None:
    if authorization == "REVOKED":
        authorization = "Bearer " + _revoked(officer)
    elif authorization == "INACTIVE":
        authorization = "Bearer " + _inactive_user(officer)
    elif authorization == "RAW_NO_SCHEME":
        authorization = ApiToken.issue(officer)[1]
    headers = {} if authorization is None else {"Authorization": authorization}

    response = post(Client(headers=headers), capture())

    assert_rejected(response, 401, "HTTP-401")
    assert response["WWW-Authenticate"] == "Bearer"
    assert_nothing_written()


def test_a_multipart_form_body_is_400(api: Client) -> None:
    api.raise_request_exception = False
    response = api.post(URL, {"person.given_names": "Juan", "reason": "robo"})  # multipart

    assert response.request["CONTENT_TYPE"].startswith("multipart/form-data")
    assert_rejected(response, 400, "HTTP-400")
    assert_nothing_written()


def test_a_form_urlencoded_body_is_400(api: Client) -> None:
    response = post(
        api, "person.given_names=Juan&reason=robo", content_type="application/x-www-form-urlencoded"
    )

    assert_rejected(response, 400, "HTTP-400")
    assert_nothing_written()


@pytest.mark.parametrize("key", ["k" * 201, "   ", "clave\x07"], ids=["201-chars", "blank", "bell"])
def test_an_invalid_idempotency_key_is_400_and_writes_nothing(api: Client, key: str) -> None:
    response = post(api, capture(), Idempotency_Key=key)

    errors = assert_rejected(response, 400, "HTTP-400")
    assert [e["field"] for e in errors] == ["Idempotency-Key"]
    assert_nothing_written()


def test_a_rejected_capture_with_an_idempotency_key_stores_no_replay(api: Client) -> None:
    response = post(api, capture(person__age="treinta"), Idempotency_Key="captura-1")
    assert_rejected(response, 422, "RND-E143")
    assert_nothing_written()

    # The key was not burnt by the rejection: the corrected capture goes through with it.
    assert post(api, capture(), Idempotency_Key="captura-1").status_code == 201


# ---------------------------------------------------------------------------------------------
# Enumerations and the semantic rules
# ---------------------------------------------------------------------------------------------

ENUM_CASES = [
    ("person__sex", "hombre", "person.sex"),
    ("person__sex", "MALE", "person.sex"),
    ("arrest_basis", "flagrancia", "arrest_basis"),
    ("arrest_basis", None, "arrest_basis"),
    ("receiving_authority__kind", "fiscalia", "receiving_authority.kind"),
]


@pytest.mark.parametrize(("path", "value", "field"), ENUM_CASES)
def test_invalid_enum_values_are_422_rnd_e144_listing_the_options_in_spanish(
    api: Client, path: str, value: Any, field: str
) -> None:
    response = post(api, capture(**{path: value}))

    errors = assert_rejected(response, 422, "RND-E144")
    assert field in field_of(errors, "RND-E144")
    message = next(e["message"] for e in errors if e["code"] == "RND-E144")
    assert "opciones permitidas" in message
    assert " o '" in message, "the last option is joined with the Spanish 'o'"
    assert_nothing_written()


@pytest.mark.parametrize("path", ["person__sex", "arrest_basis", "receiving_authority__kind"])
def test_an_empty_string_in_a_closed_choice_is_422_rnd_e101(api: Client, path: str) -> None:
    response = post(api, capture(**{path: ""}))

    errors = assert_rejected(response, 422, "RND-E101")
    assert path.replace("__", ".") in field_of(errors, "RND-E101")
    assert_nothing_written()


def _now_plus(delta: timedelta) -> str:
    return (timezone.now() + delta).astimezone(timezone.get_fixed_timezone(-360)).isoformat()


NO_BIRTH_DATA: dict[str, Any] = {"person__birth_date": DELETE, "person__curp": DELETE}

RULE_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("future", {"detained_at": _now_plus(timedelta(hours=2))}, "RND-E102", "detained_at"),
    ("before-2019-05-28", {"detained_at": "2019-05-27T23:00:00-05:00"}, "RND-E103", "detained_at"),
    ("age-130", {"person__age": 130, **NO_BIRTH_DATA}, "RND-E105", "person.age"),
    ("age-negative", {"person__age": -1, **NO_BIRTH_DATA}, "RND-E105", "person.age"),
    ("curp-check-digit", {"person__curp": CURP[:-1] + "1"}, "RND-E111", "person.curp"),
    ("curp-format", {"person__curp": "HELJ86"}, "RND-E110", "person.curp"),
    ("curp-format-bad-date", {"person__curp": "HELJ861311HTLRPN09"}, "RND-E110", "person.curp"),
    ("curp-birth-date", {"person__birth_date": "1986-02-12"}, "RND-E112", "person.curp"),
    ("curp-sex", {"person__sex": "female"}, "RND-E113", "person.curp"),
    (
        "unknown-state",
        {"place__state": "99", "place__municipality": DELETE},
        "RND-E120",
        "place.state",
    ),
    ("unknown-municipality", {"place__municipality": "29999"}, "RND-E121", "place.municipality"),
    (
        "municipality-of-other-state",
        {"place__municipality": "08037"},
        "RND-E122",
        "place.municipality",
    ),
    (
        "outside-mexico",
        {"place__latitude": 40.71, "place__longitude": -74.0},
        "RND-E123",
        "place.latitude",
    ),
    ("only-latitude", {"place__longitude": DELETE}, "RND-E124", "place.longitude"),
    ("no-officers", {"officers": []}, "RND-E130", "officers"),
    (
        "administrative-to-prosecutor",
        {"arrest_basis": "administrative"},
        "RND-E131",
        "receiving_authority.kind",
    ),
    (
        "minor-to-prosecutor",
        {"person__age": 16, **NO_BIRTH_DATA},
        "RND-E132",
        "receiving_authority.kind",
    ),
    (
        "unknown-receiving-institution",
        {"receiving_authority__institution": "no-existe"},
        "RND-E150",
        "receiving_authority.institution",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [case[1:] for case in RULE_CASES],
    ids=[case[0] for case in RULE_CASES],
)
def test_semantic_rule_violations_are_422_with_their_rule_code(
    api: Client, overrides: dict[str, Any], code: str, field: str
) -> None:
    response = post(api, capture(**overrides))

    errors = assert_rejected(response, 422, code)
    assert field in field_of(errors, code)
    assert_nothing_written()


# ---------------------------------------------------------------------------------------------
# GET endpoints with garbage
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "NOT-A-FOLIO",
        "29-2020-ABCDEFGH-0",  # well formed, wrong check symbol
        "NOT-A-FOLIO/events",
        "29-2020-ABCDEFGH-0/events",
        "9" * 5000,
    ],
)
def test_garbage_folios_are_404(api: Client, path: str) -> None:
    response = get(api, f"{URL}/{path}")

    assert_rejected(response, 404, "HTTP-404")


def test_a_nul_in_the_path_is_400(api: Client) -> None:
    assert_rejected(get(api, f"{URL}/%00"), 400, "HTTP-400")


def test_a_well_formed_folio_with_a_bad_check_symbol_says_so(api: Client) -> None:
    good = new_folio("29", 2020, "ABCDEFGH")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")

    errors = assert_rejected(get(api, f"{URL}/{bad}"), 404, "HTTP-404")

    assert "verificación" in errors[0]["message"]
    assert_rejected(get(api, f"{URL}/{good}"), 404, "HTTP-404")  # valid but unknown


@pytest.mark.parametrize("cursor", ["%%%garbage", "WzEsIDJd", "eyJhIjogMX0", "%00", "a" * 201])
def test_list_with_a_bad_cursor_is_4xx(api: Client, cursor: str) -> None:
    response = get(api, f"{URL}?cursor={cursor}")

    # Over-long cursors fail the query schema (422); undecodable ones are a 400.
    assert_rejected(response, 422 if len(cursor) > 200 else 400)


def test_a_bad_cursor_error_names_the_cursor(api: Client) -> None:
    response = get(api, f"{URL}?cursor=%%%garbage")

    errors = assert_rejected(response, 400, "HTTP-400")
    assert "cursor" in errors[0]["message"]
    assert errors[0]["field"] in {"cursor", "query.cursor"}


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        ("from=ayer", "RND-E143", "query.from"),
        ("from=2020-06-30T10:00:00", "RND-E104", "query.from"),
        ("to=30/06/2020", "RND-E143", "query.to"),
        ("state=12345", "RND-E143", "query.state"),
        ("institution=" + "x" * 41, "RND-E141", "query.institution"),
    ],
)
def test_list_with_bad_filters_is_422(api: Client, query: str, code: str, field: str) -> None:
    errors = assert_rejected(get(api, f"{URL}?{query}"), 422, code)

    assert field in field_of(errors, code)


def test_list_with_an_unknown_status_is_422_rnd_e144(api: Client) -> None:
    errors = assert_rejected(get(api, f"{URL}?status=libre"), 422, "RND-E144")

    assert field_of(errors, "RND-E144") == {"query.status"}


@pytest.mark.parametrize(
    "query",
    [
        "from=0001-01-01T00:00:00%2B05:00",
        "to=9999-12-31T23:59:59-05:00",
        "from=9999-12-31T23:59:59-05:00",
    ],
)
def test_list_with_out_of_range_dates_is_not_a_500(api: Client, query: str) -> None:
    response = get(api, f"{URL}?{query}")

    assert response.status_code in {200, 400, 422}
    if response.status_code != 200:
        error_list(response)


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(
            '["2020-01-01T00:00:00Z", Infinity]',
            id="infinite-id",
        ),
        pytest.param(
            '["9999-12-31T23:59:59-05:00", 1]',
            id="year-9999",
        ),
    ],
)
def test_list_with_a_forged_cursor_is_400_not_500(api: Client, payload: str) -> None:
    response = get(api, f"{URL}?cursor={_cursor(payload)}")

    assert response.status_code in {200, 400}, response.status_code
    if response.status_code == 400:
        error_list(response)


@pytest.mark.parametrize("query", ["state=%00", "institution=%00"])
def test_list_with_a_nul_character_in_a_filter_is_400(api: Client, query: str) -> None:
    assert_rejected(get(api, f"{URL}?{query}"), 400, "HTTP-400")


# ---------------------------------------------------------------------------------------------
# The web capture form and pages
# ---------------------------------------------------------------------------------------------


def test_the_complete_capture_form_registers_so_the_form_cases_are_meaningful(
    web: Client,
) -> None:
    response = web.post(CAPTURE_PAGE, valid_form())

    assert response.status_code == 302, form_errors(response)
    assert written()["detentions"] == written()["register_log"] == 1


def test_an_empty_capture_form_is_422_with_spanish_field_errors_and_writes_nothing(
    web: Client,
) -> None:
    response = web.post(CAPTURE_PAGE, {})

    assert response.status_code == 422
    errors = form_errors(response)
    for field in (
        "person.given_names",
        "person.first_surname",
        "place.state",
        "reason",
        "receiving_authority.name",
    ):
        assert any("(RND-E101)" in message for message in errors[field]), (field, errors)
    assert "detained_at" in errors
    for messages in errors.values():
        for message in messages:
            assert_spanish(message)
    assert "No se registró la detención." in response.content.decode()
    assert_nothing_written()


@pytest.mark.parametrize("field", ["person.sex", "arrest_basis", "receiving_authority.kind"])
def test_an_untouched_select_on_the_form_is_a_spanish_required_error(
    web: Client, field: str
) -> None:
    response = web.post(CAPTURE_PAGE, valid_form(**{field: ""}))

    assert response.status_code == 422
    messages = form_errors(response)[field]
    assert any("(RND-E101)" in message for message in messages), messages
    for message in messages:
        assert_spanish(message)
        assert "'male'" not in message, "internal codes are not shown to the officer"
    assert_nothing_written()


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("person.age", "treinta", "RND-E143"),
        ("person.age", "nan", "RND-E143"),
        ("person.birth_date", "31/02/2020", "RND-E143"),
        ("place.latitude", "abc", "RND-E143"),
        ("place.longitude", "1e999", "RND-E143"),
        ("detained_at", "ayer", "RND-E143"),
        ("detained_at", "2020-02-30T25:61", "RND-E143"),
        ("person.given_names", "Juan\x00Carlos", "RND-E140"),
        ("place.municipality", "0" * 10, "RND-E141"),
        ("person.curp", "HELJ86", "RND-E110"),
        ("place.state", "99", "RND-E120"),
    ],
)
def test_garbage_in_form_fields_gives_field_errors_not_500(
    web: Client, field: str, value: str, code: str
) -> None:
    response = web.post(CAPTURE_PAGE, valid_form(**{field: value}))

    assert response.status_code == 422
    errors = form_errors(response)
    assert any(f"({code})" in message for message in errors.get(field, [])), errors
    for message in errors[field]:
        assert_spanish(message)
    assert_nothing_written()


@pytest.mark.parametrize("field", ["place.state", "place.municipality"])
def test_a_nul_in_the_forms_place_codes_is_a_field_error_not_500(web: Client, field: str) -> None:
    # Without a municipality the form looks the state up to find the local time zone.
    form = valid_form(**{"place.municipality": "", field: "2\x009"})

    response = web.post(CAPTURE_PAGE, form)

    assert response.status_code == 422
    assert any("(RND-E140)" in m for m in form_errors(response).get(field, []))
    assert_nothing_written()


def test_an_over_large_form_post_is_413_and_writes_nothing(web: Client) -> None:
    response = web.post(CAPTURE_PAGE, valid_form(**{"person.given_names": "a" * ONE_MEGABYTE}))

    assert response.status_code == 413
    assert_spanish(response.content.decode())
    assert_nothing_written()


@pytest.mark.parametrize(
    ("folio", "status"), [("NOPE", 404), ("29-2020-ABCDEFGH-0", 404), ("%00", 400)]
)
def test_the_detail_page_of_a_garbage_folio_is_refused(
    web: Client, folio: str, status: int
) -> None:
    response = web.get(f"/detenciones/{folio}/")
    assert response.status_code == status
    page = response.content.decode()
    assert "No encontrado" in page if status == 404 else "caracteres nulos" in page


@pytest.mark.parametrize(
    "query", ["from=ayer", "to=31-12-2020", "status=libre", "state=99", "cursor=zzz", "folio=X"]
)
def test_the_detention_list_page_reports_bad_filters_without_failing(
    web: Client, query: str
) -> None:
    response = web.get(f"/detenciones/?{query}")

    assert response.status_code == 200
    assert response.context["problems"], "the bad filter is reported to the user"
    for problem in response.context["problems"]:
        assert_spanish(problem)


def test_the_detention_list_page_with_the_last_possible_day_is_not_a_500(web: Client) -> None:
    assert web.get("/detenciones/?to=9999-12-31").status_code == 200


@pytest.mark.parametrize("query", ["state=%00", "institution=%00"])
def test_the_detention_list_page_with_a_nul_filter_is_400(web: Client, query: str) -> None:
    response = web.get(f"/detenciones/?{query}")
    assert response.status_code == 400
    assert "caracteres nulos" in response.content.decode()


# ---------------------------------------------------------------------------------------------
# Property: no mutation of a valid capture gets a 500 or writes on rejection
# ---------------------------------------------------------------------------------------------

_INTERESTING_TEXT = st.sampled_from(
    [
        "",
        " ",
        "29",
        "29033",
        "08037",
        "male",
        "administrative",
        "civic_judge",
        "2020-06-30T14:05:00-06:00",
        "2020-06-30T14:05:00",
        "1986-02-11",
        CURP,
        "<script>alert(1)</script>",
        "'; DROP TABLE registry_detention;--",
        "\x00",
        "\ud800",
        "NaN",
        "9" * 400,
    ]
)
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # NaN and infinities included: they serialise as JSON-less literals
    st.text(st.characters(exclude_categories=()), max_size=30),  # control chars, surrogates
    _INTERESTING_TEXT,
)
JSON_VALUES = st.recursive(
    _LEAVES,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)
_KEYS = st.one_of(
    st.text(max_size=12), st.sampled_from(["given_names", "Person", "curp ", "edad", "folio"])
)

Location = tuple[str | int, ...]


def locations(value: Any, prefix: Location = ()) -> Iterator[Location]:
    """Every position inside a JSON value."""
    children: Any = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in children:
        yield (*prefix, key)
        yield from locations(child, (*prefix, key))


def objects(value: Any) -> Iterator[Location]:
    """Every JSON object inside a value, the value itself included."""
    if isinstance(value, dict):
        yield ()
    for location in locations(value):
        if isinstance(lookup(value, location), dict):
            yield location


def lookup(value: Any, location: Location) -> Any:
    for step in location:
        value = value[step]
    return value


def mutate(body: dict[str, Any], data: st.DataObject) -> Any:
    """Replace, drop and add values anywhere in the capture; sometimes replace it whole."""
    mutated: Any = body
    for _ in range(data.draw(st.integers(min_value=1, max_value=4), label="mutations")):
        places = list(locations(mutated))
        dicts = list(objects(mutated))
        operations = (
            ["root"] + ["replace", "replace", "drop"] * bool(places) + ["add"] * bool(dicts)
        )
        operation = data.draw(st.sampled_from(operations), label="operation")
        if operation == "root":
            mutated = data.draw(JSON_VALUES, label="root")
        elif operation == "add":
            target = lookup(mutated, data.draw(st.sampled_from(dicts), label="object"))
            target[data.draw(_KEYS, label="key")] = data.draw(JSON_VALUES, label="value")
        else:
            *parent, last = data.draw(st.sampled_from(places), label=operation)
            container = lookup(mutated, tuple(parent))
            if operation == "replace":
                container[last] = data.draw(JSON_VALUES, label="value")
            else:
                del container[last]
    return mutated


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_mutated_captures_never_get_a_500_and_rejections_write_nothing(
    api: Client, data: st.DataObject
) -> None:
    body = mutate(capture(), data)
    before = written()

    response = post(api, json.dumps(body).encode())
    event(f"status {response.status_code}")

    assert response.status_code < 500, response.content[:500]
    assert response.status_code in {201, 400, 413, 422}, response.content[:500]
    if response.status_code == 201:
        assert written()["detentions"] == before["detentions"] + 1
        return
    assert written() == before
    for error in error_list(response):
        assert_spanish(error["message"])


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

CLI_CASES: list[tuple[str, tuple[str, ...], dict[str, str], str]] = [
    (
        "institution-bad-code",
        ("institution", "create", "bad code!"),
        {"name": "X", "kind": "police_state", "state": "29"},
        "sólo puede tener letras",
    ),
    (
        "institution-unknown-state",
        ("institution", "create", "nueva-policia"),
        {"name": "X", "kind": "police_state", "state": "99"},
        "La entidad «99» no existe",
    ),
    (
        "institution-no-state",
        ("institution", "create", "nueva-policia"),
        {"name": "X", "kind": "police_state"},
        "Indique --state",
    ),
    (
        "institution-blank-name",
        ("institution", "create", "nueva-policia"),
        {"name": "   ", "kind": "police_state", "state": "29"},
        "el nombre entre 1 y 200",
    ),
    (
        "institution-duplicate",
        ("institution", "create", "ssc-tlax"),
        {"name": "X", "kind": "police_state", "state": "29"},
        "Ya existe una institución",
    ),
    (
        "institution-foreign-municipality",
        ("institution", "create", "nueva-policia"),
        {"name": "X", "kind": "police_state", "state": "29", "municipality": "08037"},
        "no pertenece a la entidad",
    ),
    (
        "user-unknown-institution",
        ("user", "create", "nuevo-usuario"),
        {"role": "capture", "institution": "no-existe"},
        "La institución «no-existe» no existe",
    ),
    (
        "user-bad-name",
        ("user", "create", "mal usuario!"),
        {"role": "capture", "institution": "ssc-tlax"},
        "El nombre de usuario admite",
    ),
    ("token-unknown-user", ("token", "create", "fantasma"), {}, "El usuario «fantasma» no existe"),
]


def _operator_rows() -> tuple[int, int, int]:
    return Institution.objects.count(), User.objects.count(), ApiToken.objects.count()


@pytest.mark.parametrize(
    ("args", "options", "fragment"),
    [case[1:] for case in CLI_CASES],
    ids=[case[0] for case in CLI_CASES],
)
def test_management_commands_reject_bad_arguments_in_spanish_and_write_nothing(
    institutions: dict[str, Institution],
    args: tuple[str, ...],
    options: dict[str, str],
    fragment: str,
) -> None:
    before = _operator_rows()

    with pytest.raises(CommandError) as raised:
        call_command(*args, **options, stdout=io.StringIO(), stderr=io.StringIO())

    assert fragment in str(raised.value)
    assert_spanish(str(raised.value))
    assert _operator_rows() == before


def test_token_create_for_a_deactivated_user_is_refused(officer: User) -> None:
    officer.is_active = False
    officer.save()
    tokens = ApiToken.objects.count()

    with pytest.raises(CommandError, match="está desactivado"):
        call_command("token", "create", officer.username, stdout=io.StringIO())

    assert ApiToken.objects.count() == tokens


def test_the_custodia_command_reports_argument_errors_in_spanish(tmp_path: Path) -> None:
    database = tmp_path / "custodia.sqlite3"
    env = {
        **os.environ,
        "CUSTODIA_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{database}",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CUSTODIA), *args],
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=60,
            check=False,
        )

    missing = run("institution", "create")
    bad_kind = run(
        "institution", "create", "nueva", "--name", "Nueva", "--kind", "comisaria", "--state", "29"
    )

    assert missing.returncode != 0
    assert "faltan los argumentos obligatorios: code, --name, --kind" in missing.stderr
    assert bad_kind.returncode != 0
    assert "opción no válida: 'comisaria'" in bad_kind.stderr
    for result in (missing, bad_kind):
        assert "uso: custodia institution create" in result.stderr
        assert "Traceback" not in result.stderr
        assert "the following arguments" not in result.stderr
        assert "invalid choice" not in result.stderr
    assert not database.exists(), "argument errors must not touch the database"
