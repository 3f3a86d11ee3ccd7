"""The monthly report as a print-quality PDF (ReportLab): letter size, an official header, the
same figures and charts as the page (bars and the weekday x hour heat map, drawn as vectors),
and page numbers."""

from __future__ import annotations

import io
from typing import Any

from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from .charts import heat_shade
from .monthly import unit_tables

INK = colors.HexColor("#1f4e79")
WIDTH = letter[0] - 4 * cm


def _bars(title: str, items: list[tuple[str, float]], unit: str = "") -> list[Any]:
    styles = getSampleStyleSheet()
    flow: list[Any] = [Paragraph(title, styles["Heading4"])]
    if not items:
        return [KeepTogether([*flow, Paragraph("Sin datos.", styles["BodyText"])])]
    row, label_width = 14, 5.5 * cm
    drawing = Drawing(WIDTH, row * len(items) + 4)
    top = max(v for _, v in items) or 1
    span = WIDTH - label_width - 2 * cm
    for n, (label, value) in enumerate(items):
        y = drawing.height - (n + 1) * row
        drawing.add(String(label_width - 4, y + 3, label[:34], fontSize=8, textAnchor="end"))
        length = span * value / top
        drawing.add(Rect(label_width, y, length, row - 3, fillColor=INK, strokeColor=None))
        drawing.add(String(label_width + length + 3, y + 3, f"{value:g}{unit}", fontSize=8))
    return [KeepTogether([*flow, drawing])]  # a chart never parts from its title


def _heat(title: str, weekdays: list[str], counts: list[list[int]]) -> list[Any]:
    styles = getSampleStyleSheet()
    cell, left = 0.62 * cm, 2.2 * cm
    drawing = Drawing(left + 24 * cell, (len(weekdays) + 1) * cell)
    peak = max((max(r) for r in counts if r), default=0) or 1
    for hour in range(0, 24, 3):
        drawing.add(String(left + hour * cell, drawing.height - 8, f"{hour:02d}", fontSize=7))
    for r, (name, values) in enumerate(zip(weekdays, counts, strict=True)):
        y = drawing.height - (r + 2) * cell
        drawing.add(String(left - 4, y + 5, name, fontSize=7, textAnchor="end"))
        for hour, value in enumerate(values):
            shade = heat_shade(value, peak)
            fill = colors.Color(INK.red, INK.green, INK.blue, alpha=shade)
            drawing.add(
                Rect(left + hour * cell, y, cell - 1, cell - 1, fillColor=fill,
                     strokeColor=colors.HexColor("#d0d7de"), strokeWidth=0.3)
            )  # fmt: skip
    return [KeepTogether([Paragraph(title, styles["Heading4"]), drawing])]


