"""A police officer registers a detention from a phone, in a real browser, end to end.

A real ``custodia serve`` runs in a subprocess against its own fresh database (seeded with
``custodia demo``), and Debian's headless Chromium drives it through Playwright with a phone-sized
viewport. Nothing here uses the test run's own database.
"""

from __future__ import annotations

import random
import re
import shutil
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from live_server import RunningServer, running_server

pytestmark = pytest.mark.browser

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE_VIEWPORT: ViewportSize = {"width": 390, "height": 844}
TLAXCALA_ZONE = ZoneInfo("America/Mexico_City")
FOLIO = re.compile(r"^29-\d{4}-[0-9A-Z]{8}-[0-9A-Z]$")
CAPTURE_PATH = "/detenciones/nueva/"
LIST_PATH = "/detenciones/"
LOGIN_PATH = "/entrar/"
TIMEOUT_MS = 15_000
# Where copies of the screenshots are left for people to look at.
SCREENSHOT_COPIES = Path("/tmp")  # noqa: S108

CAPTURE_USER = ("captura", "captura-demo-2020")
RECEIVING_USER = ("receptor", "receptor-demo-2020")


# Fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_executable() -> Path:
    if DEBIAN_CHROMIUM.exists():
        return DEBIAN_CHROMIUM
    found = shutil.which("chromium")
    if found:
        return Path(found)
    pytest.skip(
        "Browser tests need Debian's chromium (/usr/bin/chromium; `apt-get install chromium`, "
        "as .ci/run does). Playwright's own browser download is not used."
    )


@pytest.fixture(scope="session")
def custodia_server(
    chromium_executable: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A real server on a free port with its own fresh, demo-seeded database.

    Depends on ``chromium_executable`` so that nothing is started when the browser is missing.
    """
    workdir = tmp_path_factory.mktemp("custodia-e2e")
    with running_server(settings.DATABASES["default"], workdir, detentions=5) as server:
        yield server


@pytest.fixture(scope="session")
def chromium(chromium_executable: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_executable), args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def phone(chromium: Browser, custodia_server: RunningServer) -> Iterator[Page]:
    """A fresh phone-sized browser session (no cookies) pointed at the server."""
    context = chromium.new_context(
        viewport=PHONE_VIEWPORT,
        is_mobile=True,
        has_touch=True,
        locale="es-MX",
        timezone_id="America/Mexico_City",
        base_url=custodia_server.base_url,
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


# Helpers ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Detainee:
    given_names: str
    first_surname: str
    second_surname: str

    @property
    def full_name(self) -> str:
        return f"{self.given_names} {self.first_surname} {self.second_surname}"


def new_detainee() -> Detainee:
    """A person whose name is unique to this run, so lists can be searched for it."""
    tag = "".join(random.choices(string.ascii_uppercase, k=6)).capitalize()
    return Detainee("Juan Carlos", "Hernández", tag)


def local_datetime(minutes_ago: int) -> str:
    """A ``datetime-local`` value in Tlaxcala's time, ``minutes_ago`` before now."""
    moment = datetime.now(TLAXCALA_ZONE) - timedelta(minutes=minutes_ago)
    return moment.strftime("%Y-%m-%dT%H:%M")


def log_in(page: Page, username: str, password: str) -> None:
    page.goto(LOGIN_PATH)
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.get_by_role("button", name="Entrar").click()
    expect(page.locator("#id_password")).to_have_count(0)


def fill_capture(page: Page, person: Detainee, detained_at: str) -> None:
    """Every required field of the capture form (and nothing optional)."""
    page.fill("#f-person-given_names", person.given_names)
    page.fill("#f-person-first_surname", person.first_surname)
    page.fill("#f-person-second_surname", person.second_surname)
    page.select_option("#f-person-sex", "male")
    page.fill("#f-person-age", "34")
    page.fill("#f-detained_at", detained_at)
    page.select_option("#f-arrest_basis", "flagrante")
    page.fill("#f-reason", "Robo a transeúnte con violencia")
    page.select_option("#f-place-state", "29")
    page.select_option("#f-place-municipality", "29033")
    page.fill("#f-officers-0-name", "Pedro Ruiz Soto")
    page.select_option("#f-receiving_authority-kind", "public_prosecutor")
    page.fill("#f-receiving_authority-name", "Fiscalía General de Justicia de Tlaxcala, MP Centro")


def submit_capture(page: Page) -> int:
    """Submit the capture form; the status of the POST's response."""
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith(CAPTURE_PATH)
    ) as posted:
        page.get_by_role("button", name="Registrar detención").click()
    status: int = posted.value.status
    page.wait_for_load_state()
    return status


def register(page: Page, person: Detainee, detained_at: str) -> str:
    """Fill and submit the capture form; the folio shown on the detention's page."""
    page.goto(CAPTURE_PATH)
    fill_capture(page, person, detained_at)
    status = submit_capture(page)
    assert status == 302, f"the registration was not accepted (HTTP {status})"
    page.wait_for_url(re.compile(r"/detenciones/29-"))
    folio = page.locator("#folio").inner_text().strip()
    assert FOLIO.match(folio), folio
    return folio


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


def listed_folios(page: Page) -> set[str]:
    page.goto(LIST_PATH)
    return {text.strip() for text in page.locator("table tbody td code").all_inner_texts()}


def has_no_horizontal_overflow(page: Page) -> bool:
    overflow: bool = page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth + 1"
    )
    return overflow


def screenshot(page: Page, directory: Path, name: str, *, full_page: bool) -> Path:
    """A screenshot in ``directory``, also copied to /tmp for people to look at.

    Pages with the capture form's sticky submit bar are shot as the phone shows them: a
    full-page shot paints that bar in the middle of the form.
    """
    path = directory / name
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 0, f"empty screenshot {path}"
    shutil.copyfile(path, SCREENSHOT_COPIES / f"e2e-{name}")
    return path


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
