"""Benchmark of the name search (issue 5): accuracy on a generated evaluation set and speed,
each against baselines measured in the same run on the same data.

- Public consultation (``lookup.public.search``, held people only): recall@1, recall@5 and
  false positives per query, overall and per kind of variation; p50/p95 latency in process
  (server side: the index lookups, scoring, the public rows and the access-log write).
- Baselines on PostgreSQL: a plain pg_trgm search (``name % query ORDER BY similarity``, GIN
  index, thresholds 0.3 and 0.5) over the same held people's names, folded the same way; and an
  exact B-tree lookup of the typed name.
- Officials' search (``lookup.official.search``, national scope, the whole history): latency and
  recall@5 on a sample.

PostgreSQL (default) runs in a throw-away database; ``--backend sqlite`` in a temporary file.
``make bench-search [PEOPLE=… HELD=…]`` or ``python -m benchmarks.search --help``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .common import (
    DEFAULT_SERVER,
    Environment,
    Provenance,
    Row,
    fresh_environment,
    machine,
    quantile,
    results_dir,
    run_date,
    say,
    table,
)
from .name_eval import KINDS, EvaluationSet, Person, Query, ceiling, evaluation_set, plain

RECALL5_TARGET = 0.98
P95_TARGET_MS = 25.0
SPEEDUP_TARGET = 5.0
PURPOSE = "Evaluación de la búsqueda (benchmark)"


# --- loading ----------------------------------------------------------------------------------


def load(ev: EvaluationSet) -> dict[str, float]:
    """The population as detentions with their people (bulk, like the synthetic loads), then the
    name index through the shipped ``lookup.index.rebuild``."""
    from django.db import transaction
    from tqdm import tqdm

    from custodia.core import bulk
    from custodia.core.models import Institution, InstitutionKind, Role, State, User
    from custodia.lookup.index import rebuild
    from custodia.lookup.models import NameEntry, NameKey, NameVariant
    from custodia.registry.folio import ALPHABET, new_folio
    from custodia.registry.models import DetainedPerson, Detention

    states = {s.code: s for s in State.objects.all()}
    police = {
        code: Institution.objects.create(
            code=f"sspe-{code}",
            name=f"Secretaría de Seguridad Pública de {state.name}",
            kind=InstitutionKind.POLICE_STATE,
            state=state,
        )
        for code, state in states.items()
    }
    user = User.objects.create_user("bench", password=None, role=Role.CAPTURE)
    now = datetime.now(UTC)

    def random_part(i: int) -> str:
        digits = []
        for _ in range(8):
            i, r = divmod(i, len(ALPHABET))
            digits.append(ALPHABET[r])
        return "".join(reversed(digits))

    def detentions() -> Iterator[tuple[Any, ...]]:
        for i, p in enumerate(ev.people):
            inst = police[p.state]
            detained = now - timedelta(hours=2 + i % 5000)
            yield (
                i + 1,
                new_folio(p.state, 2026, random_part(i)),
                "",
                None,
                None,
                states[p.state].timezone,
                detained,
                detained + timedelta(minutes=15),
                "flagrante",
                "evaluación",
                "public_prosecutor",
                "Ministerio Público",
                "",
                "",
                "",
                False,
                "[]",
                "in_police_custody" if p.held else "released",
                inst.name if p.held else "En libertad",
                "",
                detained,
                1,
                inst.pk,
                inst.pk,
                None,
                None,
                user.pk,
                p.state,
                "",
                "{}",
                "",
            )

    def people() -> Iterator[tuple[Any, ...]]:
        for i, p in enumerate(ev.people):
            yield (
                i + 1, i + 1, p.state, p.given, p.first, p.second, "", p.sex, p.age, None, "",
                "", "", "",
            )  # fmt: skip

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with transaction.atomic():
        bulk.insert_rows(
            Detention,
            DETENTION_FIELDS,
            tqdm(detentions(), total=len(ev.people), desc="detenciones", disable=None),
        )
        bulk.insert_rows(
            DetainedPerson,
            PERSON_FIELDS,
            tqdm(people(), total=len(ev.people), desc="personas", disable=None),
        )
    timings["detentions and people"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with transaction.atomic(), tqdm(total=len(ev.people), desc="índice", disable=None) as bar:
        rebuild(Detention, NameEntry, NameKey, NameVariant, progress=bar.update)
    timings["name index (lookup.index.rebuild)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    analyze()
    timings["statistics (ANALYZE; VACUUM and CHECKPOINT on PostgreSQL)"] = time.perf_counter() - t0
    return timings


DETENTION_FIELDS = (
    "id",
    "folio",
    "address",
    "latitude",
    "longitude",
    "place_timezone",
    "detained_at",
    "registered_at",
    "arrest_basis",
    "reason",
    "receiving_kind",
    "receiving_name",
    "contact_name",
    "contact_relationship",
    "contact_phone",
    "force_used",
    "warning_codes",
    "status",
    "current_authority",
    "current_location",
    "last_event_at",
    "version",
    "current_institution",
    "institution",
    "municipality",
    "receiving_institution",
    "registered_by",
    "state",
    "age_group",
    "custody_state",
    "legal_status",
)
PERSON_FIELDS = (
    "id",
    "detention",
    "state",  # the detention's, as on every large table (docs/citus.md)
    "given_names",
    "first_surname",
    "second_surname",
    "alias",
    "sex",
    "age",
    "birth_date",
    "curp",
    "nationality",
    "physical_condition",
    "distinguishing_marks",
)


def analyze() -> None:
    """Statistics for the planner; on PostgreSQL also VACUUM, which sets the visibility map
    that index-only scans need (autovacuum does it on a live server, late after a bulk load),
    and a CHECKPOINT, so that timing starts from a settled server rather than under the
    write-back of the load."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM (ANALYZE)")  # autocommit: Django runs outside transactions
            cursor.execute("CHECKPOINT")
        else:
            cursor.execute("ANALYZE")


