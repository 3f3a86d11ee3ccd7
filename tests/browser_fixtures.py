"""The browser tests' fixtures: a real server, Debian's Chromium and a phone-sized page.

A real ``custodia serve`` runs in a subprocess against its own fresh database (seeded with
``custodia demo``), and Debian's headless Chromium drives it through Playwright with a phone-sized
viewport. Nothing here uses the test run's own database.

Test modules load this file as a plugin, ``pytest_plugins = ["browser_fixtures"]``, rather than
importing from it: the session's server and browser are then started once however many modules
use them. The page helpers are in ``browser_pages``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from live_server import RunningServer, running_server

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
TIMEOUT_MS = 15_000


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
