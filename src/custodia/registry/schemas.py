"""The shape of what the API and the capture form accept, and of what the API returns.

Parsing reports every problem with a rule code of the catalog (``rules.py``) and a Spanish
message, so a capture typed on a phone and a batch sent by a state system get the same answers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from .rules import RULES, Finding

# RFC 3339 as text. Without this, pydantic would also take Unix timestamps (numbers or digit
# strings), which API.md does not allow; a missing offset is still reported as RND-E104.
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}:\d{2})?$"
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MIN_YEAR, MAX_YEAR = 1900, 2999


def _instant_text(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise PydanticCustomError("missing", "required")
    if not isinstance(value, str) or not _RFC3339.match(value.strip()):
        raise PydanticCustomError("datetime_parsing", "not RFC 3339")
    return value.strip()


def _date_text(value: Any) -> Any:
    if value is None or isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value.strip()):
        raise PydanticCustomError("date_parsing", "not YYYY-MM-DD")
    return value.strip()


def _plausible_year(value: Any) -> Any:
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        raise PydanticCustomError("year_range", "year out of range")
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_instant_text), AfterValidator(_plausible_year)]
DateText = Annotated[date, BeforeValidator(_date_text), AfterValidator(_plausible_year)]

SEX_LABELS = {"male": "Hombre", "female": "Mujer", "other": "Otro", "unknown": "No determinado"}
ARREST_BASIS_LABELS = {
    "warrant": "Orden de aprehensión",
    "flagrante": "Flagrancia",
    "urgent_case": "Caso urgente",
    "administrative": "Arresto administrativo",
}
RECEIVING_KIND_LABELS = {
    "public_prosecutor": "Ministerio Público / fiscalía",
    "civic_judge": "Juez cívico / calificador",
    "adolescent_justice": "Autoridad de justicia para adolescentes",
    "child_protection": "Procuraduría de Protección de Niñas, Niños y Adolescentes",
    "migration": "Autoridad migratoria",
    "other": "Otra autoridad",
}


def _is_forbidden_control(ch: str) -> bool:
    return unicodedata.category(ch) in {"Cc", "Cs", "Co"} and ch not in "\n\t"


def _clean(value: Any, *, multiline: bool) -> Any:
    if not isinstance(value, str):
        return value
    # isprintable() is false for every control character (and for some harmless ones, such as
    # a tab or a no-break space): only then is each character looked at.
    if not value.isprintable() and (
        any(_is_forbidden_control(ch) for ch in value) or (not multiline and "\n" in value)
    ):
        raise PydanticCustomError("control_chars", "control characters")
    value = unicodedata.normalize("NFC", value).strip()
    if not multiline:
        value = " ".join(value.split())
    return value


def _required(value: Any) -> Any:
    if isinstance(value, str) and not value:
        raise PydanticCustomError("missing", "required")
    return value


# Closed sets of codes; an empty string (an untouched select) counts as missing.
Sex = Annotated[Literal["male", "female", "other", "unknown"], BeforeValidator(_required)]
ArrestBasis = Annotated[
    Literal["warrant", "flagrante", "urgent_case", "administrative"], BeforeValidator(_required)
]
ReceivingKind = Annotated[
    Literal[
        "public_prosecutor",
        "civic_judge",
        "adolescent_justice",
        "child_protection",
        "migration",
        "other",
    ],
    BeforeValidator(_required),
]


def _optional(value: Any) -> Any:
    return None if isinstance(value, str) and not value else value


def _text(max_length: int, *, required: bool, multiline: bool = False) -> Any:
    def clean(value: Any) -> Any:
        return _clean(value, multiline=multiline)

    bounded = Annotated[str, StringConstraints(max_length=max_length)]
    if required:
        return Annotated[bounded, BeforeValidator(_required), BeforeValidator(clean)]
    return Annotated[bounded | None, BeforeValidator(_optional), BeforeValidator(clean)]


Name = _text(120, required=True)
OptName = _text(120, required=False)
OptShort = _text(60, required=False)
Reason = _text(2000, required=True, multiline=True)
OptLong = _text(2000, required=False, multiline=True)
OptAddress = _text(300, required=False)
OptPhone = _text(30, required=False)


def _upper(value: str | None) -> str | None:
    return value.upper() if value else value


CurpText = Annotated[
    Annotated[str, StringConstraints(max_length=18)] | None,
    AfterValidator(_upper),
    BeforeValidator(_optional),
    BeforeValidator(lambda v: _clean(v, multiline=False)),
]
StateCode = Annotated[
    Annotated[str, StringConstraints(max_length=2)],
    BeforeValidator(_required),
    BeforeValidator(lambda v: _clean(v, multiline=False)),
]
MunicipalityCode = Annotated[
    Annotated[str, StringConstraints(max_length=5)] | None,
    BeforeValidator(_optional),
    BeforeValidator(lambda v: _clean(v, multiline=False)),
]


class StrictSchema(BaseModel):
    """What clients send. A plain pydantic model: ninja's ``Schema`` validates a model that
    forbids extra keys twice (and each nested one twice per pass), and input needs none of its
    attribute lookups on Django objects."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class PersonIn(StrictSchema):
    given_names: Name  # type: ignore[valid-type]
    first_surname: Name  # type: ignore[valid-type]
    second_surname: OptName = None  # type: ignore[valid-type]
    alias: OptName = None  # type: ignore[valid-type]
    sex: Sex
    age: StrictInt | None = Field(default=None, ge=-1000, le=1000)
    birth_date: DateText | None = None
    curp: CurpText = None
    nationality: OptShort = None  # type: ignore[valid-type]
    physical_condition: OptLong = None  # type: ignore[valid-type]
    distinguishing_marks: OptLong = None  # type: ignore[valid-type]


