"""`custodia synth` (issue 7): a synthetic nation that the registry's own checks accept, the same
from the same seed, with the variety the monthly report and the name search need.

Each load runs the real command in a subprocess against a fresh database (COPY and forked
generator processes on PostgreSQL, executemany on SQLite), then the operator's own audits:
the ledger verifier, the custody replay and the report-count check."""

from __future__ import annotations

import sqlite3
import statistics
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings

from live_server import fresh_database, run_custodia, server_env

SMALL = ("--detentions", "1500", "--months", "2", "--until", "2026-10-31", "--chunk", "400")


@contextmanager
def synthesised(
    workdir: Path, *args: str, database: dict[str, Any] | None = None
) -> Iterator[tuple[dict[str, str], Any]]:
    """Load a nation into a fresh database (of the suite's kind, or ``database``'s); yield its
    environment and a query function."""
    var = workdir / "var"
    var.mkdir(parents=True)
    with fresh_database(database or settings.DATABASES["default"], workdir) as url:
        env = server_env(url, var)
        output = run_custodia(env, "synth", *args).stdout
        assert "detenciones/s" in output
        if not url.startswith("sqlite"):
            # The derived steps read the registry chunk by chunk: statistics first, or the
            # planner scans whole tables for each chunk (seen at 10 million detentions).
            assert output.index("estadísticas del registro") < output.index("índice de nombres")

        def query(statement: str) -> list[tuple[Any, ...]]:
            if url.startswith("sqlite"):
                with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as conn:
                    return conn.execute(statement).fetchall()
            with psycopg.connect(url) as conn:
                return conn.execute(statement).fetchall()

        yield env, query


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], Any]]:
    with synthesised(tmp_path_factory.mktemp("synth"), *SMALL, "--seed", "7") as loaded:
        yield loaded


def test_the_registrys_own_audits_accept_the_nation(nation: tuple[dict[str, str], Any]) -> None:
    env, query = nation
    assert "Verificación correcta" in run_custodia(env, "ledger", "verify").stdout
    assert "0 diferencias" in run_custodia(env, "registry", "rebuild", "--check").stdout
    assert "0 diferencia(s)" in run_custodia(env, "report", "rollup", "--check").stdout
    # Counted again by two processes of their own (PostgreSQL; one on SQLite): the same counts.
    rebuilt = run_custodia(env, "report", "rollup", "--rebuild", "--workers", "2")
    assert "1500 detenciones" in rebuilt.stdout
    on_sqlite = "sqlite" in settings.DATABASES["default"]["ENGINE"]
    assert ("un solo proceso" in rebuilt.stderr) == on_sqlite
    assert "0 diferencia(s)" in run_custodia(env, "report", "rollup", "--check").stdout
    ((detentions,),) = query("SELECT count(*) FROM registry_detention")
    ((events,),) = query("SELECT count(*) FROM registry_custodyevent")
    ((leaves,),) = query("SELECT count(*) FROM ledger_ledgerleaf")
    assert detentions == 1500
    assert leaves == events > detentions  # every event a leaf; most people were handed over
    ((entries,),) = query("SELECT count(*) FROM lookup_nameentry")
    assert entries == detentions  # the public search can find them
    if "sqlite" not in settings.DATABASES["default"]["ENGINE"]:
        # The foreign keys dropped for the load are back, and validated.
        keys = query(
            "SELECT conrelid::regclass::text, convalidated FROM pg_constraint WHERE contype = "
            "'f' AND conrelid::regclass::text IN ('registry_custodyevent', 'registry_detention')"
        )
        assert len(keys) >= 9 and all(valid for _, valid in keys)
        # So are the indexes dropped for it: the same as a freshly migrated registry's, and
        # every partitioned one valid, that is present on every partition.
        indexes = index_definitions(query)
        assert len(indexes) >= 40
        assert indexes == migrated_indexes(env)
        assert query("SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid") == []


FILLED_TABLES = (
    "registry_detention", "registry_detainedperson", "registry_officer",
    "registry_detentionholder", "registry_custodyevent", "ledger_ledgerleaf",
    "ledger_ledgernode", "reports_zeroreport",
)  # fmt: skip


def index_definitions(query: Any) -> set[tuple[str, str]]:
    tables = ", ".join(f"'{t}'" for t in FILLED_TABLES)
    return set(query(f"SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ({tables})"))


def migrated_indexes(env: dict[str, str]) -> set[tuple[str, str]]:
    """The indexes of the same tables in a registry that has only been migrated."""
    workdir = Path(env["CUSTODIA_VAR_DIR"]).parent / "migrated"
    workdir.mkdir(exist_ok=True)
    with fresh_database(settings.DATABASES["default"], workdir) as url:
        run_custodia(server_env(url, workdir), "migrate", "-v", "0")
        with psycopg.connect(url) as conn:
            return index_definitions(lambda statement: conn.execute(statement).fetchall())


