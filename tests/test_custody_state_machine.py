"""The custody state machine (custody.py): transitions as data, checked and replayed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custodia.registry import custody
from custodia.registry.custody import Authority, Event, Registration

T0 = datetime(2020, 6, 30, 19, 5, tzinfo=UTC)
REG = Registration(
    detained_at=T0,
    registered_at=T0 + timedelta(minutes=10),
    institution="ssc-tlax",
    institution_name="SSC Tlaxcala",
    location="Av. Juárez 12, Tlaxcala",
    arrest_basis="flagrante",
    age_group="adult",
)
FAR_FUTURE = T0 + timedelta(days=365)
AUTHORITIES = {
    "public_prosecutor": Authority("public_prosecutor", "MP Centro", "fgje-tlax"),
    "civic_judge": Authority("civic_judge", "Juzgado Cívico", "jc-tlaxcala"),
    "judge": Authority("judge", "Juez de Control"),
    "prison": Authority("prison", "CERESO", "cereso-tlax"),
    "other": Authority("other", "Hospital General"),
}


def event(kind: str, hours: float, **extra: object) -> Event:
    return Event(kind=kind, occurred_at=T0 + timedelta(hours=hours), **extra)  # type: ignore[arg-type]


def run(*events: Event) -> custody.State:
    state = custody.initial(REG)
    for number, e in enumerate(events, start=2):
        problems = custody.check(state, e, now=FAR_FUTURE)
        assert not problems, (e.kind, [p.code for p in problems])
        state = custody.apply(state, Event(**{**e.__dict__, "sequence": number}))
    return state


def codes(state: custody.State, e: Event) -> set[str]:
    return {p.code for p in custody.check(state, e, now=FAR_FUTURE)}


def test_the_full_criminal_chain() -> None:
    state = run(
        event("handed_over", 1, authority=AUTHORITIES["public_prosecutor"]),
        event("presented_to_judge", 40, authority=AUTHORITIES["judge"]),
        event("legal_status_changed", 90, legal_status="vinculacion_a_proceso"),
        event("admitted_to_prison", 91, authority=AUTHORITIES["prison"]),
    )
    assert state.status == custody.IN_PRISON
    assert state.holder_institution == "cereso-tlax"
    assert state.prosecutor_since == T0 + timedelta(hours=1)
    assert state.prosecutor_until == T0 + timedelta(hours=40)
    assert state.binding_order_at == T0 + timedelta(hours=90)
    assert state.version == 5
    assert state.holders == {"ssc-tlax", "fgje-tlax", "cereso-tlax"}


def test_an_authority_outside_custodia_leaves_the_record_with_the_last_institution() -> None:
    state = run(event("transferred", 1, authority=AUTHORITIES["other"]))
    assert state.holder_name == "Hospital General"
    assert state.holder_institution == "ssc-tlax"


@pytest.mark.parametrize(
    ("events", "new", "code"),
    [
        ([event("released", 2)], event("released", 3), "RND-E306"),
        ([], event("note", -1, details="x"), "RND-E302"),
        ([], event("handed_over", 24 * 400, authority=AUTHORITIES["civic_judge"]), "RND-E303"),
        ([], event("admitted_to_prison", 2, authority=AUTHORITIES["prison"]), "RND-E304"),
        ([event("died_in_custody", 2)], event("released", 3), "RND-E305"),
        (
            [event("handed_over", 5, authority=AUTHORITIES["civic_judge"])],
            event("transferred", 4, authority=AUTHORITIES["other"]),
            "RND-E307",
        ),
        ([], event("recaptured", 2), "RND-E301"),
        ([], event("handed_over", 2), "RND-E101"),
        ([], event("legal_status_changed", 2), "RND-E101"),
        ([], event("note", 2), "RND-E101"),
        (
            [],
            event("corrected", 2, corrects=999, field="details", value="x", reason="r"),
            "RND-E308",
        ),
    ],
)
def test_forbidden_events(events: list[Event], new: Event, code: str) -> None:
    assert code in codes(run(*events), new)


def test_a_warrant_allows_going_straight_to_prison() -> None:
    state = custody.initial(Registration(**{**REG.__dict__, "arrest_basis": "warrant"}))
    assert not codes(state, event("admitted_to_prison", 2, authority=AUTHORITIES["prison"]))


def test_corrections_are_applied_on_replay_without_overwriting() -> None:
    handover = Event(
        "handed_over",
        T0 + timedelta(hours=6),
        sequence=2,
        id=10,
        authority=AUTHORITIES["public_prosecutor"],
    )
    fix = Event(
        "corrected",
        T0 + timedelta(hours=7),
        sequence=3,
        id=11,
        corrects=10,
        field="occurred_at",
        value=(T0 + timedelta(hours=2)).isoformat(),
        reason="hora",
    )
    state = custody.replay(REG, [handover, fix])
    assert state.handed_over_at == T0 + timedelta(hours=2)
    assert state.version == 3
    assert handover.occurred_at == T0 + timedelta(hours=6)


KINDS = st.sampled_from(custody.EVENT_KINDS)
AUTHORITY = st.sampled_from(sorted(AUTHORITIES))


@st.composite
def histories(draw: st.DrawFn) -> list[Event]:
    n = draw(st.integers(0, 12))
    hours = sorted(draw(st.lists(st.floats(0, 500), min_size=n, max_size=n)))
    out = []
    for h in hours:
        kind = draw(KINDS)
        out.append(
            Event(
                kind=kind,
                occurred_at=T0 + timedelta(hours=h),
                authority=AUTHORITIES[draw(AUTHORITY)] if draw(st.booleans()) else None,
                legal_status=draw(st.sampled_from([None, *custody.LEGAL_STATUSES])),
                details=draw(st.sampled_from(["", "nota"])),
            )
        )
    return out


@settings(max_examples=300)
@given(histories())
def test_accepted_events_replay_to_the_same_state(history: list[Event]) -> None:
    """Whatever is thrown at it, the machine accepts some events; folding them one by one gives
    exactly the state that replaying them gives, and nothing goes after death or a release."""
    state = custody.initial(REG)
    accepted: list[Event] = []
    for e in history:
        candidate = Event(**{**e.__dict__, "sequence": state.version + 1, "id": len(accepted) + 1})
        if custody.check(state, candidate, now=FAR_FUTURE):
            continue
        previous = state
        state = custody.apply(state, candidate)
        accepted.append(candidate)
        assert state.version == previous.version + 1
        assert state.status in custody.ANY
        if previous.status == custody.DECEASED:
            assert candidate.kind in {"note", "corrected", "redacted"}
        if candidate.kind == "released":
            assert previous.status in custody.HELD
        assert state.last_event_at >= previous.last_event_at
    assert custody.replay(REG, accepted) == state
    assert custody.state_from_json(custody.state_to_json(state)) == state
