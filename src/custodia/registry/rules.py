"""The validation rule catalog of the registry, as data (DESIGN.md §4, STYLE.md on NIBRS).

Each rule has a code (``RND-E1xx`` rejects the capture, ``RND-W2xx`` accepts and flags it), the
field it concerns, a Spanish message, its legal basis and, for rules about meaning rather than
shape, a pure function. Rules about shape (required, types, lengths, unknown fields) are enforced
while parsing (``schemas.py``), which reports them with the same codes.

Pure: no Django. Catalog lookups come in through :class:`Catalog`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.mx import curp as stdnum_curp


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    code: str
    field: str
    message: str

    @property
    def severity(self) -> Severity:
        return RULES[self.code].severity

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class Officer:
    name: str


@dataclass(frozen=True)
class Capture:
    """The facts of a capture the rules need, already parsed into Python types."""

    detained_at: datetime
    registered_at: datetime
    sex: str
    age: int | None
    birth_date: date | None
    curp: str | None
    state: str
    municipality: str | None
    latitude: float | None
    longitude: float | None
    arrest_basis: str
    receiving_kind: str
    receiving_institution: str | None
    officers: tuple[Officer, ...]
    physical_condition: str | None = None


@dataclass(frozen=True)
class Policy:
    registry_start: datetime
    future_tolerance: timedelta = timedelta(minutes=5)
    registration_warning: timedelta = timedelta(minutes=60)
    registration_critical: timedelta = timedelta(hours=6)


class Catalog(Protocol):
    def state_exists(self, code: str) -> bool: ...

    def municipality_state(self, code: str) -> str | None:
        """The state a municipality belongs to, or None if it is unknown."""

    def institution_kind(self, code: str) -> str | None:
        """The kind of an institution, or None if it is unknown."""


Check = Callable[[Capture, Policy, Catalog], Iterator[Finding]]


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    field: str
    title: str
    message: str
    basis: str
    check: Check | None = dataclass_field(default=None, compare=False, repr=False)

    def finding(self, field_path: str | None = None, message: str | None = None) -> Finding:
        return Finding(self.code, field_path or self.field, message or self.message)


LNRD_IMMEDIATE = "LNRD, registro inmediato: contenido mínimo"
LNRD_UPDATE = "LNRD, actualización del registro por la autoridad receptora"
ICPPED_17 = "Convención Internacional contra las Desapariciones Forzadas, art. 17(3)"
CONST_16 = "Constitución, art. 16 (registro inmediato de la detención)"
CONST_21 = "Constitución, art. 21 (arresto administrativo: juez cívico)"
LNSIJPA = "Ley Nacional del Sistema Integral de Justicia Penal para Adolescentes"
DATA_QUALITY = "Calidad de datos del RND (Lineamientos del RND)"
IMPORTS = "Carga masiva desde sistemas estatales (idempotente por identificador externo)"

ADULT_AGE = 18
CRIMINAL_RESPONSIBILITY_AGE = 12
MAX_AGE = 120
# A generous bounding box around the national territory, islands included.
MEXICO_LAT = (14.3, 33.0)
MEXICO_LON = (-118.7, -86.5)


def _check_future(c: Capture, p: Policy, _: Catalog) -> Iterator[Finding]:
    if c.detained_at > c.registered_at + p.future_tolerance:
        yield RULES["RND-E102"].finding()


def _check_before_registry(c: Capture, p: Policy, _: Catalog) -> Iterator[Finding]:
    if c.detained_at < p.registry_start:
        yield RULES["RND-E103"].finding()


def _age_at(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _check_age(c: Capture, p: Policy, _: Catalog) -> Iterator[Finding]:
    if c.age is not None and not 0 <= c.age <= MAX_AGE:
        yield RULES["RND-E105"].finding()
    if c.birth_date is not None:
        if c.birth_date > c.detained_at.date():
            yield RULES["RND-E107"].finding()
        elif c.age is not None and abs(_age_at(c.birth_date, c.detained_at.date()) - c.age) > 1:
            yield RULES["RND-E106"].finding()
        elif _age_at(c.birth_date, c.detained_at.date()) > MAX_AGE:
            yield RULES["RND-E105"].finding("person.birth_date")
    if c.age is None and c.birth_date is None:
        yield RULES["RND-E101"].finding(
            "person.age", "Indique la edad (aunque sea aproximada) o la fecha de nacimiento."
        )


def _check_curp(c: Capture, p: Policy, _: Catalog) -> Iterator[Finding]:
    if not c.curp:
        return
    try:
        stdnum_curp.validate(c.curp)
    except StdnumError as error:
        if type(error).__name__ == "InvalidChecksum":
            yield RULES["RND-E111"].finding()
        else:
            yield RULES["RND-E110"].finding()
        return
    born = stdnum_curp.get_birth_date(c.curp)
    if c.birth_date is not None and born != c.birth_date:
        yield RULES["RND-E112"].finding()
    elif c.birth_date is None and c.age is not None:
        if abs(_age_at(born, c.detained_at.date()) - c.age) > 1:
            yield RULES["RND-E112"].finding(
                message="La fecha de nacimiento contenida en la CURP no concuerda con la edad."
            )
    curp_sex = {"H": "male", "M": "female"}.get(c.curp[10])
    if curp_sex and c.sex in {"male", "female"} and curp_sex != c.sex:
        yield RULES["RND-E113"].finding()


def _check_place(c: Capture, p: Policy, catalog: Catalog) -> Iterator[Finding]:
    if not catalog.state_exists(c.state):
        yield RULES["RND-E120"].finding()
        return
    if c.municipality:
        owner = catalog.municipality_state(c.municipality)
        if owner is None:
            yield RULES["RND-E121"].finding()
        elif owner != c.state:
            yield RULES["RND-E122"].finding()


def _check_coordinates(c: Capture, p: Policy, _: Catalog) -> Iterator[Finding]:
    if (c.latitude is None) != (c.longitude is None):
        yield RULES["RND-E124"].finding()
    elif c.latitude is not None and c.longitude is not None:
        if not (
            MEXICO_LAT[0] <= c.latitude <= MEXICO_LAT[1]
            and MEXICO_LON[0] <= c.longitude <= MEXICO_LON[1]
        ):
            yield RULES["RND-E123"].finding()
    else:
        yield RULES["RND-W205"].finding()


def _check_officers(c: Capture, p: Policy, _: Catalog) -> Iterator[Finding]:
    if not c.officers:
        yield RULES["RND-E130"].finding()


def _minor_age(c: Capture) -> int | None:
    if c.birth_date is not None and c.birth_date <= c.detained_at.date():
        return _age_at(c.birth_date, c.detained_at.date())
    return c.age


def _check_receiving(c: Capture, p: Policy, catalog: Catalog) -> Iterator[Finding]:
    age = _minor_age(c)
    minor = age is not None and age < ADULT_AGE
    if c.arrest_basis == "administrative":
        if c.receiving_kind != "civic_judge":
            yield RULES["RND-E131"].finding()
        if minor:
            yield RULES["RND-W204"].finding()
    elif minor and age is not None:
        allowed = {"adolescent_justice"}
        if age < CRIMINAL_RESPONSIBILITY_AGE:
            allowed.add("child_protection")
        if c.receiving_kind not in allowed:
            yield RULES["RND-E132"].finding()
    if c.receiving_institution:
        kind = catalog.institution_kind(c.receiving_institution)
        if kind is None:
            yield RULES["RND-E150"].finding()
        elif kind != c.receiving_kind:
            yield RULES["RND-E151"].finding()


def _check_delay(c: Capture, p: Policy, _: Catalog) -> Iterator[Finding]:
    delay = c.registered_at - c.detained_at
    if delay > p.registration_critical:
        yield RULES["RND-W202"].finding()
    elif delay > p.registration_warning:
        yield RULES["RND-W201"].finding()


def _check_condition(c: Capture, p: Policy, _: Catalog) -> Iterator[Finding]:
    if not c.physical_condition:
        yield RULES["RND-W206"].finding()


def _check_identity(c: Capture, p: Policy, _: Catalog) -> Iterator[Finding]:
    if not c.curp and c.birth_date is None:
        yield RULES["RND-W203"].finding()


E, W = Severity.ERROR, Severity.WARNING

_CATALOG: tuple[Rule, ...] = (
    Rule("RND-E101", E, "*", "Dato obligatorio", "Este dato es obligatorio.", LNRD_IMMEDIATE),
    Rule(
        "RND-E102",
        E,
        "detained_at",
        "Detención en el futuro",
        "La fecha y hora de la detención está en el futuro (tolerancia de 5 minutos).",
        CONST_16,
        _check_future,
    ),
    Rule(
        "RND-E103",
        E,
        "detained_at",
        "Detención anterior al registro",
        "La fecha de la detención es anterior a la entrada en vigor de la LNRD (28-05-2019).",
        "LNRD, transitorios (DOF 27-05-2019)",
        _check_before_registry,
    ),
    Rule(
        "RND-E104",
        E,
        "*",
        "Hora sin zona horaria",
        "La fecha y hora debe incluir la diferencia con UTC (por ejemplo "
        "2020-06-30T14:05:00-06:00).",
        "API.md (instantes RFC 3339 con diferencia horaria explícita)",
    ),
    Rule(
        "RND-E105",
        E,
        "person.age",
        "Edad fuera de rango",
        f"La edad debe estar entre 0 y {MAX_AGE} años.",
        LNRD_IMMEDIATE,
        _check_age,
    ),
    Rule(
        "RND-E106",
        E,
        "person.age",
        "Edad y fecha de nacimiento no concuerdan",
        "La edad no concuerda con la fecha de nacimiento (se admite un año de diferencia).",
        LNRD_IMMEDIATE,
    ),
    Rule(
        "RND-E107",
        E,
        "person.birth_date",
        "Nacimiento posterior a la detención",
        "La fecha de nacimiento es posterior a la detención.",
        LNRD_IMMEDIATE,
    ),
    Rule(
        "RND-E110",
        E,
        "person.curp",
        "CURP con formato inválido",
        "La CURP no tiene un formato válido (18 caracteres: 4 letras, fecha, sexo, entidad…).",
        LNRD_UPDATE + "; Acuerdo para la adopción y uso de la CURP",
        _check_curp,
    ),
    Rule(
        "RND-E111",
        E,
        "person.curp",
        "CURP con dígito verificador erróneo",
        "El dígito verificador de la CURP no coincide: revise cada carácter.",
        LNRD_UPDATE,
    ),
    Rule(
        "RND-E112",
        E,
        "person.curp",
        "CURP y fecha de nacimiento no concuerdan",
        "La fecha de nacimiento contenida en la CURP no concuerda con la registrada.",
        LNRD_UPDATE,
    ),
    Rule(
        "RND-E113",
        E,
        "person.curp",
        "CURP y sexo no concuerdan",
        "El sexo contenido en la CURP no concuerda con el registrado.",
        LNRD_UPDATE,
    ),
    Rule(
        "RND-E120",
        E,
        "place.state",
        "Entidad desconocida",
        "La entidad federativa no existe: use la clave INEGI de dos dígitos (por ejemplo 29).",
        LNRD_IMMEDIATE,
        _check_place,
    ),
    Rule(
        "RND-E121",
        E,
        "place.municipality",
        "Municipio desconocido",
        "El municipio no existe en el catálogo: use la clave INEGI de cinco dígitos.",
        LNRD_IMMEDIATE,
    ),
    Rule(
        "RND-E122",
        E,
        "place.municipality",
        "Municipio de otra entidad",
        "El municipio no pertenece a la entidad federativa indicada.",
        LNRD_IMMEDIATE,
    ),
    Rule(
        "RND-E123",
        E,
        "place.latitude",
        "Coordenadas fuera de México",
        "Las coordenadas quedan fuera del territorio nacional: revise latitud y longitud.",
        "LNRD (ruta de traslado georreferenciada)",
        _check_coordinates,
    ),
    Rule(
        "RND-E124",
        E,
        "place.longitude",
        "Coordenada incompleta",
        "Indique latitud y longitud juntas, o ninguna.",
        "LNRD (ruta de traslado georreferenciada)",
    ),
    Rule(
        "RND-E130",
        E,
        "officers",
        "Sin elementos aprehensores",
        "Registre al menos a un elemento que participó en la detención.",
        LNRD_IMMEDIATE,
        _check_officers,
    ),
    Rule(
        "RND-E131",
        E,
        "receiving_authority.kind",
        "Arresto administrativo sin juez cívico",
        "Un arresto administrativo se pone a disposición de un juez cívico o calificador.",
        CONST_21,
        _check_receiving,
    ),
    Rule(
        "RND-E132",
        E,
        "receiving_authority.kind",
        "Persona menor de edad sin autoridad especializada",
        "Una persona menor de 18 años se pone a disposición de la autoridad especializada en "
        "justicia para adolescentes (o, si tiene menos de 12, de la Procuraduría de Protección).",
        LNSIJPA,
    ),
    Rule(
        "RND-E140",
        E,
        "*",
        "Caracteres de control",
        "El texto contiene caracteres de control no permitidos.",
        DATA_QUALITY,
    ),
    Rule("RND-E141", E, "*", "Texto demasiado largo", "El texto es demasiado largo.", DATA_QUALITY),
    Rule(
        "RND-E142",
        E,
        "*",
        "Campo desconocido",
        "Este campo no existe: revise el nombre (un error de escritura no debe perder datos).",
        "API.md (campos desconocidos se rechazan)",
    ),
    Rule(
        "RND-E143",
        E,
        "*",
        "Tipo o formato inválido",
        "El valor no tiene el tipo o el formato esperado.",
        DATA_QUALITY,
    ),
    Rule(
        "RND-E144",
        E,
        "*",
        "Opción no válida",
        "El valor no es una de las opciones permitidas.",
        DATA_QUALITY,
    ),
    Rule(
        "RND-E150",
        E,
        "receiving_authority.institution",
        "Institución receptora desconocida",
        "La institución receptora no existe en el catálogo.",
        LNRD_IMMEDIATE,
    ),
    Rule(
        "RND-E151",
        E,
        "receiving_authority.institution",
        "Institución receptora de otro tipo",
        "La institución receptora no es del tipo de autoridad indicado.",
        LNRD_IMMEDIATE,
    ),
    Rule(
        "RND-E160",
        E,
        "external_id",
        "Identificador externo inválido",
        "Cada fila importada lleva external_id: el identificador del registro en el sistema de "
        "origen, de 1 a 100 caracteres visibles.",
        IMPORTS,
    ),
    Rule(
        "RND-E161",
        E,
        "external_id",
        "Identificador externo ya usado con otros datos",
        "El identificador externo ya se importó con datos distintos; una corrección se "
        "registra como movimiento sobre el folio.",
        IMPORTS,
    ),
    Rule(
        "RND-E162",
        E,
        "",
        "Fila ilegible",
        "La fila no se pudo leer: no es un objeto JSON o tiene más celdas que encabezados.",
        IMPORTS,
    ),
    Rule(
        "RND-E163",
        E,
        "events",
        "Historial inválido",
        "events debe ser una lista de movimientos, cada uno como los recibe la API.",
        IMPORTS,
    ),
    Rule(
        "RND-E164",
        E,
        "events",
        "Movimiento no permitido a la institución",
        "La institución que importa no puede registrar este movimiento (la persona ya no está "
        "bajo su custodia).",
        IMPORTS,
    ),
    Rule(
        "RND-W201",
        W,
        "detained_at",
        "Registro tardío",
        "El registro se hizo más de 60 minutos después de la detención; la ley pide registrar "
        "de inmediato.",
        CONST_16 + "; LNRD (registro «de inmediato»)",
        _check_delay,
    ),
    Rule(
        "RND-W202",
        W,
        "detained_at",
        "Registro muy tardío",
        "El registro se hizo más de 6 horas después de la detención.",
        CONST_16 + "; LNRD (registro «de inmediato»)",
    ),
    Rule(
        "RND-W203",
        W,
        "person.curp",
        "Identidad por completar",
        "Sin CURP ni fecha de nacimiento: la autoridad receptora deberá completarlas.",
        LNRD_UPDATE,
        _check_identity,
    ),
    Rule(
        "RND-W204",
        W,
        "person.age",
        "Persona menor en arresto administrativo",
        "Persona menor de 18 años en arresto administrativo: avise de inmediato a quien ejerza "
        "la patria potestad o tutela.",
        "Modelo Nacional de Policía y Justicia Cívica; " + LNSIJPA,
    ),
    Rule(
        "RND-W205",
        W,
        "place.latitude",
        "Sin georreferencia",
        "No se registraron coordenadas del lugar de la detención.",
        "LNRD (ruta de traslado georreferenciada)",
    ),
    Rule(
        "RND-W206",
        W,
        "person.physical_condition",
        "Estado físico no registrado",
        "No se registró el estado físico aparente ni las lesiones visibles.",
        ICPPED_17,
        _check_condition,
    ),
)

# Custody events (custody.py checks them against the state machine).
_EVENT_RULES: tuple[Rule, ...] = (
    Rule(
        "RND-E301",
        E,
        "kind",
        "Movimiento no permitido",
        "Este movimiento no es posible en la situación actual de la persona.",
        "Máquina de estados del RND (custody.ALLOWED_FROM)",
    ),
    Rule(
        "RND-E302",
        E,
        "occurred_at",
        "Movimiento anterior a la detención",
        "El movimiento no puede ser anterior a la detención.",
        CONST_16,
    ),
    Rule(
        "RND-E303",
        E,
        "occurred_at",
        "Movimiento en el futuro",
        "La fecha y hora del movimiento está en el futuro (tolerancia de 5 minutos).",
        DATA_QUALITY,
    ),
    Rule(
        "RND-E304",
        E,
        "kind",
        "Ingreso a prisión sin orden judicial",
        "No hay orden de un juez (presentación ante el juez, orden de aprehensión, prisión "
        "preventiva o sentencia) que permita el ingreso a un centro penitenciario.",
        "Constitución, arts. 18 y 19",
    ),
    Rule(
        "RND-E305",
        E,
        "kind",
        "Movimiento después del fallecimiento",
        "La persona falleció bajo custodia: sólo se admiten notas y correcciones.",
        DATA_QUALITY,
    ),
    Rule(
        "RND-E306",
        E,
        "kind",
        "Libertad de una persona ya liberada",
        "La persona ya fue puesta en libertad.",
        DATA_QUALITY,
    ),
    Rule(
        "RND-E307",
        E,
        "occurred_at",
        "Movimiento fuera de orden",
        "El movimiento es anterior al último movimiento registrado; si una hora estaba mal, "
        "corríjala con una corrección.",
        DATA_QUALITY,
    ),
    Rule(
        "RND-E308",
        E,
        "corrects",
        "Corrección de un movimiento inexistente",
        "La corrección debe nombrar un movimiento de esta misma detención.",
        DATA_QUALITY,
    ),
    Rule(
        "RND-E309",
        E,
        "field",
        "Campo no corregible",
        "Sólo se corrigen: occurred_at, authority.name, place.name, place.address, "
        "legal_status y details.",
        DATA_QUALITY,
    ),
    Rule(
        "RND-E310",
        E,
        "corrects",
        "Corrección de una corrección",
        "Una corrección no se corrige: registre una nueva corrección del movimiento original.",
        DATA_QUALITY,
    ),
)
_CATALOG = _CATALOG + _EVENT_RULES

RULES: dict[str, Rule] = {rule.code: rule for rule in _CATALOG}
assert len(RULES) == len(_CATALOG), "duplicate rule code"


def evaluate(capture: Capture, policy: Policy, catalog: Catalog) -> list[Finding]:
    """Every finding of every semantic rule, errors and warnings, in catalog order."""
    findings: list[Finding] = []
    for rule in _CATALOG:
        if rule.check is not None:
            findings.extend(rule.check(capture, policy, catalog))
    return findings


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity is Severity.ERROR]


def warnings(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity is Severity.WARNING]


def catalog() -> tuple[Rule, ...]:
    return _CATALOG