class PlaceIn(StrictSchema):
    state: StateCode
    municipality: MunicipalityCode = None
    address: OptAddress = None  # type: ignore[valid-type]
    latitude: StrictFloat | None = Field(default=None, ge=-90, le=90)
    longitude: StrictFloat | None = Field(default=None, ge=-180, le=180)


class OfficerIn(StrictSchema):
    name: Name  # type: ignore[valid-type]
    rank: OptShort = None  # type: ignore[valid-type]
    unit: OptName = None  # type: ignore[valid-type]
    cuip: OptShort = None  # type: ignore[valid-type]


class ReceivingAuthorityIn(StrictSchema):
    kind: ReceivingKind
    name: Name  # type: ignore[valid-type]
    institution: OptShort = None  # type: ignore[valid-type]


class ContactIn(StrictSchema):
    name: OptName = None  # type: ignore[valid-type]
    relationship: OptShort = None  # type: ignore[valid-type]
    phone: OptPhone = None  # type: ignore[valid-type]


class DetentionIn(StrictSchema):
    person: PersonIn
    detained_at: Instant
    place: PlaceIn
    arrest_basis: ArrestBasis
    reason: Reason  # type: ignore[valid-type]
    officers: list[OfficerIn] = Field(min_length=1, max_length=50)
    receiving_authority: ReceivingAuthorityIn
    contact: ContactIn | None = None
    force_used: StrictBool = False


