"""The monthly report in a real browser: an analyst opens it, sees its charts, and the page
passes axe (WCAG 2.1 AA)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from browser_pages import log_in, log_out, screenshot

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_fixtures"]

WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def test_an_analyst_opens_the_monthly_report_with_its_charts(phone: Page, tmp_path: Path) -> None:
    from axe_playwright_python.sync_playwright import Axe

    month = timezone.now().astimezone(ZoneInfo("America/Mexico_City")).strftime("%Y-%m")
    log_in(phone, "analista.nacional", "nacional-demo-2020")
    phone.goto("/reportes/")
    phone.locator("#r-mes").fill(month)
    phone.get_by_label("Entidad", exact=True).select_option("29")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Ver informe").click()
    expect(phone.locator("#head-title")).to_contain_text("Tlaxcala")
    charts = phone.locator("svg.chart")
    expect(charts.first).to_be_visible()
    assert charts.count() >= 7
    expect(phone.locator("#c-basis-t")).to_have_text("Detenciones por fundamento")
    assert phone.locator("svg.chart rect").count() > 10  # bars and heat-map cells drawn
    expect(phone.get_by_role("link", name="Descargar CSV")).to_be_visible()
    results = Axe().run(phone, options=WCAG_21_AA)
    assert results.violations_count == 0, results.generate_report()
    screenshot(phone, tmp_path, "informe-mensual.png", full_page=True)
    # The national report compares states.
    phone.get_by_label("Entidad", exact=True).select_option("")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Ver informe").click()
    expect(phone.locator("#head-title")).to_contain_text("Nacional")
    expect(phone.locator("#c-units-t")).to_have_text("Detenciones por entidad")
    timeliness = phone.locator("section[aria-labelledby=time-title] table")
    expect(timeliness.locator("th").first).to_have_text("Entidad")
    constancy = phone.locator("section[aria-labelledby=const-title] table")
    expect(constancy.locator("th").first).to_have_text("Entidad")
    expect(constancy).to_contain_text("Tlaxcala")  # its police, added up
    results = Axe().run(phone, options=WCAG_21_AA)
    assert results.violations_count == 0, results.generate_report()
    phone.goto(f"/reportes/calidad/?mes={month}")
    expect(phone.locator("#quality-title")).to_contain_text("Nacional")
    results = Axe().run(phone, options=WCAG_21_AA)
    assert results.violations_count == 0, results.generate_report()
    log_out(phone)