def test_people_have_mexican_names_at_realistic_frequencies(
    nation: tuple[dict[str, str], Any],
) -> None:
    _, query = nation
    surnames = query(
        "SELECT first_surname, count(*) FROM registry_detainedperson GROUP BY 1 ORDER BY 2 DESC"
    )
    assert surnames[0][0] == "Hernández"  # the most frequent surname, as in the country
    assert len(surnames) > 200  # and a long tail from Faker's es_MX list
    given = {g for (g,) in query("SELECT given_names FROM registry_detainedperson")}
    assert any(" " in g for g in given)  # compound given names
    curps = [c for (c,) in query("SELECT curp FROM registry_detainedperson WHERE curp <> ''")]
    assert curps and all(len(c) == 18 for c in curps)


def test_states_follow_population_and_every_kind_of_institution_exists(
    nation: tuple[dict[str, str], Any],
) -> None:
    _, query = nation
    by_state = dict(query("SELECT state_id, count(*) FROM registry_detention GROUP BY 1"))
    assert by_state.get("15", 0) > 4 * by_state.get("06", 0)  # México vs Colima
    kinds = {k for (k,) in query("SELECT DISTINCT kind FROM core_institution")}
    assert kinds >= {
        "police_municipal", "police_state", "police_federal", "national_guard",
        "public_prosecutor", "civic_judge", "prison", "adolescent_justice", "migration",
        "secretariat", "human_rights",
    }  # fmt: skip


def test_institutions_have_their_own_quality_problems(nation: tuple[dict[str, str], Any]) -> None:
    _, query = nation
    rows = query(
        "SELECT i.code, d.detained_at, d.registered_at, d.latitude FROM registry_detention d "
        "JOIN core_institution i ON i.id = d.institution_id WHERE i.kind = 'police_state'"
    )
    delays: dict[str, list[float]] = {}
    missing: dict[str, list[bool]] = {}
    for code, detained, registered, latitude in rows:
        if isinstance(detained, str):  # SQLite
            from datetime import datetime

            detained, registered = (
                datetime.fromisoformat(detained),
                datetime.fromisoformat(registered),
            )
        delays.setdefault(code, []).append((registered - detained).total_seconds() / 60)
        missing.setdefault(code, []).append(latitude is None)
    busy = [c for c, d in delays.items() if len(d) >= 20]
    medians = sorted(statistics.median(delays[c]) for c in busy)
    assert medians[-1] > 3 * medians[0]  # some police register far later than others
    shares = sorted(sum(missing[c]) / len(missing[c]) for c in busy)
    assert shares[-1] - shares[0] > 0.1  # and some leave coordinates out far more often
    ((zero,),) = query("SELECT count(*) FROM reports_zeroreport")
    assert zero > 0
    ((silent,),) = query(
        "SELECT count(*) FROM registry_detention WHERE status = 'in_police_custody'"
    )
    assert silent > 0  # never handed over, on purpose: the legal clocks must find them


def test_the_same_seed_gives_the_same_nation(
    nation: tuple[dict[str, str], Any], tmp_path: Path
) -> None:
    _, first = nation
    root = "SELECT root_hash FROM ledger_checkpoint ORDER BY id DESC LIMIT 1"
    with synthesised(tmp_path / "again", *SMALL, "--seed", "7") as (_, again):
        # The ledger commits to every event (the person through a digest): equal roots, equal
        # nations.
        assert again(root) == first(root)
    with synthesised(tmp_path / "other", *SMALL, "--seed", "8") as (_, other):
        assert other(root) != first(root)


def test_the_nation_does_not_depend_on_chunks_or_processes(
    nation: tuple[dict[str, str], Any], tmp_path: Path
) -> None:
    """Each detention draws from its own random stream: other chunk sizes (on PostgreSQL,
    other chunks for each generator process), and on PostgreSQL the one-process SQLite load,
    give the same ledger, and the same people."""
    _, first = nation
    root = "SELECT root_hash, tree_size FROM ledger_checkpoint ORDER BY id DESC LIMIT 1"
    people = (
        "SELECT detention_id, given_names, first_surname, curp FROM registry_detainedperson "
        "ORDER BY detention_id"
    )
    other_chunks = [*SMALL[:-1], "250", "--seed", "7"]
    with synthesised(tmp_path / "chunks", *other_chunks) as (_, again):
        assert again(root) == first(root)
        assert again(people) == first(people)
    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        sqlite = {"ENGINE": "django.db.backends.sqlite3"}
        with synthesised(tmp_path / "sqlite", *SMALL, "--seed", "7", database=sqlite) as (
            _,
            alone,
        ):
            assert alone(root) == first(root)
            assert alone(people) == first(people)


def test_synth_refuses_a_registry_that_has_detentions(
    nation: tuple[dict[str, str], Any],
) -> None:
    env, _ = nation
    with pytest.raises(Exception, match="llena un registro vacío"):
        run_custodia(env, "synth", "--detentions", "10")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--detentions", "0"), "--detentions debe estar entre 1"),
        (("--detentions", "10", "--until", "ayer"), "--until: use una fecha"),
        (("--detentions", "10", "--months", "0"), "--months debe estar entre 1 y 240"),
    ],
)
def test_synth_refuses_bad_arguments_in_spanish(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    env = server_env(f"sqlite:///{tmp_path / 'x.sqlite3'}", tmp_path)
    with pytest.raises(Exception, match=message):
        run_custodia(env, "synth", *args)
