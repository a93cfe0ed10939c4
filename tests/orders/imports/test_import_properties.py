"""Properties of the import reader: any file — a CSV in either encoding and any delimiter, an .xlsx with any
cells, or bytes that are neither — is refused at upload with a 400's error, or checked into a preview or row
errors naming row and column; never a crash, a stuck job or a hang. A well-formed file never falls through
to the catch-all "could not be read": each problem in it has its own row error. And a file found valid
holds no text a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field

import openpyxl
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from config.kernel.errors import ValidationFailed
from orders.imports import import_job_create, import_job_validate
from orders.models import ImportJobStatus
from tests.factories import CustomerFactory, ProductFactory
from tests.orders.imports.test_import import HEADERS, row
from tests.properties import examples

pytestmark = pytest.mark.django_db

CATCH_ALL = "The file could not be read"


@pytest.fixture
def catalog(db):
    return {"customer": CustomerFactory(code="HARBOUR"), "product": ProductFactory(sku="PNL-1")}


# --- cells and sheets ---------------------------------------------------------------------------------------
# Text as people type it into a spreadsheet, formula starts and odd dates and numbers included.
typed = st.sampled_from(
    [
        "",
        " ",
        "HARBOUR",
        "harbour",
        "PNL-1",
        "10",
        "-5",
        "1,000",
        "1e3",
        "0.000001",
        "99999999999999999999",
        "2026-12-24",
        "2026/12/24",
        "24.12.2026",
        "2026-02-30",
        "=1+1",
        "+1+1",
        "- urgent",
        "@SUM(1)",
        "steel",
        "yes",
        "是",
        "x" * 300,
    ]
)
# Anything a cell can hold as text: no surrogates (no file encoding carries one) nor XML-illegal controls.
cell_text = st.one_of(
    typed,
    st.text(st.characters(exclude_categories=("Cs",), min_codepoint=0x20, exclude_characters="\ufffe\uffff")),
)
known_columns = [
    *HEADERS,
    "crm_id",
    "promised_date",
    "priority",
    "priority_reason",
    "remarks",
    "line_due_date",
]
headers = st.one_of(
    st.just(HEADERS),
    st.just(HEADERS),
    st.lists(
        st.sampled_from([*known_columns, "spec.colour", "spec.nope", "junk", "", "SKU", " Quantity "]),
        max_size=10,
    ),
)


@st.composite
def rows(draw: st.DrawFn, width: int, cells: st.SearchStrategy) -> list[list]:
    """Rows that are mostly a real order's (HEADERS' order) with a few cells replaced, or anything."""
    result = []
    for number in range(draw(st.integers(0, 4))):
        real = width == len(HEADERS) and draw(st.sampled_from([True, True, True, False]))
        values = list(row(f"R{number % 3}")) if real else []
        if real:  # the customer PO is free text: where signs first slip through
            values[2] = draw(
                st.sampled_from(
                    ["PO-9", "PO-9", "PO-9", "PO-9", "-5", "- urgent", "+1+1", "@SUM(1)", "+44 20 7946"]
                )
            )
        values = (values + [""] * width)[: max(width, draw(st.integers(0, width + 2)))]
        for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
            if values:
                values[draw(st.integers(0, len(values) - 1))] = draw(cells)
        result.append(values)
    return result


def damaged(content: bytes, permille: int, patch: bytes) -> bytes:
    """`content` with the byte at `permille` of its length replaced by `patch` (a cut or a typo). By share,
    not by index: an .xlsx's length varies with the moment it is saved, the draws must not."""
    at = len(content) * permille // 1000
    return content[:at] + patch + content[at + 1 :]


@dataclass
class Upload:
    content: bytes
    encoding: str  # as chosen on the upload form
    well_formed: bool  # a workbook as a spreadsheet program writes it, whatever its cells
    texts: list[str] = field(default_factory=list)  # the text cells under a header (the ones read)


def texts_of(sheet_rows: list[list], width: int) -> list[str]:
    return [value for values in sheet_rows for value in values[:width] if isinstance(value, str)]