# --- measuring ----------------------------------------------------------------------------------


@dataclass
class Accuracy:
    """Per kind of variation: how many queries, found first, found in the top 5, false
    positives (results that are not the person looked for), answers that asked to narrow."""

    queries: int = 0
    at1: int = 0
    at5: int = 0
    false_positives: int = 0
    narrowed: int = 0
    ceiling_sum: float = 0.0  # summed best expected recall@5 (name_eval.ceiling)
    identifiable: int = 0  # queries that at most five held people answer equally well
    identifiable_at5: int = 0

    def add(self, q: Query, ranked: list[int], narrowed: bool = False) -> None:
        found = q.target in ranked[:5]
        self.queries += 1
        self.at1 += bool(ranked) and ranked[0] == q.target
        self.at5 += found
        self.false_positives += sum(1 for r in ranked if r != q.target)
        self.narrowed += narrowed
        self.ceiling_sum += ceiling(q.namesakes)
        if q.namesakes <= 5:
            self.identifiable += 1
            self.identifiable_at5 += found

    def merge(self, other: Accuracy) -> None:
        for name in (
            "queries", "at1", "at5", "false_positives", "narrowed", "ceiling_sum", "identifiable",
            "identifiable_at5",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def recall1(self) -> float:
        return self.at1 / self.queries if self.queries else 0.0

    def recall5(self) -> float:
        return self.at5 / self.queries if self.queries else 0.0

    def fp(self) -> float:
        return self.false_positives / self.queries if self.queries else 0.0

    def best_recall5(self) -> float:
        return self.ceiling_sum / self.queries if self.queries else 0.0

    def identifiable_recall5(self) -> float:
        return self.identifiable_at5 / self.identifiable if self.identifiable else 0.0


@dataclass
class Measured:
    name: str
    accuracy: dict[str, Accuracy] = field(default_factory=lambda: defaultdict(Accuracy))
    ms: list[float] = field(default_factory=list)
    misses: dict[str, list[tuple[Query, list[int], bool]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    slowest: list[tuple[float, Query]] = field(default_factory=list)
    matching_ms: list[float] = field(default_factory=list)  # run_matching

    def overall(self) -> Accuracy:
        total = Accuracy()
        for acc in self.accuracy.values():
            total.merge(acc)
        return total


def run_public(queries: list[Query]) -> Measured:
    from custodia.lookup import public

    result = Measured("Custodia, consulta pública")
    result.slowest = []
    for q in queries[:50]:  # warm-up: connection, plans, caches
        public.search(
            public.PublicQuery(q.given_names, q.first_surname, q.second_surname), channel="api"
        )
    for q in queries:
        query = public.PublicQuery(q.given_names, q.first_surname, q.second_surname)
        t0 = time.perf_counter()
        answer = public.search(query, channel="api")
        result.ms.append((time.perf_counter() - t0) * 1e3)
        result.slowest.append((result.ms[-1], q))
        ranked = [pk - 1 for pk in answer.detention_ids]
        result.accuracy[q.kind].add(q, ranked, narrowed=not ranked and bool(answer.notice))
        if q.target not in ranked[:5]:
            result.misses[q.kind].append((q, ranked, not ranked and bool(answer.notice)))
    return result


def run_matching(queries: list[Query]) -> list[float]:
    """Milliseconds of the matching step alone (``lookup.search.find``: expansion, candidate
    ranking, names, scoring), the work the pg_trgm baseline does; without the public rows and
    the access-log write the full consultation adds."""
    from custodia.lookup import names, search

    times = []
    for q in queries:
        t0 = time.perf_counter()
        name = names.parse(q.given_names, q.first_surname, q.second_surname)
        search.find(name, held_only=True)
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def misses_text(m: Measured, people: list[Person], per_kind: int) -> list[str]:
    lines = []
    for kind in KINDS:
        for q, ranked, narrowed in m.misses.get(kind, [])[:per_kind]:
            typed = " · ".join(p for p in (q.given_names, q.first_surname, q.second_surname) if p)
            got = (
                "asked to narrow (too many equal matches)"
                if narrowed
                else ("nothing" if not ranked else "; ".join(people[i].full for i in ranked[:3]))
            )
            lines.append(f"- {kind}: typed «{typed}» for «{people[q.target].full}» → {got}")
    return lines


def run_trigram(queries: list[Query], threshold: float) -> Measured:
    from django.db import connection

    result = Measured(f"pg_trgm similarity ≥ {threshold}")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.similarity_threshold', %s, false)", [str(threshold)]
        )
        sql = (
            "SELECT id FROM bench_names WHERE name %% %s "
            "ORDER BY similarity(name, %s) DESC, id LIMIT 5"
        )
        for q in queries[:20]:
            text = typed_text(q)
            cursor.execute(sql, [text, text])
            cursor.fetchall()
        for q in queries:
            text = typed_text(q)
            t0 = time.perf_counter()
            cursor.execute(sql, [text, text])
            rows = cursor.fetchall()
            result.ms.append((time.perf_counter() - t0) * 1e3)
            result.accuracy[q.kind].add(q, [r[0] - 1 for r in rows])
    return result


def run_exact(queries: list[Query]) -> Measured:
    from django.db import connection

    result = Measured("B-tree, nombre exacto")
    with connection.cursor() as cursor:
        for q in queries:
            text = typed_text(q)
            t0 = time.perf_counter()
            cursor.execute("SELECT id FROM bench_names WHERE name = %s LIMIT 5", [text])
            rows = cursor.fetchall()
            result.ms.append((time.perf_counter() - t0) * 1e3)
            result.accuracy[q.kind].add(q, [r[0] - 1 for r in rows])
    return result


def run_official(queries: list[Query]) -> Measured:
    from custodia.core.models import Institution, InstitutionKind, Role, User
    from custodia.lookup import official

    secretariat = Institution.objects.create(
        code="st-bench", name="Secretaría Técnica", kind=InstitutionKind.SECRETARIAT
    )
    analyst = User.objects.create_user(
        "bench-national", password=None, role=Role.NATIONAL_ANALYST, institution=secretariat
    )
    result = Measured("Custodia, búsqueda de funcionarios (todo el historial)")
    for q in queries:
        query = official.OfficialQuery(
            given_names=q.given_names,
            first_surname=q.first_surname,
            second_surname=q.second_surname,
            purpose=PURPOSE,
        )
        t0 = time.perf_counter()
        hits, _ = official.search(analyst, query, channel="api")
        result.ms.append((time.perf_counter() - t0) * 1e3)
        result.accuracy[q.kind].add(q, [h.detention.pk - 1 for h in hits])
    return result


def typed_text(q: Query) -> str:
    """The query as one string, folded the way the baseline's names are stored."""
    return " ".join(plain(p) for p in (q.given_names, q.first_surname, q.second_surname) if p)


def build_trigram_table(people: list[Person]) -> float:
    from django.db import connection, transaction

    from custodia.core import bulk  # noqa: F401  (same loader semantics; plain COPY here)

    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cursor.execute("CREATE TABLE bench_names (id integer PRIMARY KEY, name text NOT NULL)")
        with cursor.cursor.copy("COPY bench_names (id, name) FROM STDIN") as copy:
            for i, p in enumerate(people):
                if p.held:
                    copy.write_row((i + 1, plain(p.full)))
        cursor.execute("CREATE INDEX bench_names_trgm ON bench_names USING gin (name gin_trgm_ops)")
        cursor.execute("CREATE INDEX bench_names_exact ON bench_names (name)")
    analyze()
    return time.perf_counter() - t0


# --- report -------------------------------------------------------------------------------------


def per_kind_table(measured: list[Measured]) -> str:
    header = ["Variación", "Consultas", "Techo R@5 (≤ 5 namesakes)"]
    header += [f"{m.name}: R@1 / R@5 / FP" for m in measured]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for kind in [*KINDS, "TOTAL"]:
        accs = [m.overall() if kind == "TOTAL" else m.accuracy.get(kind) for m in measured]
        if not accs[0] or not accs[0].queries:
            continue
        first = accs[0]
        cells = [
            f"**{kind}**" if kind == "TOTAL" else kind,
            str(first.queries),
            f"{first.best_recall5():.3f} ({first.identifiable})",
        ]
        cells += [
            f"{a.recall1():.3f} / {a.recall5():.3f} / {a.fp():.2f}" if a else "—" for a in accs
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def slowest_text(m: Measured) -> str:
    order = {id(q): n for n, (_, q) in enumerate(m.slowest, start=1)}
    worst = sorted(m.slowest, key=lambda item: -item[0])[:3]
    return "; ".join(
        f"{ms:.1f} ms for «{typed_text(q)}» ({q.kind}, query {order[id(q)]} of {len(m.slowest)})"
        for ms, q in worst
    )


def latency(m: Measured) -> str:
    return f"p50 {quantile(m.ms, 0.5):.2f} ms, p95 {quantile(m.ms, 0.95):.2f} ms"


def report(
    args: argparse.Namespace,
    env_lines: list[tuple[str, str]],
    ev: EvaluationSet,
    timings: dict[str, float],
    ours: Measured,
    baselines: list[Measured],
    exact: Measured | None,
    official_run: Measured | None,
    started: datetime,
) -> str:
    overall = ours.overall()
    p95 = quantile(ours.ms, 0.95)
    rows = [
        Row(
            "Consulta pública: recall@5, todas las consultas",
            f"{overall.recall5():.3f}",
            "; ".join(f"{b.name}: {b.overall().recall5():.3f}" for b in baselines) or "—",
            f"techo del conjunto {overall.best_recall5():.3f}",
            f"≥ {RECALL5_TARGET}",
            overall.recall5() >= RECALL5_TARGET,
        ),
        Row(
            f"Consulta pública: recall@5, consultas que sólo ≤ 5 personas contestan por igual "
            f"({overall.identifiable:,} de {overall.queries:,})",
            f"{overall.identifiable_recall5():.3f}",
            "; ".join(f"{b.name}: {b.overall().identifiable_recall5():.3f}" for b in baselines)
            or "—",
            "—",
            f"≥ {RECALL5_TARGET}",
            overall.identifiable_recall5() >= RECALL5_TARGET,
        ),
        Row(
            "Consulta pública: latencia p95 (en el servidor)",
            f"{p95:.2f} ms",
            "; ".join(f"{b.name}: {quantile(b.ms, 0.95):.2f} ms" for b in baselines) or "—",
            "—",
            f"≤ {P95_TARGET_MS:.0f} ms",
            p95 <= P95_TARGET_MS,
        ),
    ]
    matching_p95 = quantile(ours.matching_ms, 0.95) if ours.matching_ms else None
    for b in baselines:
        better = overall.recall5() >= b.overall().recall5()
        recall = f"R@5 {overall.recall5():.3f}"
        theirs = f"{quantile(b.ms, 0.95):.2f} ms, R@5 {b.overall().recall5():.3f}"
        if matching_p95 is not None:
            speedup = quantile(b.ms, 0.95) / matching_p95
            rows.append(
                Row(
                    f"Emparejamiento (lookup.search.find) frente a {b.name} (p95, mismo trabajo)",
                    f"{matching_p95:.2f} ms, {recall}",
                    theirs,
                    f"{speedup:.1f}x más rápido",
                    f"≥ {SPEEDUP_TARGET:.0f}x con recall igual o mejor",
                    speedup >= SPEEDUP_TARGET and better,
                )
            )
        speedup = quantile(b.ms, 0.95) / p95
        rows.append(
            Row(
                f"Consulta pública completa (con filas públicas y bitácora) frente a {b.name} "
                "(p95)",
                f"{p95:.2f} ms, {recall}",
                theirs,
                f"{speedup:.1f}x más rápida",
                "informativo",
                None,
            )
        )
    if exact:
        rows.append(
            Row(
                "Consulta pública frente a búsqueda exacta (B-tree)",
                latency(ours),
                latency(exact),
                f"{quantile(ours.ms, 0.5) / quantile(exact.ms, 0.5):.1f}x (p50)",
                "informativo",
                None,
            )
        )
    if official_run:
        rows.append(
            Row(
                f"Búsqueda de funcionarios, {len(ev.people):,} personas",
                f"{latency(official_run)}; R@5 {official_run.overall().recall5():.3f}",
                "—",
                "—",
                "informativo",
                None,
            )
        )
    held = sum(p.held for p in ev.people)
    lines = [
        f"# Name search benchmark, {started:%Y-%m-%d}",
        "",
        f"Backend **{args.backend}**; **{len(ev.people):,} people** in the history, "
        f"**{held:,} held**; {len(ev.targets):,} people looked for, {len(ev.queries):,} queries "
        f"(seed {args.seed}). Started {started:%Y-%m-%d %H:%M:%S} UTC, finished "
        f"{datetime.now(UTC):%H:%M:%S} UTC.",
        "",
        "Command:",
        "",
        "```sh",
        "python -m benchmarks.search " + " ".join(sys.argv[1:]),
        "```",
        "",
        "## Machine",
        "",
        *[f"- {k}: {v}" for k, v in env_lines],
        "",
        "## Results",
        "",
        table(rows),
        "",
        "## Accuracy per kind of variation",
        "",
        "R@1: the person looked for is the first answer. R@5: among the first five. FP: answers "
        "per query that are not that person (the public consultation shows at most "
        f"{10} and none when more match equally well; pg_trgm returns at most 5).",
        "",
        "Techo R@5: the best recall@5 any search could expect on these queries. When n > 5 "
        "held people bear the name exactly as far as the query tells (the same given names "
        "and surnames; only the first surname if the second is left out; only the first given "
        "name if one of two is typed), the target is among the first five only 5/n of the "
        "time however the ties are broken (benchmarks/name_eval.py, `namesakes`). In brackets, "
        "the queries with at most five such namesakes; the second recall@5 row of the results "
        "counts only those.",
        "",
        per_kind_table([ours, *baselines, *([official_run] if official_run else [])]),
        "",
        f"Queries where the public consultation asked for a narrowing field instead of listing: "
        f"{overall.narrowed} of {overall.queries}.",
        "",
        f"## Misses of the public consultation (examples, up to {args.show_misses} per kind)",
        "",
        *misses_text(ours, ev.people, args.show_misses),
        "",
        "## Details",
        "",
        *[f"- Load: {k} {v:.1f} s." for k, v in timings.items()],
        f"- Latency: {latency(ours)} (mean {statistics.fmean(ours.ms):.2f} ms, max "
        f"{max(ours.ms):.2f} ms), timed in process with perf_counter around "
        "`lookup.public.search` — vocabulary expansion, candidate keys, scoring, the public "
        "rows and the access-log INSERT (autocommit).",
        f"- Public consultation p99 {quantile(ours.ms, 0.99):.2f} ms. Slowest queries: "
        + slowest_text(ours)
        + ".",
        *(
            [
                f"- Matching step alone (`lookup.search.find`, same queries, second pass): p50 "
                f"{quantile(ours.matching_ms, 0.5):.2f} ms, p95 {matching_p95:.2f} ms. This is "
                "what the pg_trgm baselines do (find and rank names); the full consultation adds "
                "the public rows and the access-log write, which commits (fsync) on every search."
            ]
            if matching_p95 is not None
            else []
        ),
        *[f"- {b.name}: {latency(b)}." for b in baselines],
        "- The evaluation set is generated by benchmarks/name_eval.py (see its docstring).",
        "",
    ]
    return "\n".join(lines)


# --- entry point --------------------------------------------------------------------------------


@contextmanager
def sqlite_environment(keep: bool) -> Iterator[Environment]:
    folder = Path(tempfile.mkdtemp(prefix="custodia-bench-sqlite-"))
    path = folder / "bench.sqlite3"
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "custodia.settings",
            "DATABASE_URL": f"sqlite:///{path}",
            "CUSTODIA_VAR_DIR": str(folder),
            "CUSTODIA_DEBUG": "0",
            "CUSTODIA_RATE_LIMITS": "off",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    try:
        yield Environment(server="sqlite", name=str(path), url=str(path), var_dir=folder)
    finally:
        from django.db import connections

        connections.close_all()
        if keep:
            print(f"\nSQLite file kept: {path}")
        else:
            for item in sorted(folder.rglob("*"), reverse=True):
                item.rmdir() if item.is_dir() else item.unlink()
            folder.rmdir()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.search", description=__doc__)
    parser.add_argument("--people", type=int, default=5_000_000)
    parser.add_argument("--held", type=int, default=300_000)
    parser.add_argument("--targets", type=int, default=500, help="people looked for")
    parser.add_argument("--official", type=int, default=300, help="queries for officials' search")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument(
        "--server", default=os.environ.get("CUSTODIA_BENCH_POSTGRES", DEFAULT_SERVER)
    )
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--no-baselines", action="store_true", help="skip pg_trgm and B-tree (quick iterations)"
    )
    parser.add_argument("--show-misses", type=int, default=5, help="missed queries listed per kind")
    parser.add_argument("--output", help="results file (default benchmarks/results/…; '-' none)")
    args = parser.parse_args(argv)
    if not 0 < args.held <= args.people or args.targets * 5 > args.held:
        parser.error("se necesita 0 < --held <= --people y --targets * 5 <= --held")
    return args


def scale_name(n: int) -> str:
    return f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = datetime.now(UTC)
    code = Provenance.now()
    say(f"Evaluation set: {args.people:,} people, {args.held:,} held, {args.targets} targets ...")
    ev = evaluation_set(args.people, args.held, args.targets, args.seed)
    say(f"  {len(ev.queries):,} queries")
    environment: Callable[[], Any] = (
        (lambda: fresh_environment(args.server, keep=args.keep))
        if args.backend == "postgres"
        else (lambda: sqlite_environment(args.keep))
    )
    with environment() as env:
        env_lines = machine(env.url, code) if args.backend == "postgres" else sqlite_machine(code)
        say("Loading ...")
        timings = load(ev)
        say("Public search ...")
        ours = run_public(ev.queries)
        say("Matching step alone ...")
        ours.matching_ms = run_matching(ev.queries)
        baselines: list[Measured] = []
        exact = None
        if args.backend == "postgres" and not args.no_baselines:
            say("pg_trgm baselines ...")
            timings["pg_trgm table and GIN index (baseline)"] = build_trigram_table(ev.people)
            baselines = [run_trigram(ev.queries, 0.3), run_trigram(ev.queries, 0.5)]
            exact = run_exact([q for q in ev.queries if q.kind == "sin acentos"])
        official_run = None
        if args.official:
            say("Officials' search ...")
            step = max(1, len(ev.queries) // args.official)
            official_run = run_official(ev.queries[::step][: args.official])
        text = report(args, env_lines, ev, timings, ours, baselines, exact, official_run, started)
    print(text)
    if args.output != "-":
        suffix = f"-{args.backend}" if args.backend != "postgres" else ""
        path = (
            Path(args.output)
            if args.output
            else results_dir() / f"{run_date()}-search-{scale_name(args.people)}{suffix}.md"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        say(f"Written to {path}")


def sqlite_machine(code: Provenance) -> list[tuple[str, str]]:
    import platform
    import sqlite3

    import django

    return [
        ("CPUs (nproc)", str(os.cpu_count())),
        ("Python / SQLite", f"{platform.python_version()} / {sqlite3.sqlite_version}"),
        ("Django", django.get_version()),
        ("Code measured", code.describe()),
    ]


if __name__ == "__main__":
    main()
