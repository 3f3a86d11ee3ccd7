"""The operator's `custodia` commands (API.md, "Command line")."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from custodia.core.models import ApiToken, Institution, Municipality, User
from custodia.registry.management.commands.rules import markdown
from custodia.registry.models import Detention


def run(*args: Any, stdin: str | None = None, **options: Any) -> str:
    out = io.StringIO()
    if stdin is not None:
        import sys

        old = sys.stdin
        sys.stdin = io.StringIO(stdin)
        try:
            call_command(*args, stdout=out, stderr=io.StringIO(), **options)
        finally:
            sys.stdin = old
    else:
        call_command(*args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def test_institution_user_and_token_create_give_a_working_api_token(db: Any) -> None:
    run(
        "institution",
        "create",
        "pm-huamantla",
        "--name",
        "Policía Municipal de Huamantla",
        "--kind",
        "police_municipal",
        "--state",
        "29",
    )
    assert Institution.objects.get(code="pm-huamantla").state_id == "29"

    out = run(
        "user",
        "create",
        "oficial1",
        "--role",
        "capture",
        "--institution",
        "pm-huamantla",
        "--password-stdin",
        stdin="una-contraseña-larga-2020\n",
    )
    assert "oficial1" in out
    user = User.objects.get(username="oficial1")
    assert user.check_password("una-contraseña-larga-2020")
    assert (user.role, user.institution.code if user.institution else None) == (
        "capture",
        "pm-huamantla",
    )

    token = run("token", "create", "oficial1").strip().splitlines()[-1]
    assert token.startswith("cst_")
    assert ApiToken.objects.filter(user=user).count() == 1
    assert token not in {t.token_hash for t in ApiToken.objects.all()}, "stored hashed"
    response = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/detentions")
    assert response.status_code == 200


def test_user_create_generates_and_prints_a_password(db: Any) -> None:
    run("institution", "create", "cndh", "--name", "CNDH", "--kind", "human_rights")
    out = run("user", "create", "visitador", "--role", "auditor", "--institution", "cndh")
    password = out.split("Contraseña:")[1].strip()
    assert User.objects.get(username="visitador").check_password(password)


def test_user_create_rejects_a_weak_password_in_spanish(db: Any) -> None:
    run("institution", "create", "cndh", "--name", "CNDH", "--kind", "human_rights")
    with pytest.raises(CommandError, match="Contraseña rechazada"):
        run(
            "user",
            "create",
            "x",
            "--role",
            "auditor",
            "--institution",
            "cndh",
            "--password-stdin",
            stdin="123\n",
        )
    assert not User.objects.filter(username="x").exists()


def test_duplicate_institution_is_refused(db: Any) -> None:
    run(
        "institution",
        "create",
        "fge-x",
        "--name",
        "Fiscalía X",
        "--kind",
        "public_prosecutor",
        "--state",
        "29",
    )
    with pytest.raises(CommandError, match="Ya existe"):
        run(
            "institution",
            "create",
            "fge-x",
            "--name",
            "Otra",
            "--kind",
            "public_prosecutor",
            "--state",
            "29",
        )


def test_demo_creates_users_institutions_and_detentions_with_warnings(db: Any) -> None:
    out = run("demo", "--detentions", "40", "--seed", "7")
    assert "captura" in out and "captura-demo-2020" in out
    assert Detention.objects.count() == 40
    states = set(Detention.objects.values_list("state_id", flat=True))
    zones = set(Detention.objects.values_list("place_timezone", flat=True))
    assert len(states) >= 3 and len(zones) >= 3
    assert Detention.objects.exclude(warning_codes=[]).exists()
    for username in (
        "captura",
        "supervisor",
        "receptor",
        "analista.estatal",
        "analista.nacional",
        "auditor",
        "admin",
    ):
        assert User.objects.filter(username=username).exists()
    again = run("demo", "--detentions", "40")
    assert "ya tiene 40" in again
    assert Detention.objects.count() == 40


def test_catalog_ships_every_state_and_capital(db: Any) -> None:
    from custodia.core.models import State

    assert State.objects.count() == 32
    capitals = Municipality.objects.filter(is_capital=True)
    assert capitals.count() == 32
    assert set(capitals.values_list("state_id", flat=True)) == {f"{n:02d}" for n in range(1, 33)}
    assert Municipality.objects.get(code="08037").effective_timezone == "America/Ciudad_Juarez"
    assert Municipality.objects.get(code="29033").effective_timezone == "America/Mexico_City"


INEGI_SAMPLE = (
    '"CVEGEO","CVE_ENT","NOM_ENT","NOM_ABR","CVE_MUN","NOM_MUN","CVE_CAB","NOM_CAB"\n'
    '"29001","29","Tlaxcala","Tlax.","001","Amaxac de Guerrero","0001","Amaxac de Guerrero"\n'
    '"29002","29","Tlaxcala","Tlax.","002","Apetatitlán de Antonio Carvajal","0001","Apetatitlán"\n'
    '"29033","29","Tlaxcala","Tlax.","033","Tlaxcala","0001","Tlaxcala de Xicohténcatl"\n'
)


def test_import_municipalities_from_an_inegi_csv(db: Any, tmp_path: Path) -> None:
    path = tmp_path / "AGEEML.csv"
    path.write_bytes(INEGI_SAMPLE.encode("cp1252"))
    out = run("catalogs", "import-municipalities", str(path))
    assert "2 nuevos, 1 actualizados" in out
    assert Municipality.objects.get(code="29002").name == "Apetatitlán de Antonio Carvajal"
    assert Municipality.objects.get(code="29033").is_capital, "capital flag kept"


def test_import_with_a_bad_row_loads_nothing_and_names_the_row(db: Any, tmp_path: Path) -> None:
    bad = INEGI_SAMPLE + '"99001","99","X","X","001","Nowhere","0001","X"\n'
    path = tmp_path / "bad.csv"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(CommandError, match="fila 5"):
        run("catalogs", "import-municipalities", str(path))
    assert not Municipality.objects.filter(code="29001").exists()


def test_import_refuses_a_file_without_inegi_columns(db: Any, tmp_path: Path) -> None:
    path = tmp_path / "otro.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(CommandError, match="CVE_ENT"):
        run("catalogs", "import-municipalities", str(path))


def test_rules_documentation_is_generated_from_the_catalog() -> None:
    committed = (Path(__file__).resolve().parents[1] / "docs" / "rules.md").read_text("utf-8")
    assert committed == markdown(), "docs/rules.md is stale: run `make docs`"
