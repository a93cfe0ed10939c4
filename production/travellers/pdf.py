"""The traveller as a PDF: one ticket per work order (a ticket may run over pages), A4 or A5, in one
language, drawn with fpdf2. QR codes (segno) are drawn as vector squares: sharp at any printer resolution.

Call it inside translation.override(language): labels, spec attribute titles and dates follow the active
language.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

import segno
from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos

from config.kernel import unit_label
from orders.catalog import spec_display, spec_fields
from production.travellers import fonts
from production.work_orders import WorkOrder, WorkOrderOperation

PAPER_SIZES = ("A4", "A5")
# In mm, given as sizes: fpdf2 warns on the name "A5" (its dimensions changed in fpdf2 2.8.5).
PAPER_MM = {"A4": (210.0, 297.0), "A5": (148.0, 210.0)}
# Code 39 carries upper-case letters, digits and a few signs: work order numbers (SO-2026-000123-01) fit.
CODE39 = re.compile(r"^[0-9A-Z .$/+%-]{1,40}$")


@dataclass(frozen=True)
class Layout:
    """Sizes in mm and points for one paper size (A5 is A4 scaled by ~0.71, kept readable)."""

    margin: float
    scale: float
    qr: float  # an operation's QR code
    header_qr: float  # the work order number's QR code


LAYOUTS = {
    "A4": Layout(margin=12, scale=1.0, qr=22, header_qr=26),
    "A5": Layout(margin=8, scale=0.78, qr=18, header_qr=20),
}


def quantity_text(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def local_text(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


def draw_qr(pdf: FPDF, payload: str, *, x: float, y: float, size: float) -> None:
    """The QR code of `payload` as filled squares in a `size` mm box, quiet zone included."""
    code = segno.make(payload, error="m", micro=False)
    border = 2
    width = code.symbol_size(scale=1, border=border)[0]
    module = size / width
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, size, size, style="F")
    pdf.set_fill_color(0, 0, 0)
    for row_index, row in enumerate(code.matrix):
        column = 0
        while column < len(row):
            if not row[column] & 1:
                column += 1
                continue
            run = column
            while run < len(row) and row[run] & 1:
                run += 1
            # One rectangle per run of dark modules (a fraction of the rectangles one per module would take).
            pdf.rect(
                x + (border + column) * module,
                y + (border + row_index) * module,
                (run - column) * module,
                module,
                style="F",
            )
            column = run


class TravellerPDF(FPDF):
    def __init__(self, *, paper: str) -> None:
        super().__init__(orientation="P", unit="mm", format=PAPER_MM[paper])
        self.layout = LAYOUTS[paper]
        self.set_margins(self.layout.margin, self.layout.margin, self.layout.margin)
        self.set_auto_page_break(auto=True, margin=self.layout.margin + 6)
        for style, path in fonts.font_files().items():
            self.add_font(fonts.FAMILY, style, str(path))
        self.ticket_number = ""

    def text_size(self, points: float, *, bold: bool = False) -> None:
        self.set_font(fonts.FAMILY, "B" if bold else "", points * self.layout.scale)

    def footer(self) -> None:
        self.set_y(-(self.layout.margin + 4))
        self.text_size(8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 4, self.ticket_number, new_x=XPos.LMARGIN, new_y=YPos.TOP)
        self.cell(0, 4, _("Page %(page)s") % {"page": self.page_no()}, align="R")
        self.set_text_color(0, 0, 0)

    def fit(self, text: str, width: float) -> str:
        """`text` cut to `width` mm with an ellipsis (a cell never spills into the next one)."""
        if self.get_string_width(text) <= width:
            return text
        while text and self.get_string_width(text + "…") > width:
            text = text[:-1]
        return text + "…"


def traveller_pdf(
    *,
    work_orders: Iterable[WorkOrder],
    paper: str,
    show_customer: bool,
    operation_url: Callable[[WorkOrderOperation], str],
    title: str = "",
) -> bytes:
    """The tickets of `work_orders` (each from a new page) as one PDF document.

    `operation_url(operation)` is what an operation's QR code opens (the operator page).
    """
    pdf = TravellerPDF(paper=paper)
    pdf.set_title(title or _("Work order traveller"))
    pdf.set_creator("OrderBridge")
    count = 0
    for work_order in work_orders:
        ticket(pdf, work_order, show_customer=show_customer, operation_url=operation_url)
        count += 1
    if not count:
        pdf.add_page()
        pdf.text_size(12)
        pdf.cell(0, 8, _("No work orders to print."))
    return bytes(pdf.output())


def ticket(
    pdf: TravellerPDF,
    work_order: WorkOrder,
    *,
    show_customer: bool,
    operation_url: Callable[[WorkOrderOperation], str],
) -> None:
    layout = pdf.layout
    pdf.ticket_number = work_order.number
    pdf.add_page()
    width = pdf.epw
    top = pdf.get_y()
    # Header: title, the work order number large, its barcode; its QR code at the right.
    draw_qr(pdf, work_order.number, x=pdf.l_margin + width - layout.header_qr, y=top, size=layout.header_qr)
    text_width = width - layout.header_qr - 4
    pdf.text_size(11)
    pdf.cell(text_width, 6 * layout.scale, _("Work order traveller"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.text_size(22, bold=True)
    pdf.cell(text_width, 11 * layout.scale, work_order.number, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if CODE39.match(work_order.number):
        bar_height = 9 * layout.scale
        pdf.code39(f"*{work_order.number}*", x=pdf.l_margin, y=pdf.get_y() + 1, w=0.32, h=bar_height)
        pdf.set_y(pdf.get_y() + bar_height + 3)
    pdf.set_y(max(pdf.get_y(), top + layout.header_qr + 2))

    order = work_order.order
    product = work_order.product
    facts: list[tuple[str, str]] = [(_("Order number"), order.number)]
    if show_customer:
        facts.append((_("Customer"), order.customer.name))
    facts += [
        (_("Product"), f"{product.sku} · {product.display_name}"),
        (_("Quantity"), f"{quantity_text(work_order.quantity)} {unit_label(product.unit)}"),
        (_("Promised date"), order.promised_date.isoformat() if order.promised_date else "—"),
        (_("Status"), str(work_order.get_status_display())),
        (_("Printed at"), local_text(timezone.now())),
    ]
    label_width = 38 * layout.scale
    row = 7 * layout.scale
    for label, value in facts:
        pair_row(pdf, label, value, label_width=label_width, row=row, boxed=False)

    values = work_order.order_line.spec_values if work_order.order_line else {}
    specs = spec_display(product.family.spec_schema, in_schema_order(product.family.spec_schema, values))
    pdf.ln(3)
    pdf.text_size(12, bold=True)
    pdf.cell(0, 8 * layout.scale, _("Spec attributes"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if not specs:
        pdf.text_size(10)
        pdf.cell(0, row, "—", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for label, value in specs:
        pair_row(pdf, str(label), display_value(value), label_width=label_width, row=row, boxed=True)

    operations_table(pdf, work_order, operation_url=operation_url)


def wrapped_lines(pdf: TravellerPDF, text: str, width: float, line: float) -> int:
    """How many lines `text` takes in a `width` mm column, in the current font."""
    lines = pdf.multi_cell(width, line, text, dry_run=True, output=MethodReturnValue.LINES)
    return max(1, len(lines)) if isinstance(lines, list) else 1


def pair_row(
    pdf: TravellerPDF, label: str, value: str, *, label_width: float, row: float, boxed: bool
) -> None:
    """A label and its value side by side, each wrapped over as many lines as it needs: a spec value is
    printed whole, never cut (the operator works from it). Boxed, or underlined only."""
    value_width = pdf.epw - label_width
    line = row * 0.8
    pdf.text_size(10)
    label_lines = wrapped_lines(pdf, label, label_width, line)
    pdf.text_size(11, bold=True)
    value_lines = wrapped_lines(pdf, value, value_width, line)
    height = max(row, line * max(label_lines, value_lines) + (row - line))
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()
    x, y = pdf.l_margin, pdf.get_y()
    pad = (row - line) / 2
    pdf.set_xy(x, y + pad)
    pdf.text_size(10)
    pdf.multi_cell(label_width, line, label)
    pdf.set_xy(x + label_width, y + pad)
    pdf.text_size(11, bold=True)
    pdf.multi_cell(value_width, line, value)
    if boxed:
        pdf.rect(x, y, label_width, height)
        pdf.rect(x + label_width, y, value_width, height)
    else:
        pdf.line(x, y + height, x + pdf.epw, y + height)
    pdf.set_xy(x, y + height)


def in_schema_order(schema: dict, values: dict) -> dict:
    """The spec values in the order the family's schema lists its attributes (unknown ones last)."""
    order = [field["name"] for field in spec_fields(schema)]
    known = {name: values[name] for name in order if name in (values or {})}
    return known | {name: value for name, value in (values or {}).items() if name not in known}


