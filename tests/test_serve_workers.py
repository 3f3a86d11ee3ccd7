"""``custodia serve --workers N``: N server processes (gunicorn) on PostgreSQL, so the web tier
uses every core. Real processes against a real server: concurrent registrations spread over
both processes keep folios unique and the ledger whole, and the public search's rate limit
holds in all, although each process counts alone."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from live_api import LiveApi as Api
from live_server import custodia_executable, is_postgres, run_custodia, running_server, server_env
from test_custody_concurrency import capture

ON_POSTGRES = is_postgres(settings.DATABASES["default"])
WORKERS = 2
SEARCH_LIMIT = 4  # per minute, in all


def test_out_of_range_workers_are_refused() -> None:
    for bad in ("0", "65"):
        with pytest.raises(CommandError, match="entre 1 y 64"):
            call_command("serve", "--workers", bad)


def test_several_workers_need_postgresql(tmp_path: Path) -> None:
    env = server_env(f"sqlite:///{tmp_path / 'solo.sqlite3'}", tmp_path)
    done = subprocess.run(
        [str(custodia_executable()), "serve", "--workers", "2", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "requieren PostgreSQL" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


needs_postgres = pytest.mark.skipif(
    not ON_POSTGRES, reason="several processes serve only PostgreSQL (the SQLite case is above)"
)


@pytest.fixture(scope="module")
def workers_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    workdir = tmp_path_factory.mktemp("custodia-workers")
    with running_server(
        settings.DATABASES["default"],
        workdir,
        detentions=0,
        serve_args=["--workers", str(WORKERS), "--threads", "4"],
        env_overrides={
            "CUSTODIA_RATE_LIMITS": "on",
            "CUSTODIA_PUBLIC_SEARCH_RATES": f"{SEARCH_LIMIT}/minute",
        },
    ) as server:
        created = run_custodia(server.env, "token", "create", "captura")
        yield Api(server, created.stdout.strip().splitlines()[-1].strip())


def children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@needs_postgres
def test_the_server_runs_one_process_per_worker(workers_api: Api) -> None:
    deadline = time.monotonic() + 30
    while len(found := children(workers_api.server.pid)) < WORKERS:
        assert time.monotonic() < deadline, f"{len(found)} of {WORKERS} workers started"
        time.sleep(0.2)
    assert len(found) == WORKERS
    for pid in found:
        assert "custodia" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")


@needs_postgres
def test_concurrent_registrations_over_both_processes(workers_api: Api) -> None:
    replies = workers_api.race([("/api/v1/detentions", capture()) for _ in range(12)])
    assert [r.status for r in replies] == [201] * 12, [r.body for r in replies]
    folios = {r.body["folio"] for r in replies}
    assert len(folios) == 12
    for reply in replies:
        fetched = workers_api.get(f"/api/v1/detentions/{reply.body['folio']}")
        assert fetched["person"] == reply.body["person"]
    # A failed verification exits non-zero, which run_custodia raises.
    verified = run_custodia(workers_api.server.env, "ledger", "verify")
    assert "FALLA" not in verified.stdout, verified.stdout


@needs_postgres
def test_the_public_rate_limit_holds_over_both_processes(workers_api: Api) -> None:
    query = urlencode({"given_names": "Nadie", "first_surname": "Ninguno"})
    # A new connection each time, so the requests are spread over the processes.
    statuses = [workers_api.call("GET", f"/api/v1/public/search?{query}").status for _ in range(12)]
    allowed = statuses.count(200)
    assert set(statuses) <= {200, 429}, statuses
    # Each process allows its share (the limit over the processes), so never more in all...
    assert allowed <= SEARCH_LIMIT, statuses
    # ...and at least the share of one process.
    assert allowed >= SEARCH_LIMIT // WORKERS, statuses
