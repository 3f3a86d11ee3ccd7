"""The custody chain in a real browser: the police register, the prosecutor takes the person in
and later releases them, and a state analyst sees an overdue handover among the alerts.

Same setting as ``test_browser_capture``: a real ``custodia serve`` on its own demo-seeded
database, driven by Debian's headless Chromium with a phone-sized viewport.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from browser_pages import (
    CAPTURE_USER,
    RECEIVING_USER,
    Detainee,
    has_no_horizontal_overflow,
    local_datetime,
    log_in,
    log_out,
    new_detainee,
    register,
    screenshot,
)

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_fixtures"]

INBOX_PATH = "/bandeja/"
ALERTS_PATH = "/alertas/"
STATE_ANALYST_USER = ("analista.estatal", "estatal-demo-2020")
PROSECUTOR_INSTITUTION = "fgje-tlax"
PROSECUTOR_INSTITUTION_NAME = "Fiscalía General de Justicia del Estado de Tlaxcala"
PROSECUTOR_NAME = "Fiscalía General de Justicia del Estado de Tlaxcala, MP Centro"

# Helpers ----------------------------------------------------------------------------------------


def detail_url(folio: str) -> re.Pattern[str]:
    return re.compile(re.escape(f"/detenciones/{folio}/") + "$")


def timeline(page: Page) -> Locator:
    return page.locator("ol.timeline > li")


def status_badge(page: Page) -> Locator:
    return page.locator("header.record-head .badge")


def record_movement(
    page: Page,
    *,
    kind: str,
    legal_status: str | None = None,
    authority_kind: str | None = None,
    authority_name: str | None = None,
    institution: str | None = None,
    place_name: str | None = None,
    details: str | None = None,
) -> int:
    """Fill the detention page's "Registrar movimiento" form (``kind`` and ``legal_status`` by
    their Spanish labels, the time left as the form proposes it) and submit it; the status of the
    POST's response, once the resulting page has loaded."""
    page.select_option("#f-kind", label=kind)
    if legal_status is not None:
        page.select_option("#f-legal_status", label=legal_status)
    if authority_kind is not None:
        page.select_option("#f-authority-kind", authority_kind)
    if authority_name is not None:
        page.fill("#f-authority-name", authority_name)
    if institution is not None:
        page.select_option("#f-authority-institution", institution)
    if place_name is not None:
        page.fill("#f-place-name", place_name)
    if details is not None:
        page.fill("#f-details", details)
    with (
        page.expect_navigation(),
        page.expect_response(
            lambda r: r.request.method == "POST" and r.url.endswith("/movimientos/")
        ) as posted,
    ):
        page.get_by_role("button", name="Registrar movimiento").click()
    status: int = posted.value.status
    return status


def hand_over_to_the_prosecutor(page: Page) -> int:
    """On the detention's page, put the person at the prosecutor's disposal."""
    return record_movement(
        page,
        kind="Puesta a disposición",
        legal_status="Retención ministerial",
        authority_kind="public_prosecutor",
        authority_name=PROSECUTOR_NAME,
        institution=PROSECUTOR_INSTITUTION,
        place_name="Agencia del Ministerio Público, Centro",
    )


def record_release(page: Page) -> int:
    return record_movement(page, kind="Libertad", details="Sin elementos para la imputación.")


def register_for_the_prosecutor(page: Page, person: Detainee) -> str:
    """As the police, register a detention naming the prosecutor's office as the receiver (30
    minutes ago in Tlaxcala), then log out. The folio."""
    log_in(page, *CAPTURE_USER)
    folio = register(
        page, person, local_datetime(minutes_ago=30), receiving_institution=PROSECUTOR_INSTITUTION
    )
    expect(status_badge(page)).to_have_text("Bajo custodia policial")
    log_out(page)
    return folio


# Tests ------------------------------------------------------------------------------------------


