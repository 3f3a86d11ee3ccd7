"""The real requests' queries use indexes on a loaded PostgreSQL database (issue 7): a fresh
`custodia synth` nation (30,000 detentions over 24 months, ~1 million rows in all), then every
query of twenty representative requests (reads, searches, reports, proofs, a capture and a
handover) through EXPLAIN. A sequential scan of a table with 10,000 rows or more fails.
tests/plan_check.py does the work in its own process and first proves it sees a known scan."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from live_server import fresh_database, is_postgres, run_custodia, server_env

pytestmark = pytest.mark.skipif(
    not is_postgres(settings.DATABASES["default"]),
    reason="query plans are checked on PostgreSQL, the production database",
)


def test_no_request_scans_a_large_table(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir()
    with fresh_database(settings.DATABASES["default"], tmp_path) as url:
        env = server_env(url, var)
        # About a minute on a quiet machine; more when a benchmark shares it.
        run_custodia(
            env, "synth", "--detentions", "30000", "--months", "24", "--seed", "3", timeout=900
        )
        checked = subprocess.run(
            [sys.executable, str(Path(__file__).with_name("plan_check.py"))],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    assert checked.returncode in (0, 1), checked.stderr[-3000:]
    assert checked.stdout.strip(), checked.stderr[-3000:]  # exit 1 with no report: it gave up
    report = json.loads(checked.stdout)
    assert "registry_custodyevent" in report["large_tables"]  # the load is large enough
    # Both append-only logs are partitioned by month: 24 months of events, at least 13 of the
    # access log (this month and twelve ahead), each with its default partition.
    assert report["partitioned"]["registry_custodyevent"] >= 26, report["partitioned"]
    assert report["partitioned"]["core_accesslog"] >= 14, report["partitioned"]
    assert len(report["requests"]) == 20
    assert report["scans"] == [], json.dumps(report["scans"], ensure_ascii=False, indent=1)
    assert checked.returncode == 0
