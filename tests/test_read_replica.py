"""With DATABASE_REPLICA_URL set, the public search and the reports read from a real streaming
replica, and everything else (writes, officials' reads) from the primary (issue 7).

The proof: with the replica's replay paused, a detention just registered on the primary is
readable by folio (primary) but absent from the public search and the monthly report (replica);
once replay resumes, both find it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from conftest import capture
from live_api import LiveApi
from live_server import RunningServer, is_postgres, run_custodia, server_env, serving
from pg_pair import Pair, streaming_pair

pytestmark = pytest.mark.skipif(
    not is_postgres(settings.DATABASES["default"]),
    reason="a streaming replica exists only on PostgreSQL (make test runs this on PostgreSQL)",
)

NAME = {"given_names": "Gumersinda", "first_surname": "Olvera", "second_surname": "Tapia"}
MAX_LAG = 10  # seconds; the paused phase below takes two or three


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    with streaming_pair() as made:
        with made.connect(made.primary_port) as conn:
            conn.execute("CREATE DATABASE custodia")
        yield made


@pytest.fixture(scope="module")
def server(pair: Pair, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    workdir = tmp_path_factory.mktemp("replica")
    var_dir = workdir / "var"
    var_dir.mkdir()
    primary = pair.url(pair.primary_port, "custodia")
    env = server_env(primary, var_dir)
    env["DATABASE_REPLICA_URL"] = pair.url(pair.replica_port, "custodia")
    env["CUSTODIA_REPLICA_MAX_LAG_SECONDS"] = str(MAX_LAG)
    # Migrations and the demo write through the router: all of it must land on the primary.
    run_custodia(env, "demo", "--detentions", "4")
    with serving(env, workdir, primary) as running:
        yield running


def token(server: RunningServer, username: str) -> LiveApi:
    made = run_custodia(dict(server.env), "token", "create", username)
    return LiveApi(server, made.stdout.strip().splitlines()[-1])


def public_names(api: LiveApi) -> list[str]:
    found = api.get("/api/v1/public/search?given_names=Gumersinda&first_surname=Olvera&state=29")
    return [r["name"] for r in found["results"]]


def national_total(api: LiveApi, month: str) -> Any:
    report = api.get(f"/api/v1/reports/monthly?month={month}&format=json")
    return report["volume"]["total"]


def access_log_actions(pair: Pair) -> list[str]:
    with pair.connect(pair.primary_port, "custodia") as conn:
        return [r[0] for r in conn.execute("SELECT action FROM core_accesslog").fetchall()]


def test_public_search_and_reports_read_the_replica(
    pair: Pair, server: RunningServer, tmp_path: Path
) -> None:
    police, analyst = token(server, "captura"), token(server, "analista.nacional")
    detained = timezone.now() - timedelta(minutes=15)
    month = detained.astimezone(ZoneInfo("America/Mexico_City")).strftime("%Y-%m")
    pair.wait_until_replayed()
    before_total = national_total(analyst, month)
    searches_before = access_log_actions(pair).count("public.search")

    pair.pause_replay()
    try:
        body = capture(**{f"person__{k}": v for k, v in NAME.items()})
        body["person"].pop("curp")
        registered = police.call("POST", "/api/v1/detentions", body)
        assert registered.status == 201, registered
        folio = registered.body["folio"]
        # Officials read the primary: the record is there at once.
        assert police.get(f"/api/v1/detentions/{folio}")["folio"] == folio
        # The replica has not replayed it: the public search and the report do not see it.
        assert public_names(analyst) == []
        assert national_total(analyst, month) == before_total
        # The search's access-log entry was written, to the primary, while reading the replica.
        assert access_log_actions(pair).count("public.search") == searches_before + 1
        # Replay still paused: once the replica is more than MAX_LAG behind, the primary
        # answers, so a stalled standby cannot keep showing a released or suppressed person.
        deadline = time.monotonic() + MAX_LAG + 30
        while public_names(analyst) == [] and time.monotonic() < deadline:
            time.sleep(1)
        assert public_names(analyst) == ["Gumersinda Olvera Tapia"]
        assert national_total(analyst, month) == before_total + 1
        with pair.connect(pair.replica_port) as replica:
            paused = replica.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0]
        assert paused == "paused"  # the answer came from the primary, not a resumed replica
    finally:
        pair.resume_replay()

    pair.wait_until_replayed()
    assert public_names(analyst) == ["Gumersinda Olvera Tapia"]
    assert national_total(analyst, month) == before_total + 1


def test_the_replica_is_a_read_only_standby(pair: Pair, server: RunningServer) -> None:
    with pair.connect(pair.replica_port, "custodia") as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone()[0] is True
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE tablename = 'registry_detention'"
        ).fetchone()[0]
        assert tables == 1  # the schema arrived by streaming, not by migrating the replica
    with pair.connect(pair.primary_port) as conn:
        senders = conn.execute("SELECT state FROM pg_stat_replication").fetchall()
        assert [s[0] for s in senders] == ["streaming"]
