"""An imported order's history says where it came from in each reader's language, whatever language the
person who imported it was reading."""

from __future__ import annotations

import pytest
from django.utils import translation

from config.kernel import message_text
from orders.models import SalesOrder
from tests.orders.imports.test_import import catalog, imported, row, xlsx  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def test_an_order_imported_by_a_chinese_reader_reads_its_origin_in_english_and_chinese(sales, catalog):  # noqa: F811
    with translation.override("zh-hans"):
        imported(sales, xlsx([row("R1")]), filename="orders.xlsx")
    reason = SalesOrder.objects.get().history.earliest().history_change_reason

    with translation.override("en"):
        assert message_text(reason) == "Imported from orders.xlsx, row 2"
    with translation.override("zh-hans"):
        assert message_text(reason) == "从 orders.xlsx 第 2 行导入"