@st.composite
def csv_files(draw: st.DrawFn) -> Upload:
    kind = draw(st.sampled_from(["sheet", "sheet", "sheet", "bytes", "damaged"]))
    encoding = draw(st.sampled_from(["utf-8", "gb18030"]))
    if kind == "bytes":
        return Upload(draw(st.binary(max_size=200)), encoding, well_formed=False)
    header = draw(headers)
    sheet_rows = draw(rows(len(header), cell_text))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=draw(st.sampled_from([",", ";", "\t"])))
    writer.writerow(header)
    writer.writerows(sheet_rows)
    # Mostly saved in the encoding chosen at upload (Excel's "CSV UTF-8" writes a BOM), sometimes not.
    matching = {"utf-8": ["utf-8", "utf-8-sig"], "gb18030": ["gb18030"]}[encoding]
    written = draw(st.sampled_from([*matching, *matching, "utf-8", "gb18030"]))
    content = buffer.getvalue().encode(written)
    if kind == "damaged":
        content = damaged(content, draw(st.integers(0, 1000)), draw(st.binary(max_size=3)))
    return Upload(content, encoding, well_formed=False, texts=texts_of(sheet_rows, len(header)))


xlsx_cells = st.one_of(
    cell_text,
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=False),
    st.booleans(),
    st.dates(dt.date(1900, 3, 1), dt.date(9999, 12, 31)),
    st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(9999, 12, 31)),
    st.times(),
    st.none(),
)


@st.composite
def xlsx_files(draw: st.DrawFn) -> Upload:
    kind = draw(st.sampled_from(["sheet", "sheet", "sheet", "bytes", "zip bytes", "damaged"]))
    if kind == "bytes":
        return Upload(draw(st.binary(max_size=200)), "utf-8", well_formed=False)
    if kind == "zip bytes":
        return Upload(b"PK\x03\x04" + draw(st.binary(max_size=200)), "utf-8", well_formed=False)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    header = draw(headers)
    sheet.append(header)
    sheet_rows = draw(rows(len(header), xlsx_cells))
    for values in sheet_rows:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    content = buffer.getvalue()
    if kind == "damaged":
        content = damaged(content, draw(st.integers(0, 1000)), draw(st.binary(max_size=3)))
    return Upload(content, "utf-8", well_formed=kind == "sheet", texts=texts_of(sheet_rows, len(header)))


def runs_as_formula(text: str) -> bool:
    """What a spreadsheet would run: =, +, - or @ first, and not a number such as -5 (stated on its own
    here, not borrowed from the code under test)."""
    text = text.strip()
    return text[:1] in ("=", "+", "-", "@") and not re.fullmatch(r"[+-]?(\d[\d,]*(\.\d*)?|\.\d+)", text)


def checked(actor, upload: Upload, filename: str) -> None:
    try:
        job = import_job_create(
            actor=actor, filename=filename, content=upload.content, encoding=upload.encoding
        )
    except ValidationFailed as exc:  # the upload form shows it on its field (a 400 from the API)
        event(f"refused at upload: {exc.message[:40]}")
        assert exc.message and exc.fields
        return

    job = import_job_validate(job_id=job.pk)

    assert job.status in (ImportJobStatus.VALID, ImportJobStatus.INVALID)
    for error in job.errors:
        assert set(error) == {"row", "column", "message"} and error["message"]
        assert isinstance(error["row"], int)
    if upload.well_formed:
        assert not any(CATCH_ALL in error["message"] for error in job.errors), job.errors
    if job.status == ImportJobStatus.VALID:  # nothing a spreadsheet would run gets in, to go on elsewhere
        assert not [text for text in upload.texts if runs_as_formula(text)]
    event(f"{job.status}: {job.errors[0]['message'][:40] if job.errors else ''}")


@examples(80)
@given(data=st.data())
def test_any_csv_file_is_refused_or_checked_row_by_row(sales, catalog, data):
    checked(sales, data.draw(csv_files(), label="file"), "orders.csv")


@examples(60)
@given(data=st.data())
def test_any_xlsx_file_is_refused_or_checked_row_by_row(sales, catalog, data):
    checked(sales, data.draw(xlsx_files(), label="file"), "orders.xlsx")
