"""Bulk import (`custodia import detentions`'s service) against COPY of the same rows, measured
in the same run (issue 7).

1. A fresh database with the demo institutions; N capture rows with external ids (names,
   ages, places and delays varied), as a state system would send them.
2. **Ours**: ``imports.import_rows`` over all of them, with full validation, idempotency
   records, ledger leaves, name index, outbox, access log and report counts, in as many
   processes as ``custodia import detentions`` uses by default (one per core); rows per second.
3. **Baseline**: every row the import wrote, in every table it wrote to, read back and COPYed
   (text format, one transaction per 250 detentions' rows, as the import's chunks, one
   connection) into empty copies of the tables (``LIKE … INCLUDING ALL``: same indexes, no
   triggers, no foreign keys). Detentions per second.
4. The same import of as many other rows in one process (``--workers 1``), against the same
   baseline, after it.

Target: import ≥ 25 % of the COPY rate.

    python -m benchmarks.bulk_import [--rows 20000] [--workers N]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import time
from datetime import timedelta
from typing import Any

import psycopg

from benchmarks.common import DEFAULT_SERVER, Provenance, Row, fresh_environment, say, write_results

# Every table an imported capture writes to, and how its rows are found from the detentions.
WRITTEN = {
    "registry_detention": "id",
    "registry_detainedperson": "detention_id",
    "registry_officer": "detention_id",
    "registry_detentionholder": "detention_id",
    "registry_custodyevent": "detention_id",
    "registry_sourcerecord": "detention_id",
    "lookup_nameentry": "detention_id",
    "lookup_namekey": "entry_id",
    "notify_outboxmessage": "detention_id",
    "reports_detentionfact": "detention_id",
}


def rows(n: int, seed: int = 1, prefix: str = "SIS") -> list[dict[str, Any]]:
    from django.utils import timezone

    from custodia.synth.people import NamePools

    rnd = random.Random(seed)
    names = NamePools(seed)
    now = timezone.now().astimezone(timezone.get_fixed_timezone(-360))
    out = []
    for i in range(n):
        sex = "female" if rnd.random() < 0.15 else "male"
        given, first, second = names.person(rnd, sex)
        detained = now - timedelta(minutes=rnd.randint(30, 3000))
        out.append(
            {
                "external_id": f"{prefix}-{i:08d}",
                "person": {"given_names": given, "first_surname": first, "second_surname": second,
                           "sex": sex, "age": rnd.randint(18, 70)},
                "detained_at": detained.isoformat(timespec="seconds"),
                "place": {"state": "29", "municipality": "29033", "address": "Centro"},
                "arrest_basis": "flagrante",
                "reason": "robo a transeúnte",
                "officers": [{"name": names.officer(rnd), "rank": "policía"}],
                "receiving_authority": {"kind": "public_prosecutor", "name": "FGJE Tlaxcala",
                                        "institution": "fgje-tlax"},
            }
        )  # fmt: skip
    return out


def copy_baseline(url: str, chunk: int) -> tuple[float, int]:
    """COPY everything the import wrote into LIKE copies; (seconds, rows)."""
    with psycopg.connect(url, autocommit=True) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM registry_detention ORDER BY id")]
        bodies: list[list[tuple[str, bytes]]] = []
        for start in range(0, len(ids), chunk):
            low, high = ids[start], ids[min(start + chunk, len(ids)) - 1]
            part = []
            for name, column in WRITTEN.items():
                buffer = io.BytesIO()
                query = f'COPY (SELECT * FROM "{name}" WHERE "{column}" BETWEEN {low} AND {high}) TO STDOUT'  # noqa: S608, E501
                with conn.cursor().copy(query) as copy:
                    for data in copy:
                        buffer.write(data)
                part.append((name, buffer.getvalue()))
            leaves = io.BytesIO()
            query = (
                "COPY (SELECT l.* FROM ledger_ledgerleaf l JOIN registry_custodyevent e ON "  # noqa: S608
                f"e.id = l.event_id WHERE e.detention_id BETWEEN {low} AND {high}) TO STDOUT"
            )
            with conn.cursor().copy(query) as copy:
                for data in copy:
                    leaves.write(data)
            part.append(("ledger_ledgerleaf", leaves.getvalue()))
            logs = io.BytesIO()
            query = (
                "COPY (SELECT a.* FROM core_accesslog a JOIN registry_detention d ON d.folio = "  # noqa: S608
                f"a.folio WHERE d.id BETWEEN {low} AND {high} AND a.action = "
                "'detention.register') TO STDOUT"
            )
            with conn.cursor().copy(query) as copy:
                for data in copy:
                    logs.write(data)
            part.append(("core_accesslog", logs.getvalue()))
            bodies.append(part)
        names = [name for name, _ in bodies[0]]
        for name in names:
            conn.execute(f'DROP TABLE IF EXISTS "bench_copy_{name}"')
            conn.execute(f'CREATE TABLE "bench_copy_{name}" (LIKE "{name}" INCLUDING ALL)')
    copied = 0
    with psycopg.connect(url) as conn:
        began = time.perf_counter()
        for part in bodies:
            with conn.transaction():
                for name, body in part:
                    with conn.cursor().copy(f'COPY "bench_copy_{name}" FROM STDIN') as copy:
                        copy.write(body)
                    copied += body.count(b"\n")
        seconds = time.perf_counter() - began
    with psycopg.connect(url, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP TABLE "bench_copy_{name}"')
    return seconds, copied


def timed_import(actor: Any, data: list[dict[str, Any]], workers: int) -> float:
    """Seconds to import ``data`` (every row must be created)."""
    from custodia.core.models import Channel
    from custodia.registry import imports

    began = time.perf_counter()
    summary = imports.Summary()
    for result in imports.import_rows(
        actor=actor, rows=enumerate(data, start=1), channel=Channel.CLI, workers=workers
    ):
        summary.add(result)
    seconds = time.perf_counter() - began
    assert summary.created == len(data), summary.as_dict()
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument(
        "--workers", type=int, default=min(os.cpu_count() or 1, 8), help="as the CLI's default"
    )
    parser.add_argument("--server", default=DEFAULT_SERVER)
    args = parser.parse_args(argv)
    code = Provenance.now()
    with fresh_environment(args.server, keep=False) as env:
        from custodia.core.models import User
        from custodia.registry import demo, imports

        demo.ensure_users(demo.ensure_institutions())
        actor = User.objects.select_related("institution").get(username="captura")
        data = rows(args.rows)
        json.dumps(data[0])  # the rows are plain JSON, as a file or a request would give them
        ours_s = timed_import(actor, data, args.workers)
        ours = args.rows / ours_s
        say(f"import ({args.workers} processes): {ours:,.0f} rows/s; COPY of the same rows …")
        copy_s, copied = copy_baseline(env.url, imports.CHUNK)
        baseline = args.rows / copy_s
        ratio = ours / baseline
        say("the same import in one process …")
        single_s = timed_import(actor, rows(args.rows, seed=2, prefix="UNO"), 1)
        single = args.rows / single_s
        result_rows = [
            Row(f"bulk import, {args.rows:,} rows, {args.workers} processes (validation, "
                "ledger, index, counts)",
                f"{ours:,.0f} rows/s ({ours_s:,.1f} s)",
                f"COPY of the {copied:,} rows it wrote, one connection: {baseline:,.0f} "
                f"detentions/s ({copy_s:,.1f} s)", f"{ratio:.2f}", "≥ 0.25", ratio >= 0.25),
            Row(f"the same, {args.rows:,} other rows, one process",
                f"{single:,.0f} rows/s ({single_s:,.1f} s)", "the same COPY",
                f"{single / baseline:.2f}", "reported", None),
        ]  # fmt: skip
        write_results(
            f"bulk-import-{args.rows}",
            "Bulk import against COPY",
            f"`python -m benchmarks.bulk_import --rows {args.rows} --workers {args.workers}`.",
            result_rows,
            [],
            env.url,
            code,
        )


if __name__ == "__main__":
    main()