# Pydantic error types, mapped to the catalog.
_ERROR_CODES = {
    "missing": "RND-E101",
    "timezone_aware": "RND-E104",
    "control_chars": "RND-E140",
    "string_too_long": "RND-E141",
    "too_long": "RND-E141",
    "extra_forbidden": "RND-E142",
    "literal_error": "RND-E144",
    "enum": "RND-E144",
}
_TYPE_MESSAGES = {
    "int_parsing": "Debe ser un número entero.",
    "int_type": "Debe ser un número entero.",
    "int_from_float": "Debe ser un número entero.",
    "float_parsing": "Debe ser un número.",
    "float_type": "Debe ser un número.",
    "bool_parsing": "Debe ser verdadero o falso.",
    "bool_type": "Debe ser verdadero o falso.",
    "string_type": "Debe ser texto.",
    "date_from_datetime_parsing": "Debe ser una fecha AAAA-MM-DD.",
    "date_parsing": "Debe ser una fecha AAAA-MM-DD.",
    "date_type": "Debe ser una fecha AAAA-MM-DD.",
    "datetime_parsing": (
        "Debe ser una fecha y hora RFC 3339, por ejemplo 2020-06-30T14:05:00-06:00."
    ),
    "datetime_from_date_parsing": (
        "Debe ser una fecha y hora RFC 3339, por ejemplo 2020-06-30T14:05:00-06:00."
    ),
    "datetime_type": "Debe ser una fecha y hora RFC 3339.",
    "list_type": "Debe ser una lista.",
    "model_type": "Debe ser un objeto JSON.",
    "model_attributes_type": "Debe ser un objeto JSON.",
    "dict_type": "Debe ser un objeto JSON.",
    "greater_than_equal": "El valor es demasiado pequeño.",
    "less_than_equal": "El valor es demasiado grande.",
    "too_short": "La lista no puede estar vacía.",
    "string_pattern_mismatch": "El valor no tiene el formato esperado.",
    "year_range": f"El año debe estar entre {MIN_YEAR} y {MAX_YEAR}.",
}


def field_path(loc: tuple[int | str, ...]) -> str:
    """``("officers", 0, "name")`` becomes ``officers[0].name``; ninja's ``body`` prefix goes."""
    parts: list[str] = []
    for item in loc:
        if item in {"body", "payload"} and not parts:
            continue
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "body"


def findings_from_errors(errors: Sequence[Mapping[str, Any]]) -> list[Finding]:
    findings = []
    for error in errors:
        kind = error.get("type", "")
        path = field_path(tuple(error.get("loc", ())))
        code = _ERROR_CODES.get(kind, "RND-E143")
        if kind == "too_short" and path == "officers":
            findings.append(RULES["RND-E130"].finding())
            continue
        if code == "RND-E141":
            limit = (error.get("ctx") or {}).get("max_length")
            message = f"El texto es demasiado largo (máximo {limit} caracteres)."
            if kind == "too_long":
                message = f"Demasiados elementos (máximo {limit})."
        elif code == "RND-E144":
            expected = str((error.get("ctx") or {}).get("expected", "")).replace(" or ", " o ")
            message = f"El valor no es una de las opciones permitidas: {expected}."
        elif code == "RND-E143":
            message = _TYPE_MESSAGES.get(kind, RULES[code].message)
        else:
            message = RULES[code].message
        findings.append(Finding(code, path, message))
    return findings


def parse_detention(data: Any) -> tuple[DetentionIn | None, list[Finding]]:
    """Validate a capture's shape. Returns the parsed capture, or the findings that reject it."""
    if not isinstance(data, dict):
        return None, [Finding("RND-E143", "body", "El cuerpo debe ser un objeto JSON.")]
    try:
        return DetentionIn.model_validate(data), []
    except ValidationError as error:
        findings = findings_from_errors(error.errors())
    # The age rule needs a parsed capture; say now, with the other gaps, if both are missing.
    person = data.get("person")
    if (
        isinstance(person, dict)
        and person.get("age") in (None, "")
        and person.get("birth_date") in (None, "")
        and not any(f.field in {"person.age", "person.birth_date"} for f in findings)
    ):
        findings.append(
            Finding(
                "RND-E101",
                "person.age",
                "Indique la edad (aunque sea aproximada) o la fecha de nacimiento.",
            )
        )
    return None, findings


class RuleOut(Schema):
    code: str
    severity: str
    field: str
    title: str
    message: str
    basis: str


class FindingOut(Schema):
    code: str
    field: str
    message: str


class EventOut(Schema):
    id: int
    sequence: int
    kind: str
    kind_label: str
    occurred_at: datetime
    recorded_at: datetime
    local_zone: str
    occurred_at_local: str
    authority: dict[str, Any] | None
    place: dict[str, Any] | None
    legal_status: str | None
    details: str
    ledger_leaf_index: int | None = None


