"""`custodia synth` against a bare COPY of the same rows, measured in the same run (issue 7).

1. ``synth.load`` fills a fresh database: the nation, then every chunk's detentions, people,
   officers, holders, events, ledger leaves and nodes, then the zero reports, through COPY with
   the generator in a second process, into the tables without their secondary indexes and
   foreign keys, which are then built again. Our figure is that whole write phase, rebuilding
   included (rows and detentions per second); the derived steps after it (name index, report
   counts, ANALYZE) are shown apart.
2. The same seed generates the same rows again, untimed, spooled to a file as COPY bodies.
3. The baseline COPYs those bodies, chunk by chunk in the same transactions, into empty copies
   of the same tables (``CREATE TABLE … (LIKE … INCLUDING ALL)``: the same columns, defaults and
   indexes, no foreign keys and no triggers), with nothing else running: the rate at which this
   server stores these rows at all.

Target: synth ≥ 50 % of the baseline's rate.

    python -m benchmarks.synth --detentions 1000000
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import (
    DEFAULT_SERVER,
    Provenance,
    Row,
    fresh_environment,
    say,
    write_results,
)

SEED = 1
START, END = date(2023, 11, 1), date(2026, 11, 1)
NOW = datetime(2026, 11, 2, tzinfo=UTC)


def spool(nation: Any, count: int, chunk: int, path: Path) -> int:
    """The same rows as the load (the same batches, from the same seed), as COPY bodies,
    pickled one batch after another. Returns their size in bytes."""
    from custodia.core import bulk
    from custodia.synth.load import batches

    size = 0
    with path.open("wb") as out:
        for _, tables in batches(nation, count, SEED, START, END, NOW, chunk):
            bodies = [(label, bulk.copy_text(rows)) for label, _, rows in tables]
            size += sum(len(b) for _, b in bodies)
            pickle.dump(bodies, out, protocol=pickle.HIGHEST_PROTOCOL)
    return size


def bare_copy(path: Path) -> tuple[float, int]:
    """COPY the spooled bodies into empty LIKE copies of the tables; (seconds, bytes)."""
    from django.apps import apps
    from django.db import connection, transaction

    from custodia.synth import generate

    fields = {label: f for label, f, _ in generate.Chunk().tables()}
    fields["reports.ZeroReport"] = generate.ZERO_REPORT_FIELDS
    names = {}
    with connection.cursor() as cursor:
        for label in fields:
            table_name = apps.get_model(label)._meta.db_table
            copy = f"bench_bare_{table_name}"
            cursor.execute(f'DROP TABLE IF EXISTS "{copy}"')
            cursor.execute(f'CREATE TABLE "{copy}" (LIKE "{table_name}" INCLUDING ALL)')
            names[label] = copy
    statements = {}
    for label, copy in names.items():
        model = apps.get_model(label)
        columns = ", ".join(f'"{model._meta.get_field(f).column}"' for f in fields[label])
        statements[label] = f'COPY "{copy}" ({columns}) FROM STDIN'
    total = 0
    seconds = 0.0
    with path.open("rb") as source:
        while True:
            try:
                bodies = pickle.load(source)  # noqa: S301 - our own file, written just above
            except EOFError:
                break
            began = time.perf_counter()
            with transaction.atomic(), connection.cursor() as cursor:
                for label, body in bodies:
                    if body:
                        with cursor.cursor.copy(statements[label]) as copy:
                            copy.write(body)
                        total += len(body)
            seconds += time.perf_counter() - began
    with connection.cursor() as cursor:
        for copy in names.values():
            cursor.execute(f'DROP TABLE "{copy}"')
    return seconds, total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--detentions", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=10_000)
    parser.add_argument("--server", default=DEFAULT_SERVER)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    code = Provenance.now()
    with fresh_environment(args.server, keep=args.keep) as env:
        from tqdm import tqdm

        from custodia.synth import load
        from custodia.synth.nation import build_nation

        with tqdm(total=args.detentions, desc="synth", unit="det") as bar:
            loaded = load.load(
                args.detentions, SEED, START, END, chunk_size=args.chunk, now=NOW,
                progress=bar.update, say=bar.write,
            )  # fmt: skip
        ours_rate = loaded.rows / loaded.copy_seconds
        say(f"synth: {loaded.rows:,} rows in {loaded.copy_seconds:.1f} s ({ours_rate:,.0f}/s)")
        # The nation is rebuilt from the database as the load left it (same pks), and the rows
        # regenerated from the same seed.
        from django.db import transaction

        from custodia.core.models import Institution

        with transaction.atomic():
            sid = transaction.savepoint()
            nation = build_nation(SEED, START, END)  # reuses the rows by code
            transaction.savepoint_rollback(sid)
        assert Institution.objects.count() >= len(nation.code_of)
        with tempfile.TemporaryDirectory(prefix="custodia-synth-") as folder:
            path = Path(folder) / "rows.pickle"
            say("spooling the same rows …")
            spooled = spool(nation, args.detentions, args.chunk, path)
            say(f"spooled {spooled / 1e9:.2f} GB of COPY text; bare COPY …")
            bare_seconds, copied = bare_copy(path)
        assert copied == spooled
        bare_rate = loaded.rows / bare_seconds
        ratio = ours_rate / bare_rate
        rows = [
            Row(
                f"custodia synth, {args.detentions:,} detentions (all tables, COPY)",
                f"{ours_rate:,.0f} rows/s ({loaded.detentions / loaded.copy_seconds:,.0f} det/s,"
                f" {loaded.copy_seconds:,.0f} s)",
                f"bare COPY of the same rows: {bare_rate:,.0f} rows/s ({bare_seconds:,.0f} s)",
                f"{ratio:.2f}",
                "≥ 0.50",
                ratio >= 0.5,
            )
        ]
        by_table = ", ".join(f"{k} {v:,}" for k, v in loaded.rows_by_table.items())
        parts = ", ".join(f"{name} {seconds:,.0f} s" for name, seconds in loaded.parts.items())
        derived = ", ".join(f"{name} {seconds:,.0f} s" for name, seconds in loaded.steps.items())
        write_results(
            f"synth-{args.detentions}",
            "custodia synth against a bare COPY",
            f"`python -m benchmarks.synth --detentions {args.detentions}`. Database "
            f"`{env.name}` on {env.server}.",
            rows,
            [
                f"Rows by table: {by_table}.",
                f"Our write phase (the rate's time): {parts}.",
                f"After it (not in the rate): {derived}.",
            ],
            env.url,
            code,
        )


if __name__ == "__main__":
    main()
