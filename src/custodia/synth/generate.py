"""The synthetic detentions, as the rows a real registration and its custody events write.

Pure but for the catalogue read once by ``Nation``: no database access while generating, so the
generator can run in its own process beside the writer. Every row is what the services would
have written for the same facts: the warnings are the rule catalogue's verdict on the capture,
the custody columns are the state machine's projection of the events, and each event's ledger
leaf commits to the same canonical document the live append uses.
"""

from __future__ import annotations

import bisect
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from custodia.ledger import commitments, merkle
from custodia.registry import custody, rules
from custodia.registry.demo import synthetic_curp
from custodia.registry.folio import ALPHABET, RANDOM_LENGTH, new_folio

from .nation import (
    ADMINISTRATIVE_REASONS,
    BASES,
    CRIMINAL_REASONS,
    HOUR_WEIGHTS,
    WARRANT_REASONS,
    WEEKDAY_WEIGHTS,
    Habits,
    Nation,
    cumulative,
    pick,
)
from .people import NamePools

DAY = timedelta(days=1)
FOLIO_SPACE = len(ALPHABET) ** RANDOM_LENGTH
FOLIO_SCRAMBLE = 0x9E3779B1  # odd and not a multiple of 31: a bijection of the folio space

DETENTION_FIELDS = (
    "id", "folio", "institution", "state", "municipality", "address", "latitude", "longitude",
    "place_timezone", "detained_at", "registered_at", "arrest_basis", "reason", "receiving_kind",
    "receiving_name", "receiving_institution", "contact_name", "contact_relationship",
    "contact_phone", "force_used", "registered_by", "warning_codes", "status",
    "current_authority", "current_institution", "current_location", "legal_status",
    "last_event_at", "version", "age_group", "custody_state",
)  # fmt: skip
PERSON_FIELDS = (
    "id", "detention", "given_names", "first_surname", "second_surname", "alias", "sex", "age",
    "birth_date", "curp", "nationality", "physical_condition", "distinguishing_marks", "state",
)  # fmt: skip
OFFICER_FIELDS = ("id", "detention", "position", "name", "rank", "unit", "cuip", "state")
HOLDER_FIELDS = ("detention", "institution", "since", "state")
EVENT_FIELDS = (
    "id", "detention", "sequence", "kind", "occurred_at", "recorded_at", "recorded_by",
    "institution", "local_zone", "data", "state",
)  # fmt: skip
LEAF_FIELDS = ("index", "leaf_hash", "salt", "event", "created_at")
NODE_FIELDS = ("level", "index", "hash")
RANKS = ("policía", "policía tercero", "policía segundo", "policía primero", "suboficial")
CONDITIONS = ("sin lesiones visibles", "raspaduras en rodillas", "aliento alcohólico")
MARKS = ("tatuaje en el brazo izquierdo", "cicatriz en la ceja", "lunar en la mejilla")
# json.dumps(value, ensure_ascii=False), without making an encoder for every call
to_json = json.JSONEncoder(ensure_ascii=False).encode


@dataclass
class Chunk:
    """One chunk's rows, in the order of the ``*_FIELDS`` tuples (database values: JSON as
    text, aware datetimes)."""

    detentions: list[tuple[Any, ...]] = field(default_factory=list)
    people: list[tuple[Any, ...]] = field(default_factory=list)
    officers: list[tuple[Any, ...]] = field(default_factory=list)
    holders: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    leaves: list[tuple[Any, ...]] = field(default_factory=list)
    nodes: list[tuple[Any, ...]] = field(default_factory=list)

    def tables(self) -> list[tuple[str, tuple[str, ...], list[tuple[Any, ...]]]]:
        """(model label, fields, rows), parents before children."""
        return [
            ("registry.Detention", DETENTION_FIELDS, self.detentions),
            ("registry.DetainedPerson", PERSON_FIELDS, self.people),
            ("registry.Officer", OFFICER_FIELDS, self.officers),
            ("registry.DetentionHolder", HOLDER_FIELDS, self.holders),
            ("registry.CustodyEvent", EVENT_FIELDS, self.events),
            ("ledger.LedgerLeaf", LEAF_FIELDS, self.leaves),
            ("ledger.LedgerNode", NODE_FIELDS, self.nodes),
        ]

    def sequential_tables(self) -> list[tuple[str, tuple[str, ...], list[tuple[Any, ...]]]]:
        """The tables :class:`Sealer` writes (the rest it passes through from the draft)."""
        return [
            ("registry.Officer", OFFICER_FIELDS, self.officers),
            ("registry.CustodyEvent", EVENT_FIELDS, self.events),
            ("ledger.LedgerLeaf", LEAF_FIELDS, self.leaves),
            ("ledger.LedgerNode", NODE_FIELDS, self.nodes),
        ]

    @property
    def rows(self) -> int:
        return sum(len(rows) for _, _, rows in self.tables())


