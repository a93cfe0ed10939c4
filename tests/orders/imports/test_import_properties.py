"""Properties of the import reader: any file — a CSV in either encoding and any delimiter, an .xlsx with any
cells, or bytes that are neither — is refused at upload with a 400's error, or checked into a preview or row
errors naming row and column; never a crash, a stuck job or a hang. A well-formed file never falls through
to the catch-all "could not be read": each problem in it has its own row error."""

from __future__ import annotations

import csv
import datetime as dt
import io

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


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, str, bool]:
    """(content, encoding chosen at upload, well formed)."""
    kind = draw(st.sampled_from(["sheet", "sheet", "sheet", "bytes", "damaged"]))
    encoding = draw(st.sampled_from(["utf-8", "gb18030"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200)), encoding, False
    header = draw(headers)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=draw(st.sampled_from([",", ";", "\t"])))
    writer.writerow(header)
    writer.writerows(draw(rows(len(header), cell_text)))
    # Mostly saved in the encoding chosen at upload (Excel's "CSV UTF-8" writes a BOM), sometimes not.
    matching = {"utf-8": ["utf-8", "utf-8-sig"], "gb18030": ["gb18030"]}[encoding]
    written = draw(st.sampled_from([*matching, *matching, "utf-8", "gb18030"]))
    content = buffer.getvalue().encode(written)
    if kind == "damaged":
        content = damaged(content, draw(st.integers(0, 1000)), draw(st.binary(max_size=3)))
    return content, encoding, False


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
def xlsx_files(draw: st.DrawFn) -> tuple[bytes, str, bool]:
    kind = draw(st.sampled_from(["sheet", "sheet", "sheet", "bytes", "zip bytes", "damaged"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200)), "utf-8", False
    if kind == "zip bytes":
        return b"PK\x03\x04" + draw(st.binary(max_size=200)), "utf-8", False
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    header = draw(headers)
    sheet.append(header)
    for values in draw(rows(len(header), xlsx_cells)):
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    content = buffer.getvalue()
    if kind == "damaged":
        content = damaged(content, draw(st.integers(0, 1000)), draw(st.binary(max_size=3)))
    return content, "utf-8", kind == "sheet"


def checked(actor, content: bytes, filename: str, encoding: str, *, well_formed: bool) -> None:
    try:
        job = import_job_create(actor=actor, filename=filename, content=content, encoding=encoding)
    except ValidationFailed as exc:  # the upload form shows it on its field (a 400 from the API)
        event(f"refused at upload: {exc.message[:40]}")
        assert exc.message and exc.fields
        return

    job = import_job_validate(job_id=job.pk)

    assert job.status in (ImportJobStatus.VALID, ImportJobStatus.INVALID)
    for error in job.errors:
        assert set(error) == {"row", "column", "message"} and error["message"]
        assert isinstance(error["row"], int)
    if well_formed:
        assert not any(CATCH_ALL in error["message"] for error in job.errors), job.errors
    event(f"{job.status}: {job.errors[0]['message'][:40] if job.errors else ''}")


@examples(80)
@given(data=st.data())
def test_any_csv_file_is_refused_or_checked_row_by_row(sales, catalog, data):
    content, encoding, well_formed = data.draw(csv_files(), label="file")

    checked(sales, content, "orders.csv", encoding, well_formed=well_formed)


@examples(60)
@given(data=st.data())
def test_any_xlsx_file_is_refused_or_checked_row_by_row(sales, catalog, data):
    content, encoding, well_formed = data.draw(xlsx_files(), label="file")

    checked(sales, content, "orders.xlsx", encoding, well_formed=well_formed)
