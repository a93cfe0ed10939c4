"""Work-order travellers: the printed ticket that goes with a work order through the plant (PDF, A4 or A5,
English or Chinese), with a QR code per operation that opens its operator page, and the shift's stack of
them in one file. Reads work orders (production.work_orders) and the catalog's spec labels; writes nothing.
The pages (views) are wired by production.urls.
"""

from production.travellers.links import operation_path, operation_url
from production.travellers.pdf import PAPER_SIZES, traveller_pdf
from production.travellers.selectors import (
    ShiftWindow,
    order_travellers,
    shift_travellers,
    shift_window,
    traveller_work_orders,
    work_order_for_traveller,
)

__all__ = [
    "PAPER_SIZES",
    "ShiftWindow",
    "operation_path",
    "operation_url",
    "order_travellers",
    "shift_travellers",
    "shift_window",
    "traveller_pdf",
    "traveller_work_orders",
    "work_order_for_traveller",
]
