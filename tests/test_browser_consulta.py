"""The public consultation in a real browser, as a family uses it: on a phone, without logging
in and with JavaScript off, a name typed with a typo finds the person the police just
registered; a name nobody has shows what that does and does not mean."""

from __future__ import annotations

import random
import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from browser_fixtures import PHONE_VIEWPORT, TIMEOUT_MS
from browser_pages import (
    CAPTURE_USER,
    Detainee,
    has_no_horizontal_overflow,
    local_datetime,
    log_in,
    log_out,
    register,
    screenshot,
)
from live_server import RunningServer

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_fixtures"]

CONSULTA_PATH = "/consulta/"
FOLIO_IN_TEXT = re.compile(r"\b\d{2}-\d{4}-[0-9A-Z]{8}-[0-9A-Z]\b")


@pytest.fixture
def family(chromium: Browser, custodia_server: RunningServer) -> Iterator[Page]:
    """A phone with JavaScript turned off: the page must work without it."""
    context = chromium.new_context(
        viewport=PHONE_VIEWPORT,
        is_mobile=True,
        has_touch=True,
        locale="es-MX",
        java_script_enabled=False,
        base_url=custodia_server.base_url,
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def unique_surname() -> str:
    """A made-up second surname long enough to carry a typo (8 letters allow two edits)."""
    return (
        "Zal"
        + "".join(random.choices("aeiou", k=1))
        + "".join(random.choices(string.ascii_lowercase, k=4))
    )


def search(page: Page, given: str, first: str, second: str = "") -> None:
    page.goto(CONSULTA_PATH)
    page.get_by_label("Nombre(s)").fill(given)
    page.get_by_label("Primer apellido").fill(first)
    page.get_by_label("Segundo apellido (si lo sabe)").fill(second)
    with page.expect_navigation():
        page.get_by_role("button", name="Buscar").click()


def test_a_family_finds_a_person_registered_minutes_ago_despite_a_typo(
    phone: Page, family: Page, tmp_path: Path
) -> None:
    second = unique_surname()
    person = Detainee("Ximena", "Gutiérrez", second)
    log_in(phone, *CAPTURE_USER)
    register(phone, person, local_datetime(minutes_ago=15))
    log_out(phone)

    # The mother types "Jimena", no accent, and swaps two letters of the second surname.
    typo = second[0] + second[2] + second[1] + second[3:]
    search(family, "jimena", "gutierrez", typo)
    results = family.get_by_role("article")
    expect(results.first).to_contain_text(person.full_name)
    expect(results.first).to_contain_text("Autoridad que la tiene ahora")
    expect(family.locator("#results-title")).to_contain_text("coincide")
    # Nothing beyond the allowed fields: no folio, no reason, no officers.
    body = family.locator("main").inner_text()
    assert "Robo a transeúnte" not in body and "Pedro Ruiz" not in body
    assert not FOLIO_IN_TEXT.search(body)
    assert has_no_horizontal_overflow(family)
    screenshot(family, tmp_path, "consulta-encontrada.png", full_page=True)


def test_no_match_says_what_it_means_and_what_to_do(family: Page, tmp_path: Path) -> None:
    search(family, "Nadie", "Inexistente", "Zzyzx")
    expect(family.locator("#results-title")).to_have_text(
        "No encontramos a una persona detenida con ese nombre"
    )
    expect(family.locator(".no-match")).to_contain_text(
        "Esto no significa que la persona no esté detenida"
    )
    expect(family.locator(".no-match")).to_contain_text("911")
    expect(family.locator(".no-match")).to_contain_text("Comisión Nacional de Búsqueda")
    assert has_no_horizontal_overflow(family)
    screenshot(family, tmp_path, "consulta-sin-resultados.png", full_page=True)


def test_missing_fields_are_named_and_linked(family: Page) -> None:
    search(family, "Ximena", "")
    alert = family.get_by_role("alert")
    expect(alert).to_contain_text("Primer apellido: es obligatorio")
    expect(family.get_by_label("Primer apellido")).to_have_attribute("aria-invalid", "true")


WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def test_the_consultation_pages_pass_axe_wcag_21_aa(phone: Page) -> None:
    """axe-core (Deque's rules engine, run inside Chromium) on the empty form, a no-match answer
    and a form with errors: no WCAG 2.1 A or AA violation."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    pages = {
        "formulario": CONSULTA_PATH,
        "sin resultados": f"{CONSULTA_PATH}?given_names=Nadie&first_surname=Inexistente",
        "con errores": f"{CONSULTA_PATH}?given_names=Ana&first_surname=&age=abc",
    }
    for label, path in pages.items():
        phone.goto(path)
        results = axe.run(phone, options=WCAG_21_AA)
        assert results.violations_count == 0, (label, results.generate_report())


def test_officials_search_page_finds_by_name_and_passes_axe(phone: Page) -> None:
    """An auditor searches the whole history with a stated purpose; the page passes axe too."""
    from axe_playwright_python.sync_playwright import Axe

    log_in(phone, "auditor", "auditor-demo-2020")
    phone.goto("/busqueda/")
    phone.get_by_label("Propósito de la consulta").fill("Revisión de queja 77/2026")
    phone.get_by_label("Nombre(s)").fill("Ximena")
    phone.get_by_label("Primer apellido").fill("Gutierrez")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Buscar").click()
    expect(phone.locator("#hits-title")).to_be_visible()
    results = Axe().run(phone, options=WCAG_21_AA)
    assert results.violations_count == 0, results.generate_report()
    log_out(phone)


LINK_PATH = re.compile(r"https?://[^/\s]+(/consulta/avisos/(?:confirmar|baja)/[^\s/]+/)")


def mail_since(folder: Path, seen: set[Path]) -> str:
    """The text of the emails the server wrote to var/mail/ (file backend) since ``seen``."""
    files = sorted(p for p in folder.glob("*.log") if p not in seen) if folder.exists() else []
    seen.update(files)
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


def test_a_family_subscribes_confirms_hears_of_a_match_and_unsubscribes(
    phone: Page, family: Page, custodia_server: RunningServer
) -> None:
    from live_server import run_custodia

    mailbox, seen = custodia_server.var_dir / "mail", set()
    mail_since(mailbox, seen)
    second = unique_surname()
    search(family, "Rosario", "Domínguez", second)
    family.get_by_label("Su correo electrónico").fill("familia@example.mx")
    with family.expect_navigation():
        family.get_by_role("button", name="Crear aviso").click()
    expect(family.locator("main")).to_contain_text("Revise su correo")

    run_custodia(custodia_server.env, "notify")
    confirmation = mail_since(mailbox, seen)
    assert "familia@example.mx" in confirmation and "Rosario" in confirmation
    confirm_path = next(p for p in LINK_PATH.findall(confirmation) if "/confirmar/" in p)
    family.goto(confirm_path)
    expect(family.locator("main")).to_contain_text("Aviso activado")

    log_in(phone, *CAPTURE_USER)
    register(phone, Detainee("Rosario", "Domínguez", second), local_datetime(minutes_ago=20))
    log_out(phone)
    run_custodia(custodia_server.env, "notify")
    notice = mail_since(mailbox, seen)
    assert f"Rosario Domínguez {second}" in notice
    assert "Autoridad que la tiene ahora" in notice
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in notice
    assert "Robo a transeúnte" not in notice and "Pedro Ruiz" not in notice

    unsubscribe_path = next(p for p in LINK_PATH.findall(notice) if "/baja/" in p)
    family.goto(unsubscribe_path)
    with family.expect_navigation():
        family.get_by_role("button", name="Cancelar el aviso").click()
    expect(family.locator("main")).to_contain_text("Aviso cancelado")