def test_prosecutor_takes_in_and_releases_a_detained_person(phone: Page, tmp_path: Path) -> None:
    person = new_detainee()
    folio = register_for_the_prosecutor(phone, person)

    # The prosecutor's inbox lists the person it is about to receive.
    log_in(phone, *RECEIVING_USER)
    phone.goto(INBOX_PATH)
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        f"Bandeja de {PROSECUTOR_INSTITUTION_NAME}"
    )
    row = phone.locator("table tbody tr").filter(has_text=folio)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(person.full_name)
    expect(row).to_contain_text("Bajo custodia policial")
    assert has_no_horizontal_overflow(phone), "the inbox scrolls sideways on a phone"

    with phone.expect_navigation():
        row.get_by_role("link", name=folio).click()
    expect(phone).to_have_url(detail_url(folio))
    expect(phone.locator("#folio")).to_have_text(folio)
    expect(phone.locator("#person-name")).to_have_text(person.full_name)
    expect(timeline(phone)).to_have_count(1)
    expect(phone.get_by_role("heading", name="Registrar movimiento")).to_be_visible()
    assert has_no_horizontal_overflow(phone), "the detention page scrolls sideways on a phone"

    # The person is put at the prosecutor's disposal.
    status = hand_over_to_the_prosecutor(phone)
    assert status == 302, f"the handover was not accepted (HTTP {status})"
    expect(phone).to_have_url(detail_url(folio))
    expect(phone.get_by_text("Movimiento registrado: Puesta a disposición.")).to_be_visible()
    expect(status_badge(phone)).to_have_text("A disposición del Ministerio Público")
    expect(timeline(phone)).to_have_count(2)
    handover = timeline(phone).last
    expect(handover.locator(".event-title")).to_contain_text("Puesta a disposición")
    expect(handover).to_contain_text(PROSECUTOR_NAME)
    expect(handover).to_contain_text("Situación jurídica: Retención ministerial")
    assert "retencion_ministerial" not in handover.inner_text(), "a code instead of its label"
    expect(phone.locator("header.record-head")).to_contain_text("versión 2")
    # A second tab keeps the page as it is now, its event form written against version 2.
    stale = phone.context.new_page()
    stale.goto(f"/detenciones/{folio}/")
    expect(stale.locator("header.record-head")).to_contain_text("versión 2")

    # And released.
    status = record_release(phone)
    assert status == 302, f"the release was not accepted (HTTP {status})"
    expect(phone).to_have_url(detail_url(folio))
    expect(phone.get_by_text("Movimiento registrado: Libertad.")).to_be_visible()
    expect(status_badge(phone)).to_have_text("En libertad")
    expect(timeline(phone)).to_have_count(3)
    titles = [t.strip() for t in timeline(phone).locator(".event-title strong").all_inner_texts()]
    assert titles == ["Registro de la detención", "Puesta a disposición", "Libertad"], titles
    expect(phone.locator("header.record-head")).to_contain_text("versión 3")
    assert has_no_horizontal_overflow(phone), "the detention page scrolls sideways on a phone"
    screenshot(phone, tmp_path, "custody.png", full_page=True)

    # The stale tab's form is refused (409) with a Spanish explanation, and adds nothing.
    status = record_movement(stale, kind="Nota", details="Escrita sobre la versión 2.")
    assert status == 409, f"a form written against an old version was not refused (HTTP {status})"
    conflict = stale.get_by_role("alert").filter(has_text="cambió mientras usted escribía")
    expect(conflict).to_contain_text("versión actual: 3")
    expect(timeline(stale)).to_have_count(3)
    expect(status_badge(stale)).to_have_text("En libertad")
    stale.close()

    # A second release is refused in Spanish, with the rule's code, and adds nothing.
    status = record_release(phone)
    assert status == 422, f"a second release should be refused with 422 (HTTP {status})"
    summary = phone.locator("#event-errors")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("No se registró el movimiento")
    expect(summary).to_contain_text("La persona ya fue puesta en libertad")
    expect(summary).to_contain_text("RND-E306")
    expect(timeline(phone)).to_have_count(3)
    assert has_no_horizontal_overflow(phone), "the refused form scrolls sideways on a phone"

    phone.goto(f"/detenciones/{folio}/")
    expect(timeline(phone)).to_have_count(3)
    expect(status_badge(phone)).to_have_text("En libertad")
    expect(phone.locator("header.record-head")).to_contain_text("versión 3")

    # Released, the person has left the prosecutor's inbox.
    phone.goto(INBOX_PATH)
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    expect(phone.locator("table tbody tr").filter(has_text=folio)).to_have_count(0)


def test_state_analyst_sees_an_overdue_handover_among_the_alerts(phone: Page) -> None:
    # Detained five hours ago and still with the police: past the 4 h handover warning.
    log_in(phone, *CAPTURE_USER)
    folio = register(phone, new_detainee(), local_datetime(minutes_ago=5 * 60))
    log_out(phone)

    log_in(phone, *STATE_ANALYST_USER)
    response = phone.goto(ALERTS_PATH)

    assert response is not None and response.status == 200
    expect(phone.locator("html")).to_have_attribute("lang", "es-MX")
    expect(phone).to_have_title(re.compile(r"^Alertas de plazos"))
    expect(phone.get_by_role("heading", level=1)).to_have_text("Plazos legales vencidos")
    expect(phone.get_by_text(re.compile(r"\d+ plazos? vencidos?\."))).to_be_visible()
    row = phone.locator("tr.alert-row").filter(has_text=folio)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Puesta a disposición sin demora")
    expect(row).to_contain_text("Advertencia")
    expect(row.locator("td[data-label='Vencido hace']")).to_contain_text(re.compile(r"\d+ h"))
    assert has_no_horizontal_overflow(phone), "the alerts page scrolls sideways on a phone"