# Custody events (API.md: POST /api/v1/detentions/{folio}/events).
EventKindIn = Annotated[
    Literal[
        "handed_over",
        "transferred",
        "legal_status_changed",
        "presented_to_judge",
        "admitted_to_prison",
        "released",
        "escaped",
        "recaptured",
        "died_in_custody",
        "corrected",
        "note",
    ],
    BeforeValidator(_required),
]
AuthorityKind = Annotated[
    Literal[
        "public_prosecutor",
        "civic_judge",
        "adolescent_justice",
        "child_protection",
        "migration",
        "judge",
        "prison",
        "other",
    ],
    BeforeValidator(_required),
]
LegalStatus = Annotated[
    Literal[
        "flagrancia",
        "orden_de_aprehension",
        "caso_urgente",
        "retencion_ministerial",
        "arresto_administrativo",
        "ampliacion_plazo_constitucional",
        "vinculacion_a_proceso",
        "no_vinculacion_a_proceso",
        "prision_preventiva",
        "medida_cautelar_distinta",
        "sentencia_condenatoria",
        "cumplimiento_de_pena",
        "libertad",
    ]
    | None,
    BeforeValidator(_optional),
]
OptStateCode = Annotated[
    Annotated[str, StringConstraints(pattern=r"^\d{2}$")] | None,
    BeforeValidator(_optional),
    BeforeValidator(lambda v: _clean(v, multiline=False)),
]
OptInstant = Annotated[
    AwareDatetime | None,
    BeforeValidator(lambda v: None if v in (None, "") else _instant_text(v)),
    AfterValidator(_plausible_year),
]

AUTHORITY_KIND_LABELS = {
    **RECEIVING_KIND_LABELS,
    "judge": "Juez de control",
    "prison": "Centro penitenciario",
}
EVENT_KIND_LABELS = {
    "handed_over": "Puesta a disposición",
    "transferred": "Traslado",
    "legal_status_changed": "Cambio de situación jurídica",
    "presented_to_judge": "Presentación ante el juez",
    "admitted_to_prison": "Ingreso a centro penitenciario",
    "released": "Libertad",
    "escaped": "Evasión",
    "recaptured": "Recaptura",
    "died_in_custody": "Fallecimiento bajo custodia",
    "corrected": "Corrección",
    "note": "Nota",
    "redacted": "Supresión de datos personales",
}


class AuthorityIn(StrictSchema):
    kind: AuthorityKind
    name: Name  # type: ignore[valid-type]
    institution: OptShort = None  # type: ignore[valid-type]


class EventPlaceIn(StrictSchema):
    name: OptName = None  # type: ignore[valid-type]
    address: OptAddress = None  # type: ignore[valid-type]
    state: OptStateCode = None


class EventIn(StrictSchema):
    kind: EventKindIn
    occurred_at: OptInstant = Field(
        default=None, description="Obligatoria salvo en notas y correcciones (por omisión, ahora)."
    )
    authority: AuthorityIn | None = None
    place: EventPlaceIn | None = None
    legal_status: LegalStatus = None
    organized_crime: StrictBool = False
    details: OptLong = None  # type: ignore[valid-type]
    expected_version: StrictInt | None = Field(default=None, ge=1)
    corrects: StrictInt | None = Field(default=None, ge=1)
    field: OptShort = None  # type: ignore[valid-type]
    value: Annotated[str, StringConstraints(max_length=2000)] | None = None
    reason: OptLong = None  # type: ignore[valid-type]


def parse_event(data: Any) -> tuple[EventIn | None, list[Finding]]:
    if not isinstance(data, dict):
        return None, [Finding("RND-E143", "body", "El cuerpo debe ser un objeto JSON.")]
    try:
        parsed = EventIn.model_validate(data)
    except ValidationError as error:
        return None, findings_from_errors(error.errors())
    if parsed.occurred_at is None and parsed.kind not in {"note", "corrected"}:
        return None, [Finding("RND-E101", "occurred_at", RULES["RND-E101"].message)]
    return parsed, []
