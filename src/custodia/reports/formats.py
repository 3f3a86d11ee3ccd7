"""The monthly report as files: JSON, CSV, XLSX (one sheet per section) and PDF (docs/reports.md).
The HTML page is the template ``reports/mensual.html``."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FORMATS = ("json", "csv", "xlsx", "pdf")
CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
SECTION_TITLES = {
    "volume": "1 Volumen",
    "timeliness": "2 Oportunidad",
    "completeness": "3 Completitud",
    "constancy": "4 Constancia",
    "legal_clocks": "5 Plazos legales",
    "corrections": "6 Correcciones",
    "quality": "7 Calidad",
    "trends": "8 Tendencias",
}
CSV_HEADER = ("seccion", "tabla", "clave", "etiqueta", "medida", "valor")


def page_context(report: dict[str, Any]) -> dict[str, Any]:
    """What the page template ``reports/mensual.html`` renders a report with."""
    from . import charts
    from .monthly import unit_tables

    return {"report": report, "charts": charts.for_report(report), "units": unit_tables(report)}


def as_html(report: dict[str, Any], month_label: str) -> str:
    """The page as one self-contained file (its stylesheet inlined, the charts are inline SVG):
    what `custodia report monthly --format html -o FILE` writes, to open without the server."""
    from django.contrib.staticfiles import finders
    from django.template.loader import render_to_string
    from django.templatetags.static import static

    page = str(
        render_to_string(
            "reports/mensual.html", page_context(report) | {"month_label": month_label}
        )
    )
    link = f'<link rel="stylesheet" href="{static("custodia/custodia.css")}">'
    found = finders.find("custodia/custodia.css")
    if found and link in page:
        css = Path(str(found)).read_text(encoding="utf-8")
        page = page.replace(link, f"<style>\n{css}\n</style>")
    return page


def as_json(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2)


def _cells(
    section: str, table: str, value: Any, key: str = "", label: str = ""
) -> Iterator[tuple[Any, ...]]:
    """Flatten nested dicts and lists into (section, table, key, label, measure, value) rows."""
    if isinstance(value, dict):
        if "count" in value and "key" in value:  # a labelled count: {"key", "label", "count"}
            yield section, table, value["key"], value.get("label", ""), "count", value["count"]
            return
        for name, inner in value.items():
            if isinstance(inner, (dict, list)):
                yield from _cells(section, f"{table}.{name}" if table else name, inner, key, label)
            else:
                yield section, table, key, label, name, inner
    elif isinstance(value, list):
        for position, item in enumerate(value):
            if isinstance(item, dict):
                item_key = str(item.get("key") or item.get("institution") or item.get("state")
                               or item.get("field") or item.get("clock") or position)  # fmt: skip
                item_label = str(item.get("label") or item.get("name") or "")
                yield from _cells(section, table, item, item_key, item_label)
            elif isinstance(item, list):  # the weekday x hour grid
                for hour, count in enumerate(item):
                    yield section, table, str(position), "", f"hora {hour:02d}", count
            else:
                yield section, table, key, label, str(position), item
    else:
        yield section, table, key, label, "valor", value


def as_csv(report: dict[str, Any]) -> str:
    """One row per figure: section, table, key, label, measure, value (UTF-8, comma-separated).
    Empty values (no data) are empty cells, never zeros."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerow(("informe", "", "mes", "", "valor", report["month"]))
    writer.writerow(
        ("informe", "", "entidad", report["state_name"], "valor", report["state"] or "")
    )
    for section, value in report.items():
        if section in ("month", "state", "state_name"):
            continue
        for row in _cells(section, "", value):
            writer.writerow(["" if cell is None else cell for cell in row])
    return out.getvalue()


def as_xlsx(report: dict[str, Any]) -> bytes:
    """One sheet per section, each with the CSV's columns, and a cover sheet."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    bold = book.add_format({"bold": True})
    cover = book.add_worksheet("Informe")
    cover.write_row(0, 0, ("Informe mensual de detenciones",), bold)
    cover.write_row(1, 0, ("Mes", report["month"]))
    cover.write_row(2, 0, ("Entidad", report["state_name"]))
    cover.write_row(3, 0, ("Definiciones", "docs/reports.md"))
    for section, title in SECTION_TITLES.items():
        sheet = book.add_worksheet(title)
        sheet.write_row(0, 0, CSV_HEADER[1:], bold)
        for n, (_, *cells) in enumerate(_cells(section, "", report[section]), start=1):
            sheet.write_row(n, 0, ["" if c is None else c for c in cells])
        sheet.set_column(0, 0, 28)
        sheet.set_column(1, 2, 22)
        sheet.set_column(3, 3, 30)
    book.close()
    return out.getvalue()


def render(report: dict[str, Any], fmt: str) -> str | bytes:
    if fmt == "csv":
        return as_csv(report)
    if fmt == "xlsx":
        return as_xlsx(report)
    if fmt == "pdf":
        from .pdf import as_pdf

        return as_pdf(report)
    return as_json(report)


def download(report: dict[str, Any], fmt: str) -> Any:
    """The report as a file to download (an HttpResponse), named after its month and scope."""
    from django.http import HttpResponse

    response = HttpResponse(render(report, fmt), content_type=CONTENT_TYPES[fmt])
    name = f"informe-{report['month']}-{report['state'] or 'nacional'}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def bad_format(field: str) -> Any:
    """The Spanish error for a format the report does not come in."""
    from custodia.core.errors import InvalidFields

    return InvalidFields([(field, f"Formato: use {', '.join(FORMATS)} o html.")])
