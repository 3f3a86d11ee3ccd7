"""The legal clocks (clocks.py): on instants, across time zones and 2020's daylight saving."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from custodia.registry import clocks, custody
from custodia.registry.custody import Authority, Event, Registration

POLICY = clocks.ClockPolicy()
PROSECUTOR = Authority("public_prosecutor", "MP", "fgje")
JUDGE = Authority("judge", "Juez de Control")
CIVIC = Authority("civic_judge", "Juzgado Cívico", "jc")


def registration(
    detained: datetime, basis: str = "flagrante", age_group: str = "adult"
) -> Registration:
    # Ten minutes later as an instant (added in UTC): wall-clock arithmetic on a zone-aware
    # datetime would move across a daylight-saving change, and the same instants written in two
    # zones would no longer be the same instants.
    registered = (detained.astimezone(UTC) + timedelta(minutes=10)).astimezone(detained.tzinfo)
    return Registration(detained, registered, "police", "Policía", "Centro", basis, age_group)


def state_after(reg: Registration, *events: tuple[str, float, dict[str, object]]) -> custody.State:
    state = custody.initial(reg)
    for number, (kind, hours, extra) in enumerate(events, start=2):
        e = Event(
            kind=kind,
            occurred_at=reg.detained_at.astimezone(UTC) + timedelta(hours=hours),
            sequence=number,
            **extra,
        )  # type: ignore[arg-type]
        assert not custody.check(state, e, now=reg.detained_at + timedelta(days=400))
        state = custody.apply(state, e)
    return state


def clock(state: custody.State, name: str, now: datetime) -> clocks.Clock:
    return next(c for c in clocks.clocks_for(state, now, POLICY) if c.clock == name)


def names(state: custody.State, now: datetime) -> list[str]:
    return [c.clock for c in clocks.open_breaches(state, now, POLICY)]


T0 = datetime(2020, 6, 30, 14, 5, tzinfo=ZoneInfo("America/Mexico_City")).astimezone(UTC)


def test_handover_warning_after_four_hours_critical_after_twelve() -> None:
    state = state_after(registration(T0))
    assert names(state, T0 + timedelta(hours=3, minutes=59)) == []
    at_five = clock(state, "handover", T0 + timedelta(hours=5))
    assert (at_five.is_open(T0 + timedelta(hours=5)), at_five.severity) == (True, "warning")
    assert clock(state, "handover", T0 + timedelta(hours=13)).severity == "critical"


def test_handover_in_time_closes_the_clock() -> None:
    state = state_after(registration(T0), ("handed_over", 2, {"authority": PROSECUTOR}))
    handover = clock(state, "handover", T0 + timedelta(days=1))
    assert handover.ended_at == T0 + timedelta(hours=2)
    assert not handover.breached(T0 + timedelta(days=1))


@pytest.mark.parametrize(("organized", "limit"), [(False, 48), (True, 96)])
def test_prosecutor_retention(organized: bool, limit: int) -> None:
    state = state_after(
        registration(T0),
        ("handed_over", 1, {"authority": PROSECUTOR, "organized_crime": organized}),
    )
    just_before = T0 + timedelta(hours=1 + limit) - timedelta(minutes=1)
    assert "prosecutor_retention" not in names(state, just_before)
    assert "prosecutor_retention" in names(state, T0 + timedelta(hours=1 + limit, minutes=1))


def test_judge_term_is_stopped_by_the_binding_order_and_extended_to_144_hours() -> None:
    base = [
        ("handed_over", 1, {"authority": PROSECUTOR}),
        ("presented_to_judge", 20, {"authority": JUDGE}),
    ]
    open_term = state_after(registration(T0), *base)
    assert "judge_term" in names(open_term, T0 + timedelta(hours=20 + 73))
    decided = state_after(
        registration(T0),
        *base,
        ("legal_status_changed", 60, {"legal_status": "vinculacion_a_proceso"}),
    )
    assert "judge_term" not in names(decided, T0 + timedelta(hours=200))
    extended = state_after(
        registration(T0),
        *base,
        ("legal_status_changed", 30, {"legal_status": "ampliacion_plazo_constitucional"}),
    )
    assert "judge_term" not in names(extended, T0 + timedelta(hours=20 + 100))
    assert "judge_term" in names(extended, T0 + timedelta(hours=20 + 145))


def test_administrative_arrest_36_hours() -> None:
    state = state_after(
        registration(T0, "administrative"), ("handed_over", 1, {"authority": CIVIC})
    )
    assert names(state, T0 + timedelta(hours=35)) == []
    assert names(state, T0 + timedelta(hours=37)) == ["administrative_arrest"]
    released = state_after(
        registration(T0, "administrative"),
        ("handed_over", 1, {"authority": CIVIC}),
        ("released", 30, {}),
    )
    assert names(released, T0 + timedelta(hours=100)) == []


def test_adolescent_handed_to_an_ordinary_prosecutor_is_a_breach() -> None:
    state = state_after(
        registration(T0, age_group="adolescent"), ("handed_over", 1, {"authority": PROSECUTOR})
    )
    assert names(state, T0 + timedelta(hours=2)) == ["adolescent"]
    right = state_after(
        registration(T0, age_group="adolescent"),
        ("handed_over", 1, {"authority": Authority("adolescent_justice", "MP")}),
    )
    assert names(right, T0 + timedelta(hours=2)) == []


def test_child_not_with_child_protection_in_four_hours() -> None:
    state = state_after(registration(T0, age_group="child"))
    assert "child" in names(state, T0 + timedelta(hours=5))
    protected = state_after(
        registration(T0, age_group="child"),
        ("handed_over", 1, {"authority": Authority("child_protection", "Procuraduría")}),
    )
    assert "child" not in names(protected, T0 + timedelta(hours=5))


def test_silent_custody_after_24_hours_without_events() -> None:
    state = state_after(
        registration(T0),
        ("transferred", 1, {"authority": Authority("other", "Separos de la policía")}),
    )
    assert "silent_custody" in names(state, T0 + timedelta(hours=26))
    assert "silent_custody" not in names(state, T0 + timedelta(hours=24, minutes=59))


def test_death_in_custody_is_critical_at_once_and_alone() -> None:
    state = state_after(registration(T0), ("died_in_custody", 2, {}))
    found = clocks.open_breaches(state, T0 + timedelta(hours=2, seconds=1), POLICY)
    assert [(c.clock, c.severity) for c in found] == [("death_in_custody", "critical")]
    assert clocks.open_breaches(state, T0 + timedelta(days=31), POLICY) == []


# Mexico's last daylight-saving year was 2022; in 2020 most of the country still changed
# clocks (first Sunday of April, last Sunday of October), the border strip followed the US
# dates, and Sonora and Quintana Roo did not change at all.
@pytest.mark.parametrize(
    ("zone", "start_local", "due_local"),
    [
        # Prosecutor's 48 h across the spring change: the wall clock jumps an hour.
        ("America/Mexico_City", datetime(2020, 4, 4, 12, 0), datetime(2020, 4, 6, 13, 0)),
        # Across the autumn change: the wall clock goes back an hour.
        ("America/Mexico_City", datetime(2020, 10, 24, 12, 0), datetime(2020, 10, 26, 11, 0)),
        # Tijuana changed on the US date, 8 March 2020.
        ("America/Tijuana", datetime(2020, 3, 7, 12, 0), datetime(2020, 3, 9, 13, 0)),
        # Sonora keeps one offset all year.
        ("America/Hermosillo", datetime(2020, 4, 4, 12, 0), datetime(2020, 4, 6, 12, 0)),
        ("America/Cancun", datetime(2020, 4, 4, 12, 0), datetime(2020, 4, 6, 12, 0)),
    ],
)
def test_48_hours_are_48_real_hours_in_every_zone(
    zone: str, start_local: datetime, due_local: datetime
) -> None:
    tz = ZoneInfo(zone)
    handover = start_local.replace(tzinfo=tz).astimezone(UTC)
    detained = handover - timedelta(hours=1)
    state = state_after(registration(detained), ("handed_over", 1, {"authority": PROSECUTOR}))
    retention = clock(state, "prosecutor_retention", handover + timedelta(days=3))
    # A ZoneInfo-aware start (as a careless caller might pass) must give the same instant.
    assert retention.started_at == handover
    assert retention.due_at - retention.started_at == timedelta(hours=48)
    assert retention.due_at.astimezone(tz).replace(tzinfo=None) == due_local


moments = st.datetimes(
    min_value=datetime(2019, 6, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)
zones = st.sampled_from(
    [
        "America/Mexico_City",
        "America/Tijuana",
        "America/Hermosillo",
        "America/Cancun",
        "America/Ciudad_Juarez",
        "America/Merida",
    ]
)


@given(moments, st.floats(0.1, 60), st.floats(0, 200), zones, zones)
@example(  # the end of daylight saving time in Ciudad Juárez, once found by Hypothesis
    datetime(2023, 11, 5, 8, 0, tzinfo=UTC),
    1.0,
    0.0,
    "America/Mexico_City",
    "America/Ciudad_Juarez",
)
def test_clocks_depend_on_instants_not_on_how_they_are_written(
    detained: datetime, handover_hours: float, later: float, zone_a: str, zone_b: str
) -> None:
    """The same instants written in two time zones give the same clocks."""

    def in_zone(zone: str) -> list[tuple[str, bool, timedelta]]:
        tz = ZoneInfo(zone)
        reg = registration(detained.astimezone(tz))
        state = state_after(reg, ("handed_over", handover_hours, {"authority": PROSECUTOR}))
        now = (detained + timedelta(hours=handover_hours + later)).astimezone(tz)
        return [
            (c.clock, c.breached(now), c.overdue_by(now))
            for c in clocks.clocks_for(state, now, POLICY)
        ]

    assert in_zone(zone_a) == in_zone(zone_b)


@given(st.floats(0.01, 30))
def test_handover_is_breached_exactly_after_four_hours(hours: float) -> None:
    state = state_after(registration(T0), ("handed_over", hours, {"authority": PROSECUTOR}))
    handover = clock(state, "handover", T0 + timedelta(hours=40))
    assert handover.breached(T0 + timedelta(hours=40)) == (hours > 4)


def test_zoneinfo_instants_are_not_added_on_the_wall_clock() -> None:
    """Python adds a timedelta to a ZoneInfo datetime on the wall clock; the clocks must not."""
    tz = ZoneInfo("America/Mexico_City")
    reg = registration(datetime(2020, 4, 4, 11, 0, tzinfo=tz))
    handover = Event(
        "handed_over", datetime(2020, 4, 4, 12, 0, tzinfo=tz), sequence=2, authority=PROSECUTOR
    )
    state = custody.apply(custody.initial(reg), handover)
    now = datetime(2020, 4, 6, 12, 30, tzinfo=tz)  # 47.5 real hours later: not yet due
    retention = clock(state, "prosecutor_retention", now)
    assert not retention.breached(now)
    assert retention.due_at.astimezone(tz) == datetime(2020, 4, 6, 13, 0, tzinfo=tz)