def _table(header: list[str], rows: list[list[Any]]) -> Table:
    data = [header, *[["—" if c is None else c for c in row] for row in rows]]
    table = Table(data, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b0b8c0")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f} %"


def as_pdf(report: dict[str, Any]) -> bytes:
    styles = getSampleStyleSheet()
    styles["Heading2"].keepWithNext = 1  # a section's title never ends a page
    small = ParagraphStyle("small", parent=styles["BodyText"], fontSize=8, leading=10)
    title = f"Informe mensual de detenciones — {report['state_name']}, {report['month']}"
    out = io.BytesIO()

    def header(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica-Bold", 9)
        canvas.drawString(2 * cm, letter[1] - 1.3 * cm, "Registro Nacional de Detenciones")
        canvas.setFont("Helvetica", 8)
        canvas.drawRightString(letter[0] - 2 * cm, letter[1] - 1.3 * cm, title)
        canvas.drawRightString(letter[0] - 2 * cm, 1.2 * cm, f"Página {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        out, pagesize=letter, leftMargin=2 * cm, rightMargin=2 * cm, topMargin=2 * cm,
        bottomMargin=2 * cm, title=title, author="Custodia",
    )  # fmt: skip
    volume, trends = report["volume"], report["trends"]["figures"]
    story: list[Any] = [
        Paragraph(title, styles["Title"]),
        Paragraph(
            "Acuerdo TERCERO de la Conferencia Nacional de Secretarios de Seguridad Pública. Los "
            "meses se cuentan en la hora local de cada detención; definiciones y fórmulas en "
            "docs/reports.md.",
            small,
        ),
        Spacer(1, 0.3 * cm),
        _table(["Indicador", "Este mes", "Mes anterior", "Año anterior"], _headline(trends)),
        Paragraph("1. Volumen", styles["Heading2"]),
    ]
    units = unit_tables(report)
    for items, label in (
        (volume["by_arrest_basis"], "Por fundamento"),
        (units["volume"], f"Por {units['plural']}"),
        (volume["by_sex"], "Por sexo"),
        (volume["by_age_band"], "Por edad"),
        (volume["by_outcome"], "Situación actual"),
    ):
        story += _bars(label, [(i["label"], i["count"]) for i in items][:15])
    story += _heat(
        "Día y hora (hora local)",
        volume["weekday_hour"]["weekdays"],
        volume["weekday_hour"]["counts"],
    )
    story += [
        Paragraph("2. Oportunidad", styles["Heading2"]),
        _table(
            [
                units["label"],
                "Registros",
                "Mediana (min)",
                "p90 (min)",
                "Puestas",
                "Mediana puesta",
            ],
            _timeliness_rows(units["timeliness"]),
        ),
        Paragraph("3. Completitud", styles["Heading2"]),
    ]
    story += _bars(
        "Registros con cada dato (%)",
        [
            (f["label"], round(100 * f["share"], 1))
            for f in report["completeness"]["all"]
            if f["share"] is not None
        ],
        " %",
    )
    story += [
        Paragraph("4. Constancia", styles["Heading2"]),
        _table(
            [units["label"], "Días en operación", "Con capturas", "En cero", "Sin información"],
            [
                [
                    i["name"][:45],
                    i["expected_days"],
                    i["days_with_captures"],
                    i["days_with_zero_report"],
                    i["silent_days"],
                ]
                for i in units["constancy"]
            ],
        ),
        Paragraph("5. Plazos legales", styles["Heading2"]),
        _table(
            ["Plazo", "Vencidos", "Abiertos al cierre"],
            [
                [c["label"], c["breached"], c["open_at_month_end"]]
                for c in report["legal_clocks"]["clocks"]
            ],
        ),
        Paragraph("6. Correcciones y actualizaciones tardías", styles["Heading2"]),
        Paragraph(
            f"Correcciones: {report['corrections']['corrections']}. Actualizaciones de "
            f"autoridades receptoras: {report['corrections']['receiving_updates']}, tardías: "
            f"{report['corrections']['late_receiving_updates']}.",
            styles["BodyText"],
        ),
        Paragraph("7. Índice de calidad", styles["Heading2"]),
        Paragraph(
            "Índice = 100 por (0.30 oportunidad + 0.25 completitud + 0.25 constancia + 0.20 "
            "legalidad).",
            small,
        ),
        _table(
            ["Lugar", "Entidad", "Índice"],
            [
                [s["rank"], s["name"], s["index"]]
                for s in report["quality"]["state_ranking"]
                if s["index"] is not None
            ],
        ),
    ]
    doc.build(story, onFirstPage=header, onLaterPages=header)
    return out.getvalue()


def _minutes(value: float | None) -> str | None:
    return None if value is None else f"{value:.0f}"


def _headline(trends: dict[str, Any]) -> list[list[Any]]:
    def plain(v: Any) -> Any:
        return v

    def minutes(v: float | None) -> str | None:
        return _minutes(v)

    rows = (
        ("detentions", "Detenciones", plain),
        ("registration_median_minutes", "Mediana de demora del registro (min)", minutes),
        ("registered_within_warning", "Registradas dentro del umbral", _percent),
        ("reporting_rate", "Días reportados (capturas o cero)", _percent),
        ("detentions_with_a_breach", "Con algún plazo vencido", plain),
        ("quality_index", "Índice de calidad (0 a 100)", plain),
    )
    return [
        [
            label,
            fmt(trends[key]["current"]),
            fmt(trends[key]["previous_month"]),
            fmt(trends[key]["same_month_last_year"]),
        ]
        for key, label, fmt in rows
    ]


def _timeliness_rows(by_unit: list[tuple[str, Any]]) -> list[list[Any]]:
    return [
        [
            name[:45],
            s["registration"]["count"],
            _minutes(s["registration"]["median_minutes"]),
            _minutes(s["registration"]["p90_minutes"]),
            s["handover"]["count"],
            _minutes(s["handover"]["median_minutes"]),
        ]
        for name, s in by_unit
    ]
