"""Benchmark of the monthly report (issue 6) on a synthetic nation in PostgreSQL.

Loads ``--detentions`` detentions (``custodia synth``: 40 months, every state and its
municipal police), counts the rollup with the shipped ``rollup.rebuild``, then measures, for one
month, against baselines timed in the same run:

- the national report (JSON) against one hand-written SQL aggregate of the month's rows by state
  (count, median registration delay, share registered within 60 min), with an index on the
  detention time;
- state reports (JSON) against a one-second target; the other formats, for information;
- the peak memory of a fresh process that builds every report in every format;
- DuckDB over the same rows exported to Parquet (the analytic limit) and pandas over a CSV export
  of the month (what analysts use today), computing the same aggregate.

The load takes about 80 minutes at 10 million on 2 cores; ``--database NAME`` keeps it for the
next run (``--keep`` semantics) and reuses it when it exists.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks.common import (
    DEFAULT_SERVER,
    ROOT,
    Provenance,
    Row,
    database_url,
    fresh_environment,
    machine,
    results_dir,
    run_date,
    say,
    table,
)

START, END = date(2023, 8, 1), date(2026, 12, 1)  # the synthetic nation's 40 months
NOW = datetime(2026, 12, 2, tzinfo=UTC)  # the load's "now": later events are not there yet
MONTH = (2026, 10)
# The baseline's index on the detention time: covering, so that the month is read from the
# index alone (a plain index on detained_at made the same aggregate take 1.3 s here).
BASELINE_INDEX = "bench_detention_time_covering"


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def baseline_sql(year: int, month: int, local: bool = True) -> list[tuple[Any, ...]]:
    """The hand-written aggregate: the month's rows by state: count, median registration
    delay, share registered within 60 minutes. ``local``: the month in each detention's local
    time, as the report counts it; otherwise the naive UTC month (Mexico City's bounds), which
    puts detentions near midnight in the wrong month elsewhere."""
    from django.db import connection

    from custodia.reports.monthly import month_window

    if local:
        start, end = month_window(year, month)
        where = "AND date_trunc('month', detained_at AT TIME ZONE place_timezone) = %s"
        params = [start, end, datetime(year, month, 1)]
    else:
        start, end = (
            datetime(y, m, 1, tzinfo=ZoneInfo("America/Mexico_City"))
            for y, m in ((year, month), rollup_next_month(year, month))
        )
        where, params = "", [start, end]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT state_id, count(*),
                   percentile_disc(0.5) WITHIN GROUP (ORDER BY registered_at - detained_at),
                   avg((registered_at - detained_at <= interval '60 minutes')::int)
            FROM registry_detention
            WHERE detained_at >= %s AND detained_at < %s {where}
            GROUP BY state_id ORDER BY state_id
            """,  # noqa: S608 - our own clause
            params,
        )
        return cursor.fetchall()


def rollup_next_month(year: int, month: int) -> tuple[int, int]:
    from custodia.reports.rollup import next_month

    return next_month(year, month)


def vacuum_analyze(table: str = "") -> None:
    """Statistics for the planner and the visibility map for index-only scans, as autovacuum
    would set them on a live server some time after a bulk load."""
    from django.db import connection

    say(f"VACUUM ANALYZE {table}")
    assert connection.get_autocommit()  # VACUUM runs outside a transaction
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table}")


def national_json(year: int, month: int) -> str:
    from custodia.reports import formats, monthly

    return formats.as_json(monthly.monthly(year, month, None))


def state_json(year: int, month: int, state: str) -> str:
    from custodia.reports import formats, monthly

    return formats.as_json(monthly.monthly(year, month, state))


