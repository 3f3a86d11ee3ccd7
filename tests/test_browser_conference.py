"""The Conference in a real browser: the Technical Secretariat opens the XXIII plenary, records
a follow-up with an evidence file on agreement TERCERO, and sees it on the agreement and in its
history; the pages pass axe (WCAG 2.1 AA) on a phone-sized screen."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from browser_pages import has_no_horizontal_overflow, log_in, log_out, screenshot

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_fixtures"]

WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def second_commitment(page: Page) -> str:
    """The value of the follow-up form's option for commitment 2 (the monthly report)."""
    option = page.locator("#follow_up-commitment option", has_text="Enviar a cada entidad")
    value = option.get_attribute("value")
    assert value and option.inner_text().startswith("2. Secretaría Técnica")
    return value


def test_the_secretariat_records_a_follow_up_and_sees_it_on_the_agreement(
    phone: Page, tmp_path: Path
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    log_in(phone, "analista.nacional", "nacional-demo-2020")
    phone.get_by_role("link", name="Conferencia", exact=True).click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "Conferencia Nacional de Secretarios de Seguridad Pública"
    )
    phone.get_by_role("link", name="XXIII Asamblea Plenaria").click()
    expect(phone.locator("#session-title")).to_have_text("XXIII Asamblea Plenaria")
    assert Axe().run(phone, options=WCAG_21_AA).violations_count == 0
    phone.get_by_role("link", name="TERCERO. REGISTRO NACIONAL DE DETENCIONES").click()
    expect(phone.locator("#agreement-title")).to_have_text(
        "TERCERO. REGISTRO NACIONAL DE DETENCIONES"
    )
    commitment = phone.locator("#compromiso-2")
    expect(commitment).to_contain_text("Sin avances registrados.")

    # A first try without the progress text: the page says what is missing and keeps the rest.
    form = phone.locator("form#follow_up")
    form.locator("#follow_up-commitment").select_option(value=second_commitment(phone))
    form.get_by_label("Fecha del avance").fill("2020-07-31")
    form.get_by_label("Estado del compromiso tras el avance").select_option("in_progress")
    with phone.expect_navigation():
        form.get_by_role("button", name="Registrar avance").click()
    expect(phone.get_by_role("alert")).to_contain_text("Avance: es obligatorio.")
    expect(phone.locator("#follow_up-reported_on")).to_have_value("2020-07-31")
    expect(phone.locator("#compromiso-2")).to_contain_text("Sin avances registrados.")

    evidence = tmp_path / "informe-julio-2020.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% informe enviado a las 32 entidades\n")
    form = phone.locator("form#follow_up")
    form.locator("#follow_up-commitment").select_option(value=second_commitment(phone))
    form.locator("#follow_up-progress").fill(
        "Se envió el informe mensual de julio a las 32 entidades federativas."
    )
    form.get_by_label("Evidencia (hasta 5 archivos de 10 MB)").set_input_files(str(evidence))
    with phone.expect_navigation():
        form.get_by_role("button", name="Registrar avance").click()
    expect(phone.get_by_role("status")).to_contain_text("Avance registrado en el compromiso 2.")
    commitment = phone.locator("#compromiso-2")
    expect(commitment).to_contain_text("Se envió el informe mensual de julio")
    expect(commitment).to_contain_text("31/07/2020")
    expect(commitment.locator("[data-status]")).to_have_text("En proceso")
    expect(commitment.get_by_role("link", name="informe-julio-2020.pdf")).to_be_visible()
    history = phone.locator("section[aria-labelledby=history-title]")
    expect(history).to_contain_text("Avance del compromiso 2: Se envió el informe mensual")
    expect(history).to_contain_text("Compromiso 2: En proceso")
    results = Axe().run(phone, options=WCAG_21_AA)
    assert results.violations_count == 0, results.generate_report()
    assert has_no_horizontal_overflow(phone)
    screenshot(phone, tmp_path, "conferencia-acuerdo-tercero.png", full_page=True)

    # The evidence downloads as the file that was sent.
    with phone.expect_download() as download:
        commitment.get_by_role("link", name="informe-julio-2020.pdf").click()
    assert Path(download.value.path()).read_bytes() == evidence.read_bytes()

    # The CUP group names what its composition still lacks.
    phone.goto("/conferencia/")
    phone.get_by_role("link", name="Mesa de trabajo del Certificado Único Policial").click()
    expect(phone.locator("#composition-problems")).to_contain_text(
        "Falta representante de la zona: Noroeste, Noreste, Occidente, Centro, Sureste."
    )
    results = Axe().run(phone, options=WCAG_21_AA)
    assert results.violations_count == 0, results.generate_report()
    log_out(phone)

    # The public page needs no account and shows the public agreements.
    phone.goto("/conferencia/publico/")
    expect(
        phone.get_by_role("heading", name=re.compile("TERCERO. REGISTRO NACIONAL"))
    ).to_be_visible()
    results = Axe().run(phone, options=WCAG_21_AA)
    assert results.violations_count == 0, results.generate_report()