@dataclass
class Draft:
    """One chunk as drawn, before the sequential step (:class:`Sealer`): the rows that need no
    position in the whole load, the officers and events without their ids, and each event's
    leaf without its index. Drafts of different chunks can be drawn in different processes."""

    detentions: list[tuple[Any, ...]] = field(default_factory=list)
    people: list[tuple[Any, ...]] = field(default_factory=list)
    holders: list[tuple[Any, ...]] = field(default_factory=list)
    officers: list[tuple[Any, ...]] = field(default_factory=list)  # OFFICER_FIELDS but the id
    events: list[tuple[Any, ...]] = field(default_factory=list)  # EVENT_FIELDS but the id
    leaves: list[tuple[bytes, str, datetime]] = field(default_factory=list)  # per event
    captured: set[tuple[int, date]] = field(default_factory=set)  # (institution, local day)

    def static_tables(self) -> list[tuple[str, tuple[str, ...], list[tuple[Any, ...]]]]:
        """The tables the sequential step does not touch: (model label, fields, rows)."""
        return [
            ("registry.Detention", DETENTION_FIELDS, self.detentions),
            ("registry.DetainedPerson", PERSON_FIELDS, self.people),
            ("registry.DetentionHolder", HOLDER_FIELDS, self.holders),
        ]

    def sequential(self) -> Draft:
        """This draft without its static tables: what the sequential step still needs."""
        return Draft(officers=self.officers, events=self.events, leaves=self.leaves,
                     captured=self.captured)  # fmt: skip


class Sealer:
    """The one sequential step of a load, chunk after chunk in order: ids for the officers and
    the events, and each event's leaf its index in the ledger and the Merkle nodes it
    completes. Cheap beside drawing the chunk; everything else is drawn per detention."""

    def __init__(self) -> None:
        self.tree = Tree()
        self.officer_id = 0
        self.event_id = 0

    def seal(self, draft: Draft) -> Chunk:
        """The chunk's rows; the static tables are passed through as they are."""
        out = Chunk(detentions=draft.detentions, people=draft.people, holders=draft.holders)
        first = self.officer_id + 1
        out.officers = [(oid, *row) for oid, row in enumerate(draft.officers, start=first)]
        self.officer_id += len(draft.officers)
        tree, events, leaves, nodes = self.tree, out.events, out.leaves, out.nodes
        eid = self.event_id
        for row, (leaf, salt, recorded) in zip(draft.events, draft.leaves, strict=True):
            eid += 1
            events.append((eid, *row))
            leaves.append((tree.size, leaf.hex(), salt, eid, recorded))
            nodes.extend(tree.append(leaf))
        self.event_id = eid
        return out


class Tree:
    """The ledger's stored subtrees as leaves are appended: each append yields the nodes
    (level >= 1) it completes, exactly as the live append stores them."""

    def __init__(self, size: int = 0) -> None:
        if size:
            raise ValueError("a synthetic load starts an empty ledger")
        self.size = 0
        self.pending: list[bytes] = []  # hashes of the complete subtrees not yet combined

    def append(self, leaf: bytes) -> list[tuple[int, int, str]]:
        index = self.size
        self.size += 1
        self.pending.append(leaf)
        made = []
        for level, i in merkle.complete_subtrees_after_append(index):
            right = self.pending.pop()
            left = self.pending.pop()
            node = merkle.node_hash(left, right)
            self.pending.append(node)
            made.append((level, i, node.hex()))
        return made


