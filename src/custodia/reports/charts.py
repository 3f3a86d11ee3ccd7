"""Charts of the monthly report as SVG text, drawn on the server: no JavaScript, no CDN, the same
drawing for the page and (later) the PDF. Pure: no Django. Every chart carries a title and a
text description for screen readers, and the page prints the same figures in a table."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from .monthly import unit_tables

BAR_HEIGHT = 22
LABEL_WIDTH = 210
WIDTH = 640
INK = "#1f4e79"
GRID = "#d0d7de"


def _svg(ident: str, width: int, height: int, title: str, description: str, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="{ident}-t {ident}-d" class="chart">'
        f'<title id="{ident}-t">{escape(title)}</title>'
        f'<desc id="{ident}-d">{escape(description)}</desc>{body}</svg>'
    )


def heat_shade(value: float, peak: float) -> float:
    """A heat-map cell's opacity, 0 to 1: empty cells blank, the faintest still visible. (In
    floating point 0.08 + 0.92 x value / peak can exceed 1 at the peak, which PDF refuses.)"""
    return min(1.0, 0.08 + 0.92 * value / peak) if value else 0.0


def bars(ident: str, title: str, items: Sequence[tuple[str, float]], unit: str = "") -> str:
    """Horizontal bars, one per (label, value), in the order given. ``ident`` must be unique
    on the page (it names the title and description)."""
    if not items:
        return _svg(ident, WIDTH, 40, title, "Sin datos.", '<text x="0" y="25">Sin datos</text>')
    top = max(value for _, value in items) or 1
    span = WIDTH - LABEL_WIDTH - 70
    parts = []
    for row, (label, value) in enumerate(items):
        y = row * (BAR_HEIGHT + 6)
        length = span * value / top
        shown = f"{value:g}{unit}"
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end" font-size="13">'
            f"{escape(label[:32])}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}" '
            f'fill="{INK}"/>'
            f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{y + 16}" font-size="13">{shown}</text>'
        )
    description = "; ".join(f"{label}: {value:g}{unit}" for label, value in items)
    height = len(items) * (BAR_HEIGHT + 6)
    return _svg(ident, WIDTH, height, title, description, "".join(parts))


def heat_map(ident: str, title: str, rows: Sequence[str], counts: Sequence[Sequence[int]]) -> str:
    """A grid of rows (weekdays) by 24 hours, darker for more."""
    cell, left, top_margin = 22, 90, 20
    peak = max((max(r) for r in counts if r), default=0) or 1
    parts = [
        f'<text x="{left + hour * cell + cell / 2}" y="14" font-size="10" text-anchor="middle">'
        f"{hour:02d}</text>"
        for hour in range(0, 24, 3)
    ]
    for r, (name, values) in enumerate(zip(rows, counts, strict=True)):
        y = top_margin + r * cell
        parts.append(
            f'<text x="{left - 6}" y="{y + 15}" text-anchor="end" font-size="12">'
            f"{escape(name)}</text>"
        )
        for hour, value in enumerate(values):
            shade = heat_shade(value, peak)
            parts.append(
                f'<rect x="{left + hour * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="{INK}" fill-opacity="{shade:.2f}" stroke="{GRID}" stroke-width="0.5">'
                f"<title>{escape(name)} {hour:02d} h: {value}</title></rect>"
            )
    busiest = max(
        ((value, name, hour) for name, values in zip(rows, counts, strict=True)
         for hour, value in enumerate(values)),
        default=(0, "", 0),
    )  # fmt: skip
    description = (
        f"Detenciones por día de la semana y hora local. Máximo: {busiest[0]} "
        f"el {busiest[1]} a las {busiest[2]:02d} h."
    )
    height = top_margin + len(rows) * cell + 4
    return _svg(ident, left + 24 * cell + 4, height, title, description, "".join(parts))


def for_report(report: dict[str, Any]) -> dict[str, str]:
    """The charts of a monthly report (``reports.monthly``), by name, for the page."""
    volume = report["volume"]
    units = unit_tables(report)

    def items(key: str) -> list[tuple[str, float]]:
        return [(i["label"], i["count"]) for i in volume[key]]

    completeness = [
        (f["label"], round(100 * f["share"], 1))
        for f in report["completeness"]["all"]
        if f["share"] is not None
    ]
    return {
        "basis": bars("c-basis", "Detenciones por fundamento", items("by_arrest_basis")),
        "units": bars(
            "c-units",
            f"Detenciones por {units['plural']}",
            [(i["label"], i["count"]) for i in units["volume"]][:15],
        ),
        "sex": bars("c-sex", "Detenciones por sexo", items("by_sex")),
        "age": bars("c-age", "Detenciones por edad (años)", items("by_age_band")),
        "outcome": bars("c-outcome", "Situación actual", items("by_outcome")),
        "heat": heat_map(
            "c-heat",
            "Detenciones por día y hora (hora local)",
            volume["weekday_hour"]["weekdays"],
            volume["weekday_hour"]["counts"],
        ),
        "completeness": bars("c-complete", "Registros con cada dato (%)", completeness, unit=" %"),
    }
