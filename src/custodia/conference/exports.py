"""The Conference's documents: a session's "acta de acuerdos" (PDF, ReportLab) and the follow-up
of every open commitment (XLSX, XlsxWriter) for the Secretariat's semi-annual report to the
national council.

User text reaches ReportLab as escaped markup and XlsxWriter through ``write_string`` (never a
formula), so a title beginning with "=" stays text.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from custodia.reports.queries import MONTH_NAMES

from . import queries
from .models import Session

INK = colors.HexColor("#611232")
WIDTH = letter[0] - 4 * cm
CONFERENCE = "Conferencia Nacional de Secretarios de Seguridad Pública"


def long_date(day: date) -> str:
    """ "30 de junio de 2020"."""
    return f"{day.day} de {MONTH_NAMES[day.month - 1]} de {day.year}"


def _markup(text: str) -> str:
    return escape(text).replace("\n", "<br/>")


class _NumberedCanvas(Canvas):
    """Writes "Página N de M": the pages are kept until the document knows M."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont("Helvetica", 8)
            self.drawRightString(
                letter[0] - 2 * cm, 1.2 * cm, f"Página {self._pageNumber} de {total}"
            )
            super().showPage()
        super().save()


def _table(header: list[str], rows: list[list[Any]], widths: list[float]) -> Table:
    table = Table([header, *rows], colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#ece9e3")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b0b8c0")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def acta_pdf(session: Session) -> bytes:
    """The session's record of agreements: agenda and its approval, each agreement with its
    instruments and commitments (owner, due date, status today), attendance and communiqués."""
    styles = getSampleStyleSheet()
    body = ParagraphStyle("acta", parent=styles["BodyText"], fontSize=10, leading=14)
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10)
    cell = ParagraphStyle("cell", parent=small)
    heading = ParagraphStyle("h", parent=styles["Heading2"], textColor=INK, keepWithNext=1)
    title = f"Acta de acuerdos de la {session.title}"
    out = io.BytesIO()

    def header(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica-Bold", 9)
        canvas.setFillColor(INK)
        canvas.drawString(2 * cm, letter[1] - 1.3 * cm, CONFERENCE)
        canvas.setFont("Helvetica", 8)
        canvas.setFillColor(colors.black)
        canvas.drawRightString(letter[0] - 2 * cm, letter[1] - 1.3 * cm, session.title)
        canvas.drawString(
            2 * cm, 1.2 * cm, f"Custodia · emitida el {long_date(timezone.localdate())}"
        )
        canvas.restoreState()

    doc = SimpleDocTemplate(
        out, pagesize=letter, leftMargin=2 * cm, rightMargin=2 * cm, topMargin=2 * cm,
        bottomMargin=2 * cm, title=title, author="Secretaría Técnica de la Conferencia",
    )  # fmt: skip
    place = session.place or "lugar no consignado en el acta"
    story: list[Any] = [
        Paragraph(_markup(CONFERENCE), styles["Title"]),
        Paragraph(_markup(session.title.upper()), styles["Title"]),
        Paragraph(
            _markup(f"{session.get_kind_display()} · {long_date(session.held_on)} · {place}"),
            ParagraphStyle("center", parent=body, alignment=1),
        ),
        Spacer(1, 0.4 * cm),
        Paragraph("Orden del día", heading),
    ]
    agenda = list(session.agenda.all())
    if agenda:
        for item in agenda:
            presenter = f" (presenta {item.presenter})" if item.presenter else ""
            story.append(Paragraph(_markup(f"{item.position}. {item.title}{presenter}"), body))
    else:
        story.append(Paragraph("Sin orden del día registrado.", body))
    if session.agenda_approved_on:
        by = session.agenda_approved_by
        story.append(
            Paragraph(
                _markup(
                    f"Aprobado el {long_date(session.agenda_approved_on)}"
                    + (f" por el acuerdo {by.ordinal} ({by.code})." if by else ".")
                ),
                small,
            )
        )
    story.append(Paragraph("Acuerdos", heading))
    today = timezone.localdate()
    for agreement in session.agreements.all():
        block: list[Any] = [
            Paragraph(
                f"<b>{agreement.ordinal}.</b> {_markup(agreement.title)} "
                f"<font color='#545b62'>({escape(agreement.code)})</font>",
                ParagraphStyle("at", parent=body, fontSize=11, spaceBefore=8, keepWithNext=1),
            ),
            Paragraph(_markup(agreement.text), body),
        ]
        labels = agreement.instrument_labels()
        if labels:
            block.append(Paragraph(_markup("Atañe a: " + "; ".join(labels) + "."), small))
        story += block
        commitments = list(agreement.commitments.all())
        if commitments:
            story.append(Spacer(1, 0.15 * cm))
            rows = [
                [
                    str(c.position),
                    Paragraph(_markup(c.description), cell),
                    Paragraph(_markup(c.owner_label), cell),
                    c.due_on.strftime("%d/%m/%Y") if c.due_on else "Sin fecha",
                    c.get_status_display() + (" (vencido)" if c.overdue_on(today) else ""),
                ]
                for c in commitments
            ]
            story.append(
                _table(
                    ["#", "Compromiso", "Responsable", "Fecha", "Estado"],
                    rows,
                    [0.7 * cm, 7.8 * cm, 4 * cm, 1.8 * cm, WIDTH - 14.3 * cm],
                )
            )
    attendance = list(session.attendance.all())
    story.append(Paragraph("Asistencia por entidad", heading))
    if attendance:
        story.append(
            _table(
                ["Entidad", "Asistencia", "Asistente", "Cargo"],
                [
                    [
                        a.state.name,
                        a.get_mode_display(),
                        Paragraph(_markup(a.attendee or "—"), cell),
                        Paragraph(_markup(a.position or "—"), cell),
                    ]
                    for a in attendance
                ],
                [4 * cm, 2.8 * cm, 5 * cm, WIDTH - 11.8 * cm],
            )
        )
    else:
        story.append(Paragraph("El acta no consigna la asistencia por entidad.", body))
    communiques = list(session.communiques.all())
    if communiques:
        story.append(Paragraph("Comunicados", heading))
        for communique in communiques:
            status = communique.get_status_display().lower()
            story.append(Paragraph(f"<b>{_markup(communique.title)}</b> ({status})", body))
            if communique.body:
                story.append(Paragraph(_markup(communique.body), body))
            elif not communique.text_in_record:
                story.append(Paragraph("Anexo al acta; su texto no consta en el registro.", small))
    doc.build(story, onFirstPage=header, onLaterPages=header, canvasmaker=_NumberedCanvas)
    return out.getvalue()


# The follow-up spreadsheet -----------------------------------------------------------------------

COLUMNS = [
    ("Sesión", "session", 24),
    ("Acuerdo", "agreement", 12),
    ("Ordinal", "agreement_ordinal", 10),
    ("Compromiso", "position", 6),
    ("Descripción", "description", 60),
    ("Responsable", "owner", 30),
    ("Fecha compromiso", "due_on", 12),
    ("Estado", "status_label", 12),
    ("Vencido", "overdue", 8),
    ("Avances", "follow_ups", 8),
    ("Último avance", "last_follow_up_on", 12),
    ("Avance más reciente", "last_progress", 60),
]


def follow_up_xlsx(today: date) -> bytes:
    """Sheet "Compromisos abiertos" (one row per pending or in-progress commitment) and sheet
    "Resumen" (open, overdue and without follow-up, by owner)."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    bold = book.add_format({"bold": True, "bg_color": "#ECE9E3", "text_wrap": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    day = book.add_format({"num_format": "dd/mm/yyyy", "valign": "top"})
    top = book.add_format({"valign": "top"})
    title = book.add_format({"bold": True, "font_size": 13})

    sheet = book.add_worksheet("Compromisos abiertos")
    sheet.write_string(0, 0, f"Seguimiento de compromisos abiertos al {long_date(today)}", title)
    for col, (label, _, width) in enumerate(COLUMNS):
        sheet.write_string(2, col, label, bold)
        sheet.set_column(col, col, width)
    rows = [queries.commitment_row(c, today) for c in queries.open_commitments()]
    for n, row in enumerate(rows, start=3):
        for col, (_, key, _width) in enumerate(COLUMNS):
            value = row[key]
            if key in ("due_on", "last_follow_up_on"):
                if value:
                    sheet.write_datetime(n, col, date.fromisoformat(value), day)
                else:
                    sheet.write_string(n, col, "", top)
            elif key == "overdue":
                sheet.write_string(n, col, "Sí" if value else "No", top)
            elif isinstance(value, int):
                sheet.write_number(n, col, value, top)
            else:
                sheet.write_string(n, col, str(value), wrap)
    sheet.freeze_panes(3, 0)
    if rows:
        sheet.autofilter(2, 0, 2 + len(rows), len(COLUMNS) - 1)

    summary = book.add_worksheet("Resumen")
    summary.write_string(0, 0, "Compromisos abiertos por responsable", title)
    for col, label in enumerate(["Responsable", "Abiertos", "Vencidos", "Sin avances"]):
        summary.write_string(2, col, label, bold)
    summary.set_column(0, 0, 40)
    summary.set_column(1, 3, 12)
    owners: dict[str, list[int]] = {}
    for row in rows:
        counts = owners.setdefault(row["owner"], [0, 0, 0])
        counts[0] += 1
        counts[1] += int(row["overdue"])
        counts[2] += int(row["follow_ups"] == 0)
    for n, (owner, counts) in enumerate(sorted(owners.items()), start=3):
        summary.write_string(n, 0, owner)
        for col, value in enumerate(counts, start=1):
            summary.write_number(n, col, value)
    total = 3 + len(owners)
    summary.write_string(total, 0, "Total", bold)
    for col in range(1, 4):
        summary.write_number(total, col, sum(c[col - 1] for c in owners.values()), bold)
    book.close()
    return out.getvalue()
