"""The whole benchmark suite in one command (issue 7): every scenario at one SCALE, each in its own
process and its own throw-away database, then one table of our figure, the baseline measured in
the same run and the ratio, written to ``benchmarks/results/<date>.md``.

    make bench SCALE=1000000        # python -m benchmarks.suite --scale 1000000

SCALE is the number of detentions of the synthetic nation and of the monthly report's
database, and the number of ledger leaves; the people of the name search are SCALE / 2 (with a
tenth of them held), the rows of the bulk import SCALE / 50 (at most 200,000). Registration
through the API runs for a fixed time, whatever the scale.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from benchmarks.common import results_dir, run_date

# --quick: every scenario, briefly (the smoke test that keeps the suite runnable; its figures
# mean nothing). Extra arguments per scenario.
QUICK = {
    "registration": ["--duration", "2"],
    "public search": ["--targets", "100", "--official", "50"],
    "monthly report": ["--runs", "1", "--no-comparisons"],
    "ledger": ["--proofs", "50", "--rows", "50", "--record-rows", "10", "--repeats", "1"],
}


def scenarios(scale: int, quick: bool = False) -> list[tuple[str, list[str], str]]:
    """(name, module arguments, results file the module writes)."""
    found = _scenarios(scale)
    if not quick:
        return found
    return [
        (name, [*module, *QUICK.get(name, [])], result.replace("-8x30s", "-8x2s"))
        for name, module, result in found
    ]


def _scenarios(scale: int) -> list[tuple[str, list[str], str]]:
    today = f"{run_date():%Y-%m-%d}"
    results = results_dir()
    people = max(10_000, scale // 2)
    rows = max(2_000, min(200_000, scale // 50))
    size = _scale_name(scale)
    return [
        ("registration", ["benchmarks.registration"], f"{today}-registration-8x30s.md"),
        (
            "bulk import",
            ["benchmarks.bulk_import", "--rows", str(rows)],
            f"{today}-bulk-import-{rows}.md",
        ),
        ("synth", ["benchmarks.synth", "--detentions", str(scale)], f"{today}-synth-{scale}.md"),
        (
            "public search",
            ["benchmarks.search", "--people", str(people), "--held", str(people // 10),
             "--output", str(results / f"{today}-search-suite.md")],
            f"{today}-search-suite.md",
        ),
        (
            "monthly report",
            ["benchmarks.reports", "--detentions", str(scale)],
            f"{today}-reports-{size}.md",
        ),
        (
            "ledger",
            ["benchmarks.ledger", "--scale", str(scale),
             "--output", str(results / f"{today}-ledger-suite.md")],
            f"{today}-ledger-suite.md",
        ),
    ]  # fmt: skip


def _scale_name(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def table_rows(text: str) -> list[str]:
    """The data rows of the first Markdown table with a "Ratio" column."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|") and "Ratio" in line:
            out = []
            for row in lines[i + 2 :]:
                if not row.startswith("|"):
                    break
                out.append(row)
            return out
    return []


def machine_section(text: str) -> list[str]:
    lines = text.splitlines()
    if "## Machine" not in lines:
        return []
    start = lines.index("## Machine")
    out = []
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        out.append(line)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=1_000_000)
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument(
        "--quick", action="store_true", help="every scenario briefly: a trial run, not figures"
    )
    args = parser.parse_args(argv)
    # One date for the whole run, whatever the clock says when each scenario ends.
    os.environ.setdefault("CUSTODIA_BENCH_DATE", run_date().isoformat())
    wanted = {w.strip() for w in args.only.split(",") if w.strip()}
    rows: list[str] = []
    notes: list[str] = []
    machine: list[str] = []
    failed: list[str] = []
    for name, module, result in scenarios(args.scale, args.quick):
        if wanted and name not in wanted:
            continue
        print(f"== {name}: python -m {' '.join(module)}", file=sys.stderr, flush=True)
        began = time.monotonic()
        done = subprocess.run([sys.executable, "-m", *module], check=False)
        minutes = (time.monotonic() - began) / 60
        path = results_dir() / result
        if done.returncode != 0 or not path.exists():
            notes.append(f"- {name}: **failed** (exit {done.returncode}) after {minutes:.0f} min")
            failed.append(name)
            continue
        text = path.read_text(encoding="utf-8")
        found = table_rows(text)
        rows.extend(found)
        machine = machine or machine_section(text)
        notes.append(f"- {name}: {len(found)} row(s) in {minutes:.0f} min, details in `{result}`")
    header = "| Scenario | Our figure | Baseline | Ratio | Target | Met? |\n" + "|---" * 6 + "|"
    text = "\n".join(
        [
            f"# Benchmark suite — {run_date():%Y-%m-%d}, SCALE={args.scale:,}",
            "",
            f"Command: `make bench SCALE={args.scale}`. Each scenario ran in its own process "
            "and database, its baseline measured in the same run.",
            "",
            header,
            *rows,
            "",
            "## Scenarios",
            "",
            *notes,
            "",
            "## Machine",
            *machine,
        ]
    )
    out = results_dir() / f"{run_date():%Y-%m-%d}.md"
    out.write_text(text + "\n", encoding="utf-8")
    print(text)
    if failed:
        sys.exit(f"{len(failed)} scenario(s) failed: {', '.join(failed)} (see above)")


if __name__ == "__main__":
    main()