class Catalog:
    """The rule catalogue's questions, answered from the nation in memory."""

    def __init__(self, nation: Nation) -> None:
        self.states = set(nation.places)
        self.municipalities = {
            m: code for code, place in nation.places.items() for m in place.municipalities
        }
        self.kinds = {nation.code_of[pk]: kind for pk, kind in nation.kind_of.items()}

    def state_exists(self, code: str) -> bool:
        return code in self.states

    def municipality_state(self, code: str) -> str | None:
        return self.municipalities.get(code)

    def institution_kind(self, code: str) -> str | None:
        return self.kinds.get(code)


class Generator:
    """Detentions between ``start`` and ``end`` (local dates), chunk by chunk. Each detention
    draws from a random stream of its own, seeded by (seed, detention id): the same seed gives
    the same rows whatever the chunk size, and whichever process draws which chunk."""

    def __init__(
        self,
        nation: Nation,
        seed: int,
        start: date,
        end: date,
        now: datetime,
        policy: rules.Policy,
    ) -> None:
        self.nation = nation
        self.rnd = random.Random()
        self.stream = (seed + 1) << 40  # plus the detention id: that detention's stream
        self.names = NamePools(seed)
        self.start, self.end, self.now = start, end, now
        self.policy = policy
        self.catalog = Catalog(nation)
        self.hour_cum = cumulative(list(HOUR_WEIGHTS))
        self.basis_cum = cumulative([w for _, w in BASES])
        self.zones: dict[str, ZoneInfo] = {}
        self.pk_of = {code: pk for pk, code in nation.code_of.items()}

    def zone(self, name: str) -> ZoneInfo:
        if name not in self.zones:
            self.zones[name] = ZoneInfo(name)
        return self.zones[name]

    def local_moment(self, zone: ZoneInfo, institution: int) -> datetime:
        rnd = self.rnd
        since, until = self.nation.operating[institution]
        first = max(self.start, since or self.start)
        last = min(self.end - DAY, until or self.end)
        span = max(1, (last - first).days + 1)
        while True:  # weekday weights by rejection: cheap, exact
            day = first + timedelta(days=rnd.randrange(span))
            if rnd.random() * 15 < WEEKDAY_WEIGHTS[day.weekday()]:
                break
        hour = bisect.bisect(self.hour_cum, rnd.random() * self.hour_cum[-1])
        return datetime(day.year, day.month, day.day, hour, rnd.randrange(60), rnd.randrange(60),
                        tzinfo=zone)  # fmt: skip

    def chunk(self, first_id: int, count: int) -> Draft:
        out = Draft()
        for did in range(first_id, first_id + count):
            self.detention(did, out)
        return out

    def detention(self, did: int, out: Draft) -> None:
        n, rnd = self.nation, self.rnd
        rnd.seed(self.stream + did)
        state = n.state_codes[bisect.bisect(n.state_cum, rnd.random() * n.state_cum[-1])]
        place = n.places[state]
        roll = rnd.random()
        if roll < 0.05:
            institution = n.national_guard
        elif roll < 0.06:
            institution = n.federal_police
        else:
            institution = place.police[
                bisect.bisect(place.police_cum, rnd.random() * place.police_cum[-1])
            ]
        habits = n.habits[institution]
        muni = place.municipal_of.get(institution) or pick(
            rnd, place.municipalities, place.muni_cum
        )
        zone_name = place.zones.get(muni, place.zone)  # as the live capture picks it
        zone = self.zone(zone_name)
        while True:  # a detention registered after "now" has not happened yet: draw again
            local = self.local_moment(zone, institution)
            detained = local.astimezone(UTC)
            delay = min(rnd.lognormvariate(math.log(habits.registration_median), 1.1), 28_800)
            registered = detained + timedelta(seconds=int(delay * 60) + 30)
            if registered <= self.now:
                break
        out.captured.add((institution, local.date()))

        sex = self.names.sex(rnd, habits.unknown_sex)
        given, first, second = self.names.person(rnd, sex)
        if rnd.random() < 0.05 + habits.missing / 3:
            second = ""
        alias = self.names.alias(rnd, given) if rnd.random() < 0.08 else ""
        age = _age(rnd)
        missing = habits.missing
        born: date | None = None
        curp = ""
        if rnd.random() >= 0.35 + missing / 2:  # identity documented
            born = _birth_date(rnd, local.date(), age)
            if rnd.random() < 0.7 and sex in ("male", "female"):
                moment = datetime(born.year, born.month, born.day)
                curp = synthetic_curp(given, first, second, moment, sex, state) or ""
        foreign = rnd.random() < 0.01
        basis = BASES[bisect.bisect(self.basis_cum, rnd.random())][0]
        if age < 18:
            basis = "flagrante" if basis == "administrative" else basis
            receiver, receiving_kind = place.adolescents, "adolescent_justice"
        elif foreign and basis != "administrative" and rnd.random() < 0.5:
            receiver, receiving_kind = n.migration, "migration"
        elif basis == "administrative":
            receiver, receiving_kind = place.civic_judge, "civic_judge"
        else:
            receiver, receiving_kind = place.prosecutor, "public_prosecutor"
        reason = rnd.choice(
            ADMINISTRATIVE_REASONS
            if basis == "administrative"
            else WARRANT_REASONS
            if basis == "warrant"
            else CRIMINAL_REASONS
        )
        has_coords = rnd.random() >= missing
        latitude = round(19.0 + rnd.uniform(-3.5, 3.5), 5) if has_coords else None
        longitude = round(-99.0 + rnd.uniform(-4.0, 4.0), 5) if has_coords else None
        condition = rnd.choice(CONDITIONS) if rnd.random() >= missing else ""
        officers = [
            (self.names.officer(rnd), rnd.choice(RANKS)) for _ in range(1 + (rnd.random() < 0.4))
        ]
        receiver_code = n.code_of[receiver] if rnd.random() >= missing else None
        findings = rules.evaluate(
            rules.Capture(
                detained_at=detained,
                registered_at=registered,
                sex=sex,
                age=age,
                birth_date=born,
                curp=curp or None,
                state=state,
                municipality=muni,
                latitude=latitude,
                longitude=longitude,
                arrest_basis=basis,
                receiving_kind=receiving_kind,
                receiving_institution=receiver_code,
                officers=tuple(rules.Officer(name) for name, _ in officers),
                physical_condition=condition or None,
            ),
            self.policy,
            self.catalog,
        )
        if rules.errors(findings):  # the rules refuse it: a capture would have been rejected
            raise AssertionError(f"synthetic capture {did} breaks {rules.errors(findings)}")
        warnings = [w.code for w in rules.warnings(findings)]
        address = "" if rnd.random() < missing else f"Calle {rnd.randint(1, 99)} Norte"
        location = ", ".join(p for p in (address, place.municipality_names[muni], place.name) if p)
        age_group = "child" if age < 12 else "adolescent" if age < 18 else "adult"
        police_user = n.user_of[institution]
        folio = new_folio(state, local.year, _folio_part(did))
        person = {
            "given_names": given,
            "first_surname": first,
            "second_surname": second,
            "alias": alias,
            "sex": sex,
            "age": age,
            "birth_date": born.isoformat() if born else None,
            "curp": curp,
            "nationality": "" if rnd.random() < missing else ("Extranjera" if foreign else "MEX"),
            "physical_condition": condition,
            "distinguishing_marks": rnd.choice(MARKS) if rnd.random() < 0.2 else "",
        }
        salt = "%032x" % rnd.getrandbits(128)  # noqa: UP031 - reproducible salts, fixed width
        authority = {
            "kind": receiving_kind,
            "name": n.name_of[receiver],
            "institution": receiver_code,
        }
        registered_data = {
            "folio": folio,
            "institution": n.code_of[institution],
            "detained_at": detained.isoformat().replace("+00:00", "Z"),
            "arrest_basis": basis,
            "place": {"state": state, "municipality": muni},
            "receiving_authority": authority,
            "warnings": warnings,
            "person_digest": commitments.person_digest(person, salt),
        }
        state_now = custody.initial(
            custody.Registration(
                detained_at=detained,
                registered_at=registered,
                institution=n.code_of[institution],
                institution_name=n.name_of[institution],
                location=location,
                arrest_basis=basis,
                age_group=age_group,
            )
        )
        self.event(out, did, folio, 1, "registered", detained, registered, police_user,
                   institution, zone_name, registered_data, salt)  # fmt: skip
        since = {n.code_of[institution]: detained}
        for kind, at, actor, inst, data in self.chain(
            habits, detained, receiver, receiving_kind, institution, police_user
        ):
            recorded = at + timedelta(minutes=rnd.randint(1, 20))
            if inst != institution and rnd.random() < habits.late_receiver:
                recorded += timedelta(minutes=rnd.randint(61, 24 * 60))
            if recorded > self.now or at < state_now.last_event_at:
                break
            sequence = state_now.version + 1
            before = state_now.holders
            state_now = custody.apply(
                state_now, custody.Event.from_data(kind, at, data, sequence=sequence)
            )
            for code in state_now.holders - before:
                since.setdefault(code, at)
            event_salt = "%032x" % rnd.getrandbits(128)  # noqa: UP031
            self.event(out, did, folio, sequence, kind, at, recorded, actor, inst, zone_name,
                       data, event_salt)  # fmt: skip
        for code in sorted(state_now.holders):
            if code in self.pk_of:
                out.holders.append((did, self.pk_of[code], since.get(code, detained), state))
        out.detentions.append(
            (
                did, folio, institution, state, muni, address, latitude, longitude, zone_name,
                detained, registered, basis, reason, receiving_kind, n.name_of[receiver],
                self.pk_of.get(receiver_code) if receiver_code else None,
                "" if rnd.random() < 0.3 + missing else self.names.contact(rnd),
                "" if rnd.random() < 0.3 + missing else rnd.choice(("madre", "padre", "pareja")),
                "" if rnd.random() < 0.5 else f"+52{rnd.randrange(10**9, 10**10)}",
                rnd.random() < 0.04, police_user, json.dumps(warnings), state_now.status,
                state_now.holder_name[:120], self.pk_of.get(state_now.holder_institution or ""),
                state_now.location[:300], state_now.legal_status or "", state_now.last_event_at,
                state_now.version, age_group,
                to_json(custody.state_to_json(state_now)),
            )
        )  # fmt: skip
        out.people.append(
            (did, did, given, first, second, alias, sex, age, born, curp, person["nationality"],
             condition, person["distinguishing_marks"], state)
        )  # fmt: skip
        for position, (name, rank) in enumerate(officers, start=1):
            cuip = "" if rnd.random() < missing else f"CUIP{did:08d}{position}"
            out.officers.append((did, position, name, rank, "Sector", cuip, state))

    def event(
        self,
        out: Draft,
        did: int,
        folio: str,
        sequence: int,
        kind: str,
        occurred: datetime,
        recorded: datetime,
        actor: int,
        institution: int,
        zone: str,
        data: dict[str, Any],
        salt: str,
    ) -> None:
        out.events.append(
            (did, sequence, kind, occurred, recorded, actor, institution, zone,
             to_json(data), folio[:2])
        )  # fmt: skip
        document = commitments.event_document(
            folio=folio,
            sequence=sequence,
            kind=kind,
            occurred_at=occurred,
            recorded_at=recorded,
            recorded_by=actor,
            institution=institution,
            local_zone=zone,
            data=data,
            salt=salt,
        )
        leaf = commitments.leaf_hash(document)
        out.leaves.append((leaf, salt, recorded))

    def chain(
        self,
        habits: Habits,
        detained: datetime,
        receiver: int,
        receiving_kind: str,
        police: int,
        police_user: int,
    ) -> Iterator[tuple[str, datetime, int, int, dict[str, Any]]]:
        """The custody events after the registration: (kind, when, user, institution, data)."""
        rnd, n = self.rnd, self.nation
        if rnd.random() < habits.never_handed:
            return  # silent custody, on purpose: the report's clocks must find it
        authority = {"kind": receiving_kind, "name": n.name_of[receiver],
                     "institution": n.code_of[receiver]}  # fmt: skip
        at = detained + timedelta(hours=rnd.expovariate(1 / habits.handover_median))
        data: dict[str, Any] = {"authority": authority}
        if receiving_kind == "public_prosecutor":
            data["legal_status"] = "retencion_ministerial"
        yield "handed_over", at, police_user, police, data
        who = n.user_of[receiver]
        if receiving_kind == "civic_judge":
            hours = rnd.uniform(37, 44) if rnd.random() < 0.04 else rnd.uniform(2, 35)
            yield (
                "released",
                at + timedelta(hours=hours),
                who,
                receiver,
                {"details": "Cumplió el arresto administrativo."},
            )
        elif receiving_kind in ("adolescent_justice", "migration"):
            yield "released", at + timedelta(hours=rnd.uniform(5, 30)), who, receiver, {}
        else:
            hours = rnd.uniform(49, 60) if rnd.random() < 0.05 else rnd.uniform(6, 47)
            if rnd.random() < 0.45:
                yield (
                    "released",
                    at + timedelta(hours=hours),
                    who,
                    receiver,
                    {"legal_status": "libertad"},
                )
            else:
                judge = {"kind": "judge", "name": "Juez de Control"}
                yield (
                    "presented_to_judge",
                    at + timedelta(hours=hours),
                    who,
                    receiver,
                    {"authority": judge},
                )