def display_value(value: object) -> str:
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    return str(value)


def operations_table(
    pdf: TravellerPDF, work_order: WorkOrder, *, operation_url: Callable[[WorkOrderOperation], str]
) -> None:
    layout = pdf.layout
    width = pdf.epw
    pdf.ln(3)
    pdf.text_size(12, bold=True)
    pdf.cell(0, 8 * layout.scale, _("Routing"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    # Columns: sequence, operation, work center, planned start → end, planned minutes, QR code.
    qr = layout.qr
    columns = [0.08, 0.30, 0.22, 0.28, 0.12]
    usable = width - qr - 2
    widths = [usable * share for share in columns]
    header = [_("Seq."), _("Operation"), _("Work center"), _("Planned start / end"), _("Minutes")]
    pdf.text_size(9, bold=True)
    for column_width, label in zip(widths, header, strict=True):
        pdf.cell(column_width, 6 * layout.scale, pdf.fit(label, column_width - 1), border="B")
    pdf.cell(
        qr + 2,
        6 * layout.scale,
        _("Scan to report"),
        border="B",
        align="R",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    operations = list(work_order.operations.all())
    if not operations:
        pdf.text_size(10)
        pdf.cell(0, 8, _("No routing: this work order waits for one."), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    line = 5.5 * layout.scale
    for operation in operations:
        height = qr + 2
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
        y = pdf.get_y()
        x = pdf.l_margin
        cells = [
            [str(operation.sequence)],
            [operation.display_name],
            [operation.work_center.code, operation.work_center.name],
            [local_text(operation.scheduled_start), local_text(operation.scheduled_end)],
            [str(operation.planned_minutes)],
        ]
        for index, (column_width, lines) in enumerate(zip(widths, cells, strict=True)):
            for number, text in enumerate(lines):
                pdf.set_xy(x, y + 1 + number * line)
                pdf.text_size(
                    11 if number == 0 and index in (1, 2) else 9, bold=number == 0 and index in (0, 1, 2)
                )
                pdf.cell(column_width, line, pdf.fit(text, column_width - 1))
            x += column_width
        draw_qr(pdf, operation_url(operation), x=pdf.l_margin + width - qr, y=y + 1, size=qr)
        pdf.set_draw_color(160, 160, 160)
        pdf.line(pdf.l_margin, y + height, pdf.l_margin + width, y + height)
        pdf.set_draw_color(0, 0, 0)
        pdf.set_xy(pdf.l_margin, y + height)
