"""A police officer registers a detention from a phone, in a real browser, end to end.

A real ``custodia serve`` runs in a subprocess against its own fresh database (seeded with
``custodia demo``), and Debian's headless Chromium drives it through Playwright with a phone-sized
viewport (fixtures in ``browser_fixtures``, page helpers in ``browser_pages``). Nothing here uses
the test run's own database.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from browser_pages import (
    CAPTURE_PATH,
    CAPTURE_USER,
    FOLIO,
    LIST_PATH,
    LOGIN_PATH,
    RECEIVING_USER,
    has_no_horizontal_overflow,
    listed_folios,
    local_datetime,
    log_in,
    new_detainee,
    register,
    screenshot,
    submit_capture,
)

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_fixtures"]


# Helpers ----------------------------------------------------------------------------------------


def submit_empty_capture(page: Page) -> None:
    """Log in as the capture officer and submit the capture form exactly as it loads."""
    log_in(page, *CAPTURE_USER)
    page.goto(CAPTURE_PATH)
    assert submit_capture(page) == 422
    expect(page.locator("#form-errors")).to_be_visible()


def field_errors(page: Page) -> dict[str, str]:
    """The field-level error texts on the page, by field (``person-sex``, ``reason``, ...)."""
    found: dict[str, str] = page.evaluate(
        """() => Object.fromEntries(Array.from(document.querySelectorAll('p.error[id$="-err"]'))
              .map(el => [el.id.replace(/^f-/, '').replace(/-err$/, ''), el.innerText]))"""
    )
    return found


# Tests ------------------------------------------------------------------------------------------


def test_officer_registers_a_detention_from_a_phone(phone: Page, tmp_path: Path) -> None:
    log_in(phone, *CAPTURE_USER)
    expect(phone).to_have_url(re.compile(re.escape(CAPTURE_PATH) + "$"))
    expect(phone.get_by_role("heading", name="Registrar detención")).to_be_visible()
    capture_shot = screenshot(phone, tmp_path, "capture.png", full_page=False)
    before = listed_folios(phone)

    # Submitted as it loads: Spanish errors beside each field and a summary; nothing registered.
    phone.goto(CAPTURE_PATH)
    assert submit_capture(phone) == 422
    expect(phone).to_have_url(re.compile(re.escape(CAPTURE_PATH) + "$"))
    summary = phone.locator("#form-errors")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("No se registró la detención")
    assert phone.evaluate("() => document.activeElement && document.activeElement.id") == (
        "form-errors"
    ), "the error summary should take the focus"
    for field in (
        "person-given_names",
        "person-first_surname",
        "reason",
        "receiving_authority-name",
    ):
        error = phone.locator(f"#f-{field}-err")
        expect(error).to_be_visible()
        expect(error).to_contain_text("Este dato es obligatorio")
    # The first officer is required too (at least one officer took part).
    expect(phone.locator("#f-officers-0-name-err")).to_contain_text("RND-E130")
    given = phone.locator("#f-person-given_names")
    expect(given).to_have_attribute("aria-invalid", "true")
    expect(given).to_have_attribute("aria-describedby", re.compile("f-person-given_names-err"))
    expect(phone.locator("#folio")).to_have_count(0)
    assert listed_folios(phone) == before, "an empty capture must not register anything"

    # Filled in: registered, and the detention's page shows the folio, person and timeline.
    person = new_detainee()
    folio = register(phone, person, local_datetime(minutes_ago=10))
    expect(phone.locator("#person-name")).to_have_text(person.full_name)
    expect(phone.locator(".timeline")).to_contain_text("Registro de la detención")
    expect(phone.get_by_text(f"Detención registrada con el folio {folio}")).to_be_visible()
    expect(phone.get_by_text("RND-W201")).to_have_count(0)
    detail_shot = screenshot(phone, tmp_path, "detail.png", full_page=True)

    # And the list shows it.
    assert folio in listed_folios(phone) - before
    expect(phone.locator("table")).to_contain_text(person.full_name)
    assert capture_shot.stat().st_size > 0 and detail_shot.stat().st_size > 0


def test_empty_required_selects_say_the_data_is_required(phone: Page) -> None:
    submit_empty_capture(phone)

    # The page is already rendered: read it at once rather than wait for text that never comes.
    errors = field_errors(phone)
    for field in ("person-sex", "arrest_basis", "receiving_authority-kind"):
        assert "Este dato es obligatorio" in errors.get(field, ""), (field, errors.get(field))
    messages = " ".join(errors.values())
    assert not re.search(r"\bor\b", messages), f"English in the field errors: {messages}"


def test_empty_capture_flags_the_missing_age_at_once(phone: Page) -> None:
    submit_empty_capture(phone)

    errors = field_errors(phone)
    assert "RND-E101" in errors.get("person-age", ""), errors


def test_late_registration_shows_the_w201_warning(phone: Page) -> None:
    log_in(phone, *CAPTURE_USER)
    person = new_detainee()

    folio = register(phone, person, local_datetime(minutes_ago=3 * 60))

    assert FOLIO.match(folio)
    warning = phone.locator(".alert-warning").filter(has_text="RND-W201")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("más de 60 minutos después de la detención")
    expect(phone.get_by_text("RND-W202")).to_have_count(0)


def test_pages_fit_a_phone_and_every_capture_input_has_a_visible_label(phone: Page) -> None:
    phone.goto(LOGIN_PATH)
    assert has_no_horizontal_overflow(phone), "login page scrolls sideways on a phone"

    log_in(phone, *CAPTURE_USER)
    phone.goto(CAPTURE_PATH)
    assert has_no_horizontal_overflow(phone), "capture page scrolls sideways on a phone"
    unlabelled: list[str] = phone.evaluate(
        """() => Array.from(document.querySelectorAll(
              'input:not([type=hidden]):not([type=checkbox]), select, textarea'))
            .filter(el => {
              const labels = Array.from(el.labels || []);
              return !labels.some(label => {
                const box = label.getBoundingClientRect();
                const style = getComputedStyle(label);
                return box.width > 0 && box.height > 0 && style.visibility !== 'hidden'
                  && label.textContent.trim() !== '';
              });
            })
            .map(el => el.id || el.name)"""
    )
    assert unlabelled == [], f"inputs without a visible label: {unlabelled}"
    inputs = phone.locator("form.capture input:not([type=hidden]):not([type=checkbox])")
    assert inputs.count() >= 15, "the capture form lost its inputs"

    register(phone, new_detainee(), local_datetime(minutes_ago=10))
    assert has_no_horizontal_overflow(phone), "detention page scrolls sideways on a phone"

    phone.goto(LIST_PATH)
    assert has_no_horizontal_overflow(phone), "list page scrolls sideways on a phone"


def test_receiving_authority_cannot_open_the_capture_form(phone: Page) -> None:
    log_in(phone, *RECEIVING_USER)

    response = phone.goto(CAPTURE_PATH)

    assert response is not None and response.status == 403
    expect(phone.get_by_role("heading", name="Acceso denegado")).to_be_visible()
    expect(phone.get_by_role("alert")).to_contain_text("registra detenciones")
    expect(phone.locator("html")).to_have_attribute("lang", "es-MX")
    expect(phone.locator("form.capture")).to_have_count(0)
    assert has_no_horizontal_overflow(phone)