def _folio_part(did: int) -> str:
    value = (did * FOLIO_SCRAMBLE) % FOLIO_SPACE
    digits = []
    for _ in range(RANDOM_LENGTH):
        value, r = divmod(value, len(ALPHABET))
        digits.append(ALPHABET[r])
    return "".join(reversed(digits))


def _age(rnd: random.Random) -> int:
    roll = rnd.random()
    return (
        rnd.randint(8, 11) if roll < 0.002
        else rnd.randint(12, 17) if roll < 0.06
        else rnd.randint(18, 29) if roll < 0.45
        else rnd.randint(30, 44) if roll < 0.80
        else rnd.randint(45, 59) if roll < 0.96
        else rnd.randint(60, 80)
    )  # fmt: skip


def _birth_date(rnd: random.Random, on: date, age: int) -> date:
    """A birth date giving exactly ``age`` on ``on``."""
    latest = date(on.year - age, on.month, min(on.day, 28))
    return latest - timedelta(days=rnd.randrange(365))


def zero_reports(
    nation: Nation, captured: set[tuple[int, date]], seed: int, start: date, end: date
) -> Iterator[tuple[Any, ...]]:
    """Each police institution's zero reports on days it did not capture, as diligent as its
    habits say; a few on days it did capture (contradictions for the report to show)."""
    rnd = random.Random(seed + 2)
    for pk, habits in nation.habits.items():
        since, until = nation.operating[pk]
        day = max(start, since or start)
        last = min(end - DAY, until or end)
        user = nation.user_of[pk]
        while day <= last:
            busy = (pk, day) in captured
            if (not busy and rnd.random() < habits.zero_reports) or (busy and rnd.random() < 0.002):
                filed = datetime(day.year, day.month, day.day, 23, 50, tzinfo=UTC)
                yield (pk, day, "", user, filed, "api")
            day += DAY


ZERO_REPORT_FIELDS = ("institution", "day", "note", "filed_by", "filed_at", "channel")
