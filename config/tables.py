"""Tables out as CSV and XLSX: the writers every export uses (orders, work orders, KPI tables).

CSV streams row by row (a 100,000-order export never sits in memory); XLSX is built with openpyxl's
write-only workbook. Text that a spreadsheet would run as a formula (=, +, -, @, tab or CR first, and not a
plain number) is prefixed with a quote, so an export cannot carry a formula into someone's Excel (CSV
injection); `formula_like` is the one test of it, which the spreadsheet import uses to refuse such cells.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from config.kernel.errors import ValidationFailed

FORMATS = ("csv", "xlsx")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# -5, +1,000.50, -.5: a spreadsheet reads these as numbers, not formulas.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)")
EXPORT_CHUNK = 2000


def formula_like(text: str) -> bool:
    """True for text a spreadsheet would run as a formula: =, +, -, @, tab or CR first, not a plain number."""
    return text.startswith(FORMULA_STARTS) and _PLAIN_NUMBER.fullmatch(text) is None


def safe_cell(value: Any) -> Any:
    """A value as a spreadsheet cell: aware datetimes in local time without zone, formulas defused."""
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value).replace(tzinfo=None)
        return value
    if isinstance(value, str) and formula_like(value):
        return "'" + value
    return value


def _csv_text(value: Any) -> str:
    value = safe_cell(value)
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1 else f"{value:.2f}"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    return str(value)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(columns: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # A byte-order mark makes Excel read the file as UTF-8 (Chinese names stay readable).
    yield "\ufeff" + writer.writerow([_csv_text(str(c)) for c in columns])
    for row in rows:
        yield writer.writerow([_csv_text(v) for v in row])


def xlsx_bytes(columns: Sequence[Any], rows: Iterable[Sequence[Any]], *, sheet: str = "Data") -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=str(sheet)[:31] or "Data")
    worksheet.append([safe_cell(str(c)) for c in columns])
    for row in rows:
        worksheet.append([safe_cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def table_response(
    *, fmt: str, filename: str, columns: Sequence[Any], rows: Iterable[Sequence[Any]], sheet: str = ""
) -> HttpResponse | StreamingHttpResponse:
    """A download of one table; `fmt` is "csv" (streamed) or "xlsx"."""
    if fmt not in FORMATS:
        raise ValidationFailed(_("Choose CSV or XLSX."), fields={"format": [_("Choose CSV or XLSX.")]})
    base = slugify(filename) or "export"
    response: HttpResponse | StreamingHttpResponse
    if fmt == "csv":
        response = StreamingHttpResponse(csv_lines(columns, rows), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            xlsx_bytes(columns, rows, sheet=sheet or base), content_type=XLSX_CONTENT_TYPE
        )
    response["Content-Disposition"] = f'attachment; filename="{base}.{fmt}"'
    return response
