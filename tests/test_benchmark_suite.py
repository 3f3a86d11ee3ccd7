"""The benchmark suite (``make bench``) runs end to end: every scenario, briefly and at a tiny
scale, each against its baseline, on the real PostgreSQL server, in throw-away databases. Its
figures mean nothing here (speed is the benchmarks' business, not the tests'); what this proves
is that no scenario has broken, for example a baseline that no longer fits the schema."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from live_server import is_postgres

ROOT = Path(__file__).resolve().parent.parent
RUN_DATE = "2001-02-03"  # no real run is named so: a file of it in benchmarks/results is a leak
SCENARIOS = ("registration", "bulk import", "synth", "public search", "monthly report", "ledger")

pytestmark = pytest.mark.skipif(
    not is_postgres(settings.DATABASES["default"]),
    reason="the benchmarks measure PostgreSQL (the PostgreSQL run of the suite runs this)",
)


def test_every_scenario_runs_and_writes_its_rows(tmp_path: Path) -> None:
    database = settings.DATABASES["default"]
    user = database.get("USER") or "postgres"
    host, port = database.get("HOST") or "127.0.0.1", database.get("PORT") or 5432
    server = f"postgres://{user}@{host}:{port}"
    # One fixed date names the run's files: the test's own clock (Django's, Mexico City's) and
    # the suite's (UTC) need not agree on what day it is.
    env = dict(
        os.environ,
        CUSTODIA_BENCH_RESULTS=str(tmp_path),
        CUSTODIA_BENCH_POSTGRES=server,
        CUSTODIA_BENCH_DATE=RUN_DATE,
    )
    for name in ("DATABASE_URL", "CUSTODIA_VAR_DIR", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)  # each scenario makes its own database and var directory
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.suite", "--scale", "3000", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    summary = tmp_path / f"{RUN_DATE}.md"
    assert done.returncode == 0, done.stderr[-4000:]
    text = summary.read_text(encoding="utf-8")
    assert "failed" not in text, text
    for name in SCENARIOS:
        assert f"- {name}: " in text and f"- {name}: 0 row(s)" not in text, (name, text)
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) >= 20, text  # the header and every scenario's rows
    assert "FAILED" not in text, text  # the ledger's verification of a real registry
    assert not list((ROOT / "benchmarks" / "results").glob(f"{RUN_DATE}*"))