def interleaved(
    runs: int, ours: Callable[[], Any], baseline: Callable[[], Any]
) -> tuple[list[float], list[float]]:
    """Alternate which goes first, after one warm-up of each; wall times in seconds."""
    ours(), baseline()
    mine: list[float] = []
    theirs: list[float] = []
    for i in range(runs):
        pair = [(mine, ours), (theirs, baseline)]
        for times, fn in pair if i % 2 == 0 else reversed(pair):
            times.append(timed(fn)[0])
    return mine, theirs


def memory_probe(year: int, month: int, states: list[str]) -> None:
    """In a fresh process (``--memory-probe``): every report in every format; prints the peak
    resident set in MB, and that of the same process after ``django.setup()`` alone."""
    import django

    django.setup()
    from custodia.reports import formats, monthly

    before = peak_rss_mb()
    for state in [None, *states]:
        report = monthly.monthly(year, month, state)
        for fmt in formats.FORMATS:
            formats.render(report, fmt)
    print(json.dumps({"setup_mb": before, "peak_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM), in MB. Not ``ru_maxrss``: that one survives
    exec, so a probe started from a large parent would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


def export(url: str, folder: Path, year: int, month: int) -> dict[str, Any]:
    """The analysts' files: every detention to Parquet (through a CSV that DuckDB converts) and
    the month's rows to CSV, with the local month already computed (as an export would)."""
    import duckdb
    import psycopg

    from custodia.reports.monthly import month_window

    columns = (
        "state_id, detained_at, registered_at, "
        "to_char(detained_at AT TIME ZONE place_timezone, 'YYYYMM')::int AS local_month"
    )
    everything, month_csv = folder / "detenciones.csv", folder / "mes.csv"
    start, end = month_window(year, month)
    out: dict[str, Any] = {}
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
        t0 = time.perf_counter()
        with (
            everything.open("wb") as f,
            cursor.copy(
                f"COPY (SELECT {columns} FROM registry_detention) TO STDOUT WITH CSV HEADER"  # noqa: S608
            ) as copy,
        ):
            for data in copy:
                f.write(data)
        out["csv_export_s"] = time.perf_counter() - t0
        query = (
            f"COPY (SELECT {columns} FROM registry_detention WHERE detained_at >= "  # noqa: S608
            f"'{start.isoformat()}' AND detained_at < '{end.isoformat()}') "
            "TO STDOUT WITH CSV HEADER"
        )
        with month_csv.open("wb") as f, cursor.copy(query) as copy:
            for data in copy:
                f.write(data)
    t0 = time.perf_counter()
    duck = duckdb.connect()
    duck.execute(
        f"COPY (SELECT * FROM read_csv('{everything}', "  # noqa: S608 - our own file names
        "timestampformat='%Y-%m-%d %H:%M:%S%z')) "
        f"TO '{folder / 'detenciones.parquet'}' (FORMAT parquet)"
    )
    out["parquet_s"] = time.perf_counter() - t0
    out["parquet_mb"] = (folder / "detenciones.parquet").stat().st_size / 1e6
    out["month_csv_mb"] = month_csv.stat().st_size / 1e6
    everything.unlink()
    return out


def duckdb_query(folder: Path, year: int, month: int) -> Callable[[], list[tuple[Any, ...]]]:
    import duckdb

    duck = duckdb.connect()
    parquet = folder / "detenciones.parquet"
    sql = (
        "SELECT state_id, count(*), quantile_disc(epoch(registered_at - detained_at), 0.5), "  # noqa: S608
        "avg(CASE WHEN registered_at - detained_at <= INTERVAL 60 MINUTE THEN 1 ELSE 0 END) "
        f"FROM '{parquet}' WHERE local_month = {year * 100 + month} "
        "GROUP BY state_id ORDER BY state_id"
    )
    return lambda: duck.execute(sql).fetchall()


def pandas_query(folder: Path, year: int, month: int) -> Callable[[], Any]:
    import pandas as pd

    def run() -> Any:
        rows = pd.read_csv(folder / "mes.csv", parse_dates=["detained_at", "registered_at"])
        rows = rows[rows["local_month"] == year * 100 + month]
        delay = (rows["registered_at"] - rows["detained_at"]).dt.total_seconds() / 60
        grouped = rows.assign(delay=delay, within=delay <= 60).groupby("state_id")
        return grouped.agg(
            n=("delay", "size"), median=("delay", "median"), within=("within", "mean")
        )

    return run


def milliseconds(runs: list[float]) -> str:
    return ", ".join(f"{x * 1000:.0f}" for x in runs)


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def report(
    args: argparse.Namespace, env_url: str, code: Provenance, figures: dict[str, Any]
) -> str:
    rows: list[Row] = []
    f = figures
    ratio = f["national_s"] / f["baseline_s"]
    # Issue 6 states the target on 10 million detentions. The report reads counts, not rows,
    # so its time hardly depends on the scale while the aggregate's does: on a smaller registry
    # the ratio says little, and is shown without a verdict.
    at_scale = args.detentions == 10_000_000
    rows.append(
        Row(
            "National report, JSON (median of runs)",
            fmt_ms(f["national_s"]),
            f"SQL aggregate, local months {fmt_ms(f['baseline_s'])}",
            f"{ratio:.2f}x",
            "≤ 2x" if at_scale else f"≤ 2x at 10 M (run at {args.detentions:,})",
            ratio <= 2 if at_scale else None,
        )
    )
    rows.append(
        Row(
            "National report against the naive aggregate (UTC month: wrong at the edges)",
            fmt_ms(f["national_s"]),
            f"SQL aggregate {fmt_ms(f['naive_s'])}",
            f"{f['national_s'] / f['naive_s']:.2f}x",
            "—",
            None,
        )
    )
    for state, seconds in f["states_s"].items():
        rows.append(
            Row(
                f"State report {state}, JSON",
                fmt_ms(seconds),
                "1 s",
                f"{seconds:.2f}x",
                "≤ 1 s",
                seconds <= 1,
            )
        )
    for fmt, seconds in f["formats_s"].items():
        rows.append(
            Row(
                f"National report, {fmt.upper()}",
                fmt_ms(seconds),
                f"JSON {fmt_ms(f['national_s'])}",
                f"{seconds / f['national_s']:.2f}x",
                "—",
                None,
            )
        )
    memory = f["memory"]
    rows.append(
        Row(
            "Peak memory, every report in every format (fresh process)",
            f"{memory['peak_mb']:.0f} MB",
            f"after django.setup() {memory['setup_mb']:.0f} MB",
            "—",
            "≤ 500 MB",
            memory["peak_mb"] <= 500,
        )
    )
    if "duckdb_s" in f:
        rows.append(
            Row(
                "DuckDB over Parquet (all rows), same aggregate",
                fmt_ms(f["duckdb_s"]),
                f"SQL aggregate {fmt_ms(f['baseline_s'])}",
                f"{f['duckdb_s'] / f['baseline_s']:.2f}x",
                "analytic limit",
                None,
            )
        )
        rows.append(
            Row(
                "pandas over the month's CSV, same aggregate",
                fmt_ms(f["pandas_s"]),
                f"SQL aggregate {fmt_ms(f['baseline_s'])}",
                f"{f['pandas_s'] / f['baseline_s']:.2f}x",
                "what analysts use",
                None,
            )
        )
    year, month = MONTH
    lines = [
        f"# Monthly report benchmark — {run_date().isoformat()}",
        "",
        f"Command: `python -m benchmarks.reports --detentions {args.detentions} --runs {args.runs}`"
        f" · month {year:04d}-{month:02d} · {f['month_rows']:,} detentions in the month, "
        f"{f['detentions']:,} in all, {f['events']:,} custody events, "
        f"{f['institutions']:,} institutions.",
        "",
        table(rows),
        "",
        "## Machine",
        "",
        *(f"- {k}: {v}" for k, v in machine(env_url, code)),
        "",
        "## Details",
        "",
        f"- Rollup: {f['rollup']} (`custodia report rollup --rebuild`: "
        f"{f['rebuild_s']:.0f} s for the whole registry, when it was counted in this run).",
        f"- Rows read by the national report: {f['national_counts']:,} counts of the month "
        "(plus the previous month and the same month a year before, for the trends).",
        f"- Baseline and ours agree: {f['agree']}.",
        f"- Runs: {args.runs} of each, alternating which goes first; every figure is the median.",
        f"- All runs, national JSON (ms): {milliseconds(f['national_all'])}",
        f"- All runs, SQL aggregate (ms): {milliseconds(f['baseline_all'])}",
    ]
    if "export" in f:
        e = f["export"]
        lines += [
            f"- Export for the comparisons: CSV of every detention {e['csv_export_s']:.0f} s, "
            f"converted to Parquet by DuckDB in {e['parquet_s']:.0f} s ({e['parquet_mb']:.0f} MB);"
            f" the month's CSV is {e['month_csv_mb']:.0f} MB. pandas's time includes reading it.",
        ]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--detentions", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=9, help="timed runs of each (9)")
    parser.add_argument(
        "--server", default=os.environ.get("CUSTODIA_BENCH_POSTGRES", DEFAULT_SERVER)
    )
    parser.add_argument(
        "--database", default=None, help="keep this database, or reuse it if it exists"
    )
    parser.add_argument("--load-only", action="store_true", help="load (and count) and stop")
    parser.add_argument("--no-comparisons", action="store_true", help="skip DuckDB and pandas")
    parser.add_argument(
        "--output",
        default=None,
        help="report file (default benchmarks/results/<date>-reports-<n>.md; - for stdout)",
    )
    parser.add_argument("--memory-probe", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def scale_name(n: int) -> str:
    return f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    year, month = MONTH
    if args.memory_probe:
        memory_probe(year, month, json.loads(os.environ["CUSTODIA_BENCH_STATES"]))
        return
    code = Provenance.now()
    with fresh_environment(args.server, keep=bool(args.database), name=args.database) as env:
        from django.db import connection
        from tqdm import tqdm

        from custodia.core.models import Institution
        from custodia.registry.models import CustodyEvent, Detention
        from custodia.reports import rollup
        from custodia.reports.models import DetentionFact, StateMonthCount
        from custodia.synth import load as synth

        figures: dict[str, Any] = {}
        have = Detention.objects.count()
        if have == 0:
            with tqdm(total=args.detentions, desc="detenciones", unit="det") as bar:
                seconds, _ = timed(
                    lambda: synth.load(
                        args.detentions, args.seed, START, END, now=NOW, progress=bar.update
                    )
                )
            say(f"loaded {args.detentions:,} detentions in {seconds:.0f} s")
        elif have != args.detentions:
            raise SystemExit(f"{args.database} holds {have:,} detentions, not {args.detentions:,}")
        figures["rebuild_s"] = 0.0
        if not rollup.is_current() or DetentionFact.objects.count() != args.detentions:
            vacuum_analyze()  # as autovacuum would after a load, before anything reads it
            total = args.detentions + CustodyEvent.objects.count()
            with tqdm(total=total, desc="rollup", unit="reg") as bar:
                figures["rebuild_s"], _ = timed(lambda: rollup.rebuild(bar.update))
            figures["rollup"] = "counted in this run"
            vacuum_analyze()
        else:
            figures["rollup"] = "counted by an earlier run on the same database"
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {BASELINE_INDEX} ON registry_detention "
                "(detained_at) INCLUDE (state_id, registered_at, place_timezone)"
            )
            cursor.execute("DROP INDEX IF EXISTS bench_detention_time")  # an earlier run's
        vacuum_analyze("registry_detention")  # the new index's visibility map
        if args.load_only:
            return
        figures["detentions"] = args.detentions
        figures["events"] = CustodyEvent.objects.count()
        figures["institutions"] = Institution.objects.count()
        key = rollup.month_key(year, month)
        figures["national_counts"] = StateMonthCount.objects.filter(month=key).count()
        baseline_rows = baseline_sql(year, month)
        figures["month_rows"] = sum(r[1] for r in baseline_rows)
        from custodia.reports import monthly

        national = monthly.monthly(year, month, None)
        counted = {i["key"]: i["count"] for i in national["volume"]["by_state"]}
        medians = national["timeliness"]["by_state"]
        agree = all(
            counted.get(state) == n
            and medians[state]["registration"]["median_minutes"] == rollup.delay_bucket(median)
            for state, n, median, _ in baseline_rows
        )
        figures["agree"] = (
            "same detentions per state, and every state's median registration delay in the "
            "same bucket (docs/reports.md)"
            if agree
            else "NO — the report and the aggregate differ"
        )
        say(f"month {year}-{month:02d}: {figures['month_rows']:,} detentions; timing")
        mine, theirs = interleaved(
            args.runs, lambda: national_json(year, month), lambda: baseline_sql(year, month)
        )
        figures["national_s"], figures["baseline_s"] = (
            statistics.median(mine),
            statistics.median(theirs),
        )
        figures["national_all"], figures["baseline_all"] = mine, theirs
        say(f"national JSON {milliseconds(mine)} ms; SQL aggregate {milliseconds(theirs)} ms")
        figures["naive_s"] = statistics.median(
            timed(lambda: baseline_sql(year, month, local=False))[0] for _ in range(args.runs)
        )
        by_size = sorted(counted, key=lambda s: -counted[s])
        # The most detentions, the most institutions (Oaxaca: 570 municipalities), a middle
        # one, and Tlaxcala.
        states = [by_size[0], "20", by_size[len(by_size) // 2], "29"]
        figures["states_s"] = {}
        for state in dict.fromkeys(states):
            state_json(year, month, state)
            figures["states_s"][state] = statistics.median(
                timed(lambda s=state: state_json(year, month, s))[0] for _ in range(args.runs)
            )
            say(f"state {state}: {fmt_ms(figures['states_s'][state])}")
        from custodia.reports import formats

        figures["formats_s"] = {}
        for fmt in ("csv", "xlsx", "pdf"):
            figures["formats_s"][fmt] = statistics.median(
                timed(lambda f=fmt: formats.render(monthly.monthly(year, month, None), f))[0]
                for _ in range(3)
            )
        say("memory probe")
        probe = subprocess.run(
            [sys.executable, "-m", "benchmarks.reports", "--memory-probe"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=os.environ | {"CUSTODIA_BENCH_STATES": json.dumps(list(dict.fromkeys(states)))},
        )
        if probe.returncode:
            raise SystemExit(f"memory probe failed:\n{probe.stderr}")
        figures["memory"] = json.loads(probe.stdout.strip().splitlines()[-1])
        if not args.no_comparisons:
            with tempfile.TemporaryDirectory(prefix="custodia-bench-") as tmp:
                folder = Path(tmp)
                say("export for DuckDB and pandas")
                figures["export"] = export(database_url(args.server, env.name), folder, year, month)
                duck = duckdb_query(folder, year, month)
                panda = pandas_query(folder, year, month)
                duck(), panda()
                figures["duckdb_s"] = statistics.median(timed(duck)[0] for _ in range(args.runs))
                figures["pandas_s"] = statistics.median(timed(panda)[0] for _ in range(3))
        text = report(args, env.url, code, figures)
    out = args.output or str(
        ROOT / results_dir() / f"{run_date().isoformat()}-reports-{scale_name(args.detentions)}.md"
    )
    if out == "-":
        print(text)
    else:
        Path(out).write_text(text, encoding="utf-8")
        say(f"written {out}")
    print(text)


if __name__ == "__main__":
    main()
