# ruff: noqa: E501 - one request per line reads best
"""Run the product's real requests against a loaded PostgreSQL database and EXPLAIN every query
they send; report each sequential scan of a large table (issue 7).

Run as a script (tests/test_query_plans.py does, against a fresh `custodia synth` nation), with
DATABASE_URL set: ``python tests/plan_check.py``. Prints a JSON report; exits 1 if any query
scans a large table sequentially. Writes go through the real endpoints too (a capture and a
handover), in the throw-away database the test made.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

LARGE_ROWS = 10_000  # a table with at least this many rows is large


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "custodia.settings")
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host, in-memory e-mail
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from custodia.core.models import ApiToken, Role, User
    from custodia.ledger.models import LedgerHead
    from custodia.registry.models import Detention

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, greatest(c.reltuples, 0), p.relname FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_inherits i ON i.inhrelid = c.oid LEFT JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'"
        )
        found = cursor.fetchall()
    rows = {name: count for name, count, _ in found}
    parent_of = {name: parent for name, _, parent in found if parent}
    totals: dict[str, float] = {}
    for name, parent in parent_of.items():
        totals[parent] = totals.get(parent, 0) + rows[name]
    # A plain table is large by its rows; a partitioned one (custody events, the access log) by
    # the rows of all its partitions.
    large = {n for n, count in rows.items() if count >= LARGE_ROWS and n not in parent_of}
    large |= {parent for parent, count in totals.items() if count >= LARGE_ROWS}

    def user(**filters: Any) -> User:
        found = User.objects.filter(**filters).select_related("institution").first()
        if found is None:
            raise SystemExit(f"no user {filters}")
        return found

    analyst = user(role=Role.NATIONAL_ANALYST)
    auditor = user(role=Role.AUDITOR)

    def api(who: User) -> Client:
        return Client(headers={"Authorization": f"Bearer {ApiToken.issue(who)[1]}"})

    def page(who: User) -> Client:
        client = Client()
        client.force_login(who)
        return client

    # A detention still with the police, and a user of the force that holds it: in Tlaxcala if
    # it has one (which states hold the few recent ones depends on the hour the nation was made).
    still_held = Detention.objects.filter(status="in_police_custody").order_by("-registered_at")
    held = still_held.filter(state_id="29").first() or still_held.first()
    if held is None:
        raise SystemExit("the nation has no detention in police custody")
    state = held.state_id
    police = user(institution_id=held.institution_id)
    receiving = user(username=f"synth-fge-{state}")
    sample = Detention.objects.filter(state_id=state).order_by("-registered_at").first()
    if sample is None:
        raise SystemExit(f"the nation has no detention to read in state {state}")
    person = sample.person
    month = (timezone.now() - timedelta(days=35)).strftime("%Y-%m")
    size = LedgerHead.objects.get(pk=1).size
    detained = (timezone.now() - timedelta(minutes=20)).astimezone(
        timezone.get_fixed_timezone(-360)
    )
    new_capture = {
        "person": {"given_names": "Plan", "first_surname": "Prueba", "sex": "female", "age": 30},
        "detained_at": detained.isoformat(),
        "place": {"state": state, "municipality": held.municipality_id},
        "arrest_basis": "flagrante",
        "reason": "robo a transeúnte",
        "officers": [{"name": "Elemento Uno"}],
        "receiving_authority": {"kind": "public_prosecutor", "name": "Fiscalía",
                                "institution": f"fge-{state}"},
    }  # fmt: skip
    handover = {
        "kind": "handed_over",
        "occurred_at": timezone.now().isoformat(),
        "authority": {
            "kind": "public_prosecutor",
            "name": "Fiscalía",
            "institution": f"fge-{state}",
        },
    }
    name = f"given_names={person.given_names}&first_surname={person.first_surname}"
    purpose = "purpose=Verificación de planes de consulta"
    requests: list[tuple[str, Callable[[], Any]]] = [
        ("detention by folio", lambda: api(police).get(f"/api/v1/detentions/{held.folio}")),
        ("its events", lambda: api(police).get(f"/api/v1/detentions/{held.folio}/events")),
        ("list, first page", lambda: api(police).get("/api/v1/detentions?limit=50")),
        ("list by state", lambda: api(analyst).get(f"/api/v1/detentions?state={state}&limit=50")),
        ("public search", lambda: Client().get(f"/api/v1/public/search?{name}")),
        ("public search page", lambda: Client().get(f"/consulta/?{name}&state={state}")),
        ("officials' search by name", lambda: api(analyst).get(f"/api/v1/people/search?{name}&{purpose}")),
        ("officials' search by folio", lambda: api(analyst).get(f"/api/v1/people/search?folio={sample.folio}&{purpose}")),
        ("alerts", lambda: api(receiving).get("/api/v1/alerts")),
        ("inbox", lambda: page(receiving).get("/bandeja/")),
        ("detention page", lambda: page(police).get(f"/detenciones/{held.folio}/")),
        ("national report", lambda: api(analyst).get(f"/api/v1/reports/monthly?month={month}")),
        ("state report", lambda: api(analyst).get(f"/api/v1/reports/monthly?month={month}&state={state}")),
        ("data quality", lambda: page(analyst).get(f"/reportes/calidad/?month={month}&state={state}")),
        ("inclusion proof", lambda: Client().get(f"/api/v1/ledger/proof/inclusion?index={size // 3}&tree_size={size}")),
        ("consistency proof", lambda: Client().get(f"/api/v1/ledger/proof/consistency?first={size // 2}&second={size}")),
        ("access log by folio", lambda: page(auditor).get(f"/auditoria/accesos/?folio={sample.folio}")),
        ("zero-report page", lambda: page(police).get("/reportes/cero/")),
        ("capture", lambda: api(police).post("/api/v1/detentions", new_capture, "application/json")),
        ("handover", lambda: api(police).post(f"/api/v1/detentions/{held.folio}/events", handover, "application/json")),
    ]  # fmt: skip
    report: dict[str, Any] = {
        "large_tables": sorted(large),
        "partitioned": {
            parent: sum(1 for p in parent_of.values() if p == parent) for parent in totals
        },
        "requests": {},
        "scans": [],
    }

    def scans_of(sql: str) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            (plan,) = cursor.fetchone()
        if isinstance(plan, str):
            plan = json.loads(plan)
        scanned = [
            node["Relation Name"]
            for node in plan_nodes(plan[0]["Plan"])
            if node.get("Node Type") == "Seq Scan"
        ]
        flagged = [n for n in scanned if n in large]
        # Partitions: a scan of one big partition, or of enough small ones of a large table to
        # add up to a large table, is a scan of a large table.
        by_parent: dict[str, float] = {}
        for n in scanned:
            if n in parent_of:
                by_parent[parent_of[n]] = by_parent.get(parent_of[n], 0) + rows[n]
        flagged += [p for p, count in by_parent.items() if count >= LARGE_ROWS]
        return flagged

    # The checker must see a scan when there is one: a filter on an unindexed column.
    if scans_of("SELECT id FROM registry_detention WHERE reason = 'nada'") != [
        "registry_detention"
    ]:
        raise SystemExit("the plan check did not see a known sequential scan")
    if scans_of("SELECT id FROM registry_custodyevent WHERE kind = 'nada'") != [
        "registry_custodyevent"
    ]:
        raise SystemExit("the plan check did not see a scan of the partitioned events")
    for label, call in requests:
        with CaptureQueriesContext(connection) as captured:
            response = call()
        status = getattr(response, "status_code", 0)
        queries = [q["sql"] for q in captured.captured_queries]
        report["requests"][label] = {"status": status, "queries": len(queries)}
        if status >= 400:
            report["scans"].append({"request": label, "error": f"HTTP {status}"})
        for sql in queries:
            head = sql.lstrip().split(None, 1)[0].upper()
            if head not in {"SELECT", "UPDATE", "DELETE", "WITH"} or "ledger_append" in sql:
                continue
            for table_name in scans_of(sql):
                report["scans"].append({"request": label, "table": table_name, "sql": sql[:600]})
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 1 if report["scans"] else 0


if __name__ == "__main__":
    sys.exit(main())
