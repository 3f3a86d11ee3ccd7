"""Concurrent writers on one detention, for real: several HTTP clients released together by a
barrier against a real ``custodia serve`` (waitress, 8 threads) on its own fresh database —
PostgreSQL when the test run uses it, otherwise SQLite.

With ``expected_version`` exactly one writer wins and the others get 409; without it every
writer is served, one after another, with gap-free sequence numbers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from django.conf import settings

from live_api import LiveApi as Api
from live_api import Reply
from live_server import is_postgres, run_custodia, running_server

WRITERS = 8
# Rounds of racing writers in which to catch a reply describing someone else's write.
STALE_REPLY_ROUNDS = 10
CST = timezone(timedelta(hours=-6))
ON_POSTGRES = is_postgres(settings.DATABASES["default"])


def most_in_flight(replies: Sequence[Reply]) -> int:
    """The largest number of requests that were waiting for their answers at the same time."""
    edges = sorted(
        [(r.started, 1) for r in replies] + [(r.finished, -1) for r in replies],
        key=lambda edge: (edge[0], edge[1]),
    )
    current = peak = 0
    for _, step in edges:
        current += step
        peak = max(peak, current)
    return peak


def capture() -> dict[str, Any]:
    """A valid capture: detained 20 minutes ago in Tlaxcala, with an explicit UTC offset."""
    detained = (datetime.now(CST) - timedelta(minutes=20)).replace(microsecond=0)
    return {
        "person": {
            "given_names": "Mario",
            "first_surname": "Sánchez",
            "second_surname": "Concurrente",
            "sex": "male",
            "age": 29,
            "physical_condition": "sin lesiones visibles",
        },
        "detained_at": detained.isoformat(),
        "place": {"state": "29", "municipality": "29033", "address": "Av. Juárez 12, Centro"},
        "arrest_basis": "flagrante",
        "reason": "robo a transeúnte",
        "officers": [{"name": "Pedro Ruiz Soto", "rank": "policía tercero"}],
        "receiving_authority": {
            "kind": "public_prosecutor",
            "name": "Fiscalía General de Justicia del Estado de Tlaxcala, MP Centro",
            "institution": "fgje-tlax",
        },
    }


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A real server on its own fresh database, and a bearer token of the capture officer."""
    workdir = tmp_path_factory.mktemp("custodia-concurrency")
    # The demo users are enough: no synthetic detentions.
    with running_server(settings.DATABASES["default"], workdir, detentions=0) as server:
        created = run_custodia(server.env, "token", "create", "captura")
        token = created.stdout.strip().splitlines()[-1].strip()
        assert token, created.stdout
        yield Api(server, token)


def register(api: Api) -> str:
    """A new detention through the API; its folio."""
    registered = api.call("POST", "/api/v1/detentions", capture())
    assert registered.status == 201, registered.body
    assert registered.body["version"] == 1
    folio: str = registered.body["folio"]
    return folio


def test_concurrent_writers_never_both_win(live_api: Api) -> None:
    folio = register(live_api)
    events_path = f"/api/v1/detentions/{folio}/events"

    # Eight notes, all written against version 1: exactly one may land.
    bodies = [
        {"kind": "note", "details": f"Nota del escritor {n}", "expected_version": 1}
        for n in range(WRITERS)
    ]
    replies = live_api.race([(events_path, b) for b in bodies])

    assert most_in_flight(replies) >= 2, "the requests did not overlap: nothing was raced"
    statuses = sorted(r.status for r in replies)
    assert statuses == [201] + [409] * (WRITERS - 1), statuses
    ((sent, won),) = [(body, r) for body, r in zip(bodies, replies, strict=True) if r.status == 201]
    assert won.body["event"]["sequence"] == 2
    assert won.body["version"] == 2
    for reply in replies:
        if reply.status == 409:
            (error,) = reply.body["errors"]
            assert error["code"] == "HTTP-409", error
            assert error["field"] == "expected_version", error
            assert "versión actual: 2" in error["message"], error

    listed = live_api.call("GET", events_path)
    assert listed.status == 200, listed.body
    events = listed.body["events"]
    assert [e["sequence"] for e in events] == [1, 2]
    assert [e["kind"] for e in events] == ["registered", "note"]
    assert events[1]["details"] == sent["details"]

    # Without expected_version nobody conflicts: all eight are written, one after another.
    notes = [{"kind": "note", "details": f"Nota sin versión {n}"} for n in range(WRITERS)]
    replies = live_api.race([(events_path, n) for n in notes])

    assert most_in_flight(replies) >= 2, "the requests did not overlap: nothing was raced"
    assert [r.status for r in replies] == [201] * WRITERS, [(r.status, r.body) for r in replies]
    # Each reply's event is the writer's own; its "version" is not checked here, as the API
    # reads it back after the commit (so it may already count a later writer's note).
    sequences = sorted(r.body["event"]["sequence"] for r in replies)
    assert sequences == list(range(3, 3 + WRITERS)), sequences

    listed = live_api.call("GET", events_path)
    assert listed.status == 200, listed.body
    events = listed.body["events"]
    assert [e["sequence"] for e in events] == list(range(1, 3 + WRITERS))
    assert {e["details"] for e in events[2:]} == {n["details"] for n in notes}

    detention = live_api.call("GET", f"/api/v1/detentions/{folio}")
    assert detention.status == 200, detention.body
    assert detention.body["version"] == 2 + WRITERS == 10
    assert detention.body["status"] == "in_police_custody"


def test_each_reply_describes_the_state_its_own_event_made(live_api: Api) -> None:
    folio = register(live_api)
    events_path = f"/api/v1/detentions/{folio}/events"

    mismatched: list[tuple[int, int, int]] = []
    for round_number in range(STALE_REPLY_ROUNDS):
        notes = [
            {"kind": "note", "details": f"Ronda {round_number}, nota {n}"} for n in range(WRITERS)
        ]
        replies = live_api.race([(events_path, n) for n in notes])
        if [r.status for r in replies] != [201] * WRITERS:
            pytest.fail(f"a note was refused: {[(r.status, r.body) for r in replies]}")
        mismatched += [
            (r.body["event"]["sequence"], r.body["version"], r.body["current"]["version"])
            for r in replies
            if r.body["version"] != r.body["event"]["sequence"]
            or r.body["current"]["version"] != r.body["event"]["sequence"]
        ]
        if mismatched:
            break

    assert mismatched == [], f"(event sequence, reply version, current.version): {mismatched}"
