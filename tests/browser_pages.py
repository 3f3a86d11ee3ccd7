"""Page helpers for the browser tests (the fixtures are in ``browser_fixtures``)."""

from __future__ import annotations

import random
import re
import shutil
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

TLAXCALA_ZONE = ZoneInfo("America/Mexico_City")
FOLIO = re.compile(r"^29-\d{4}-[0-9A-Z]{8}-[0-9A-Z]$")
CAPTURE_PATH = "/detenciones/nueva/"
LIST_PATH = "/detenciones/"
LOGIN_PATH = "/entrar/"
# Where copies of the screenshots are left for people to look at.
SCREENSHOT_COPIES = Path("/tmp")  # noqa: S108

CAPTURE_USER = ("captura", "captura-demo-2020")
RECEIVING_USER = ("receptor", "receptor-demo-2020")


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


def log_out(page: Page) -> None:
    """Press the top bar's "Salir" button; the login page comes back."""
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile(r"^Salir")).click()
    expect(page).to_have_url(re.compile(re.escape(LOGIN_PATH) + "$"))
    expect(page.locator("#id_password")).to_be_visible()


def fill_capture(
    page: Page, person: Detainee, detained_at: str, *, receiving_institution: str | None = None
) -> None:
    """Every required field of the capture form (and, if given, the receiving institution)."""
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
    if receiving_institution is not None:
        page.select_option("#f-receiving_authority-institution", receiving_institution)


def submit_capture(page: Page) -> int:
    """Submit the capture form; the status of the POST's response."""
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith(CAPTURE_PATH)
    ) as posted:
        page.get_by_role("button", name="Registrar detención").click()
    status: int = posted.value.status
    page.wait_for_load_state()
    return status


def register(
    page: Page, person: Detainee, detained_at: str, *, receiving_institution: str | None = None
) -> str:
    """Fill and submit the capture form; the folio shown on the detention's page."""
    page.goto(CAPTURE_PATH)
    fill_capture(page, person, detained_at, receiving_institution=receiving_institution)
    status = submit_capture(page)
    assert status == 302, f"the registration was not accepted (HTTP {status})"
    page.wait_for_url(re.compile(r"/detenciones/29-"))
    folio = page.locator("#folio").inner_text().strip()
    assert FOLIO.match(folio), folio
    return folio


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
