"""Bulk import from state systems (issue 7): the batch endpoint and `custodia import detentions`.

A row lands whole (detention, events, ledger leaves, report counts) or not at all; the answer
is per row; sending the same rows again creates nothing new."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from conftest import capture, client_for
from custodia.core.models import AccessLog, Role, User
from custodia.ledger.models import LedgerLeaf
from custodia.registry.models import CustodyEvent, Detention, SourceRecord

BATCH = "/api/v1/detentions:batch"


def row(external_id: str, **overrides: Any) -> dict[str, Any]:
    return {"external_id": external_id, **capture(**overrides)}


def handed_over(minutes_ago: int = 5) -> dict[str, Any]:
    at = (timezone.now() - timedelta(minutes=minutes_ago)).astimezone(
        timezone.get_fixed_timezone(-360)
    )
    return {
        "kind": "handed_over",
        "occurred_at": at.isoformat(),
        "authority": {
            "kind": "public_prosecutor",
            "name": "Fiscalía General de Justicia del Estado de Tlaxcala, MP Centro",
            "institution": "fgje-tlax",
        },
        "legal_status": "retencion_ministerial",
    }


def send(api: Client, rows: list[Any], **headers: str) -> Any:
    return api.post(BATCH, {"detentions": rows}, content_type="application/json", headers=headers)


def written() -> tuple[int, int, int, int]:
    return (
        Detention.objects.count(),
        CustodyEvent.objects.count(),
        LedgerLeaf.objects.count(),
        SourceRecord.objects.count(),
    )


def test_each_row_is_answered_and_lands_whole_or_not_at_all(api: Client, officer: User) -> None:
    with_history = row("SIS-3", person__given_names="Pedro")
    with_history["events"] = [handed_over()]
    response = send(
        api,
        [row("SIS-1"), row("SIS-2", arrest_basis="secuestro"), with_history],
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["summary"] == {"received": 3, "created": 2, "existing": 0, "rejected": 1}
    first, second, third = body["rows"]
    assert (first["row"], first["external_id"], first["status"]) == (1, "SIS-1", "created")
    assert Detention.objects.filter(folio=first["folio"]).exists()
    assert second["status"] == "rejected" and second["folio"] is None
    assert [(e["code"], e["field"]) for e in second["errors"]] == [("RND-E144", "arrest_basis")]
    assert second["errors"][0]["message"].startswith("El valor no es una de las opciones")
    assert third["status"] == "created"
    detention = Detention.objects.get(folio=third["folio"])
    assert detention.status == "with_prosecutor"
    assert list(detention.events.values_list("kind", flat=True)) == ["registered", "handed_over"]
    # Two detentions, three events, each event a ledger leaf, two source records.
    assert written() == (2, 3, 3, 2)
    # Each registration is in the access log, under the API channel.
    logged = AccessLog.objects.filter(action="detention.register", channel="api")
    assert set(logged.values_list("folio", flat=True)) == {first["folio"], third["folio"]}


def test_a_row_whose_history_breaks_a_rule_leaves_nothing(api: Client) -> None:
    early = row("SIS-9")
    event = handed_over()
    event["occurred_at"] = "2001-01-01T10:00:00-06:00"  # before the detention
    early["events"] = [handed_over(10), event]
    before = written()
    result = send(api, [early]).json()["rows"][0]
    assert result["status"] == "rejected"
    assert result["errors"] and all(e["field"].startswith("events[2]") for e in result["errors"])
    assert written() == before


def test_sending_the_same_rows_again_creates_nothing(api: Client) -> None:
    rows = [row(f"SIS-{n}") for n in range(1, 4)]
    first = send(api, rows).json()
    assert first["summary"]["created"] == 3
    before = written()
    again = send(api, rows).json()
    assert again["summary"] == {"received": 3, "created": 0, "existing": 3, "rejected": 0}
    assert [r["folio"] for r in again["rows"]] == [r["folio"] for r in first["rows"]]
    assert written() == before


def test_the_same_external_id_with_other_data_is_refused(api: Client) -> None:
    folio = send(api, [row("SIS-7")]).json()["rows"][0]["folio"]
    before = written()
    changed = send(api, [row("SIS-7", reason="riña")]).json()["rows"][0]
    assert changed["status"] == "rejected"
    assert changed["folio"] == folio
    assert changed["errors"][0]["code"] == "RND-E161"
    assert folio in changed["errors"][0]["message"]
    assert written() == before


def test_external_ids_are_per_institution(api: Client, make_user: Any) -> None:
    other = client_for(make_user(Role.CAPTURE, "pm-apizaco"))
    a = send(api, [row("0001")]).json()["rows"][0]
    b = send(other, [row("0001")]).json()["rows"][0]
    assert a["status"] == b["status"] == "created"
    assert a["folio"] != b["folio"]


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ({"person": {}}, "RND-E160"),  # no external_id
        ({"external_id": "   "}, "RND-E160"),
        ({"external_id": "x" * 101}, "RND-E160"),
        ({"external_id": 12}, "RND-E160"),
        ({"external_id": "A", "events": {"kind": "note"}}, "RND-E163"),
        ("una cadena", "RND-E162"),
    ],
)
def test_a_malformed_row_gets_a_rule_code(api: Client, bad: Any, code: str) -> None:
    response = send(api, [bad, row("SIS-OK")])
    assert response.status_code == 200
    rows = response.json()["rows"]
    assert rows[0]["status"] == "rejected"
    assert rows[0]["errors"][0]["code"] == code
    assert rows[1]["status"] == "created"


def test_an_event_the_institution_may_not_record_rejects_the_row(api: Client) -> None:
    later = handed_over(3)
    later.update(kind="released", authority=None, legal_status=None)
    later = {k: v for k, v in later.items() if v is not None}
    entry = row("SIS-5")
    entry["events"] = [handed_over(10), later]  # after the handover the prosecutor holds them
    before = written()
    result = send(api, [entry]).json()["rows"][0]
    assert result["status"] == "rejected"
    assert result["errors"][0]["code"] == "RND-E164"
    assert result["errors"][0]["field"] == "events[2].kind"
    assert written() == before


def test_a_stale_expected_version_in_a_history_rejects_the_row(api: Client) -> None:
    entry = row("SIS-6")
    event = handed_over()
    event["expected_version"] = 7
    entry["events"] = [event]
    before = written()
    result = send(api, [entry]).json()["rows"][0]
    assert result["status"] == "rejected"
    assert result["errors"][0]["field"] == "events[1].expected_version"
    assert "versión 1" in result["errors"][0]["message"]
    assert written() == before


def test_batch_limits_roles_and_shape(api: Client, make_user: Any) -> None:
    too_many = send(api, [{"external_id": str(n)} for n in range(1001)])
    assert too_many.status_code == 413
    assert "máximo por llamada es 1000" in too_many.json()["errors"][0]["message"]
    prosecutor = client_for(make_user(Role.RECEIVING, "fgje-tlax"))
    assert send(prosecutor, [row("SIS-1")]).status_code == 403
    shapeless = api.post(BATCH, {"rows": []}, content_type="application/json")
    assert shapeless.status_code == 422
    assert shapeless.json()["errors"]
    broken = api.post(BATCH, "{no es json", content_type="application/json")
    assert broken.status_code == 400
    assert (
        Client().post(BATCH, {"detentions": []}, content_type="application/json").status_code == 401
    )
    assert Detention.objects.count() == 0


def test_an_idempotency_key_replays_the_whole_answer(api: Client) -> None:
    rows = [row("SIS-1"), row("SIS-2")]
    first = send(api, rows, **{"Idempotency-Key": "lote-1"})
    again = send(api, rows, **{"Idempotency-Key": "lote-1"})
    assert again.status_code == 200 and again.json() == first.json()
    other = send(api, rows[:1], **{"Idempotency-Key": "lote-1"})
    assert other.status_code == 409


def csv_text(rows: list[dict[str, str]]) -> str:
    columns = sorted({c for r in rows for c in r})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def flat(entry: dict[str, Any], prefix: str = "") -> dict[str, str]:
    cells: dict[str, str] = {}
    for key, value in entry.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            cells.update(flat(value, name + "."))
        elif isinstance(value, list):
            for n, item in enumerate(value, start=1):
                cells.update(flat(item, f"{name}.{n}."))
        elif isinstance(value, bool):
            cells[name] = "sí" if value else "no"
        else:
            cells[name] = "" if value is None else str(value)
    return cells


def import_file(path: Path, user: User, *extra: str) -> str:
    out = io.StringIO()
    call_command("import", "detentions", str(path), "--user", user.username, *extra, stdout=out)
    return out.getvalue()


def test_the_cli_imports_a_csv_and_writes_the_error_report(tmp_path: Path, officer: User) -> None:
    good = flat(row("C-1"))
    second = flat(
        row("C-2", officers=[{"name": "Ana Ruiz"}, {"name": "Luis Soto", "rank": "suboficial"}])
    )
    bad_age = flat(row("C-3"))
    bad_age["person.age"] = "treinta"
    bad_age.pop("person.birth_date")
    source = tmp_path / "detenciones.csv"
    source.write_text(csv_text([good, second, bad_age]), encoding="utf-8")

    with pytest.raises(CommandError, match="1 filas rechazadas"):
        import_file(source, officer)
    report = tmp_path / "detenciones.csv.errores.csv"
    lines = list(csv.DictReader(report.open(encoding="utf-8-sig")))
    rejected = [line for line in lines if line["resultado"] == "rechazada"]
    assert [(r["fila"], r["id_externo"], r["codigo"], r["campo"]) for r in rejected] == [
        ("3", "C-3", "RND-E143", "person.age")
    ]
    assert rejected[0]["mensaje"] == "Debe ser un número entero."
    created = {s.external_id: s.detention for s in SourceRecord.objects.select_related("detention")}
    assert set(created) == {"C-1", "C-2"}
    assert list(created["C-2"].officers.values_list("name", "rank")) == [
        ("Ana Ruiz", ""),
        ("Luis Soto", "suboficial"),
    ]
    assert created["C-1"].person.age == int(good["person.age"])
    assert created["C-1"].force_used is False
    assert AccessLog.objects.filter(action="detention.register", channel="cli").count() == 2

    # The clerk fixes the row and imports the same file again: only the fixed row is new.
    bad_age["person.age"] = good["person.age"]
    source.write_text(csv_text([good, second, bad_age]), encoding="utf-8")
    before = Detention.objects.count()
    output = import_file(source, officer)
    assert "3 filas: 1 registradas, 2 ya existían, 0 rechazadas." in output
    assert Detention.objects.count() == before + 1


def test_the_cli_reads_json_lines_with_histories(tmp_path: Path, officer: User) -> None:
    with_history = row("J-2")
    with_history["events"] = [handed_over()]
    lines = [json.dumps(row("J-1")), "{esto no es json", json.dumps(with_history), ""]
    source = tmp_path / "lote.jsonl"
    source.write_text("\n".join(lines), encoding="utf-8")
    errors = tmp_path / "errores.csv"
    with pytest.raises(CommandError, match="1 filas rechazadas"):
        import_file(source, officer, "--errors", str(errors))
    rejected = list(csv.DictReader(errors.open(encoding="utf-8-sig")))
    assert [(r["fila"], r["codigo"]) for r in rejected] == [("2", "RND-E162")]
    assert "no es JSON válido" in rejected[0]["mensaje"]
    detention = SourceRecord.objects.get(external_id="J-2").detention
    assert detention.events.count() == 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("datos.xlsx", b"PK", "use un archivo .csv o .jsonl"),
        (
            "datos.csv",
            "external_id,reason\nA,riña\n".encode("latin-1") + b"\xf1",
            "no está en UTF-8",
        ),
        ("datos.csv", b"", "falta la fila de encabezados"),
        ("datos.csv", b"reason\nrobo\n", "necesita una columna external_id"),
        ("datos.csv", b"external_id,reason,reason\nA,b,c\n", "Columnas repetidas"),
    ],
)
def test_the_cli_refuses_an_unusable_file_in_spanish(
    tmp_path: Path, officer: User, name: str, content: bytes, message: str
) -> None:
    source = tmp_path / name
    source.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        import_file(source, officer)
    assert Detention.objects.count() == 0


def test_the_cli_refuses_an_unknown_user_or_role(
    tmp_path: Path, make_user: Any, officer: User
) -> None:
    source = tmp_path / "d.csv"
    source.write_text("external_id\nA\n", encoding="utf-8")
    with pytest.raises(CommandError, match="no existe el usuario"):
        call_command("import", "detentions", str(source), "--user", "nadie")
    analyst = make_user(Role.RECEIVING, "fgje-tlax")
    with pytest.raises(CommandError, match="Sólo el personal de captura"):
        import_file(source, analyst)
    with pytest.raises(CommandError, match="No se pudo leer"):
        import_file(tmp_path / "no-existe.csv", officer)


def test_the_same_id_twice_in_one_batch(api: Client) -> None:
    same = row("DUP-1")
    changed = row("DUP-2", reason="riña")
    rows = [same, dict(same), row("DUP-2"), changed]
    answer = send(api, rows).json()
    statuses = [(r["external_id"], r["status"]) for r in answer["rows"]]
    assert statuses == [
        ("DUP-1", "created"),
        ("DUP-1", "existing"),
        ("DUP-2", "created"),
        ("DUP-2", "rejected"),
    ]
    assert answer["rows"][0]["folio"] == answer["rows"][1]["folio"]
    assert answer["rows"][3]["errors"][0]["code"] == "RND-E161"
    assert Detention.objects.count() == 2


def test_rows_are_answered_in_order_across_chunks(officer: User) -> None:
    from custodia.registry import imports

    with_history = row("K-3")
    with_history["events"] = [handed_over()]
    rows = [row("K-1"), {"external_id": ""}, with_history, row("K-4", arrest_basis="x"), row("K-5")]
    results = list(
        imports.import_rows(actor=officer, rows=enumerate(rows, start=1), channel="api", chunk=2)
    )
    assert [(r.row, r.status) for r in results] == [
        (1, "created"),
        (2, "rejected"),
        (3, "created"),
        (4, "rejected"),
        (5, "created"),
    ]
    assert written() == (3, 4, 4, 3)


def test_a_history_row_keeps_its_place_before_a_later_resend(api: Client) -> None:
    with_history = row("H-1")
    with_history["events"] = [handed_over()]
    resend = {k: v for k, v in with_history.items() if k != "events"}
    answer = send(api, [row("H-0"), with_history, resend]).json()["rows"]
    assert [r["status"] for r in answer] == ["created", "created", "rejected"]
    assert answer[2]["errors"][0]["code"] == "RND-E161"  # the resend differs from the record
    detention = SourceRecord.objects.get(external_id="H-1").detention
    assert detention.events.count() == 2  # the history landed, not the bare resend


@pytest.mark.parametrize("age", ["²", "--5", "3.5", "treinta"])
def test_a_cell_that_is_not_a_whole_number_is_a_row_error(
    tmp_path: Path, officer: User, age: str
) -> None:
    cells = flat(row("N-1"))
    cells["person.age"] = age
    cells.pop("person.birth_date")
    source = tmp_path / "d.csv"
    source.write_text(csv_text([cells, flat(row("N-2"))]), encoding="utf-8")
    with pytest.raises(CommandError, match="1 filas rechazadas"):
        import_file(source, officer)
    report = list(csv.DictReader((tmp_path / "d.csv.errores.csv").open(encoding="utf-8-sig")))
    assert [(r["fila"], r["codigo"], r["campo"]) for r in report] == [
        ("1", "RND-E143", "person.age")
    ]
    assert SourceRecord.objects.filter(external_id="N-2").exists()


def test_json_lines_keep_unicode_line_separators_inside_strings(
    tmp_path: Path, officer: User
) -> None:
    entry = row("U-1", reason="riña\u2028en la vía pública")
    source = tmp_path / "u.jsonl"
    source.write_text(json.dumps(entry, ensure_ascii=False) + "\n", encoding="utf-8")
    assert "1 registradas" in import_file(source, officer)
    assert Detention.objects.get().reason == "riña\u2028en la vía pública"


def test_the_cli_imports_with_several_processes_in_row_order(tmp_path: Path) -> None:
    """``--workers 2`` on PostgreSQL: chunks land from two processes at once, yet a resend in a
    later chunk is answered as one, and the registry's own audits accept the result. (On
    SQLite the command says it imports in one process, with the same answers.)"""
    from django.conf import settings

    from live_server import fresh_database, run_custodia, server_env

    rows = [row(f"P-{n}", person__given_names=f"Nombre{n}") for n in range(1, 601)]
    rows[99]["person"]["age"] = "treinta"  # row 100: rejected
    rows[99]["person"].pop("birth_date")
    # Row 300 (second chunk, written at the same time as the first): row 7's id with other
    # data. Row 560 (third chunk): the same as row 5.
    rows[299] = {**rows[6], "reason": "otra cosa"}
    rows[559] = dict(rows[4])
    source = tmp_path / "lote.jsonl"
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    var = tmp_path / "var"
    var.mkdir()
    with fresh_database(settings.DATABASES["default"], tmp_path) as url:
        env = server_env(url, var)
        run_custodia(env, "demo", "--detentions", "0", "--without-conference")

        output = cli_import(env, source, "--workers", "2")
        assert "600 filas: 597 registradas, 1 ya existían, 2 rechazadas." in output
        assert ("un solo proceso" in output) == url.startswith("sqlite")
        report = (tmp_path / "lote.jsonl.errores.csv").open(encoding="utf-8-sig")
        lines = list(csv.DictReader(report))
        rejected = {(r["fila"], r["codigo"]) for r in lines if r["resultado"] == "rechazada"}
        assert rejected == {("100", "RND-E143"), ("300", "RND-E161")}
        assert "Verificación correcta" in run_custodia(env, "ledger", "verify").stdout
        assert "0 diferencia(s)" in run_custodia(env, "report", "rollup", "--check").stdout
        assert "0 diferencias" in run_custodia(env, "registry", "rebuild", "--check").stdout
        # Imported again: nothing new, every landed row answered with its folio.
        again = cli_import(env, source, "--workers", "2")
        assert "600 filas: 0 registradas, 598 ya existían, 2 rechazadas." in again


def cli_import(env: dict[str, str], source: Path, *extra: str) -> str:
    """What ``custodia import detentions`` printed, for a file with rows it rejects (exit 1)."""
    from live_server import ServerError, run_custodia

    with pytest.raises(ServerError, match="terminó con 1") as failed:
        run_custodia(env, "import", "detentions", str(source), "--user", "captura", *extra)
    return str(failed.value)
