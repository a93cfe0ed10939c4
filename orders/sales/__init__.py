"""Sales orders: what other packages may call. Writes through these services, reads through `selectors`,
"who may" in `policies`; models from `orders.models` (or `orders.sales.models`).

Inside the package: `creation` (the one order-entry pipeline), `editing` (fields, lines, priority),
`transitions` (the one door for status transitions), `rules` (input checks), `lines` (an order's lines
in hand), `locks`,
`snapshots` (the order as other systems see it). Other packages import from here, never those modules.
"""

from orders.sales import policies, selectors
from orders.sales.bulk import BULK_TRANSITIONS, BulkResult, order_try_transition, orders_bulk_transition
from orders.sales.creation import (
    NewOrder,
    order_create,
    order_create_and_advance,
    order_create_and_advance_many,
    order_create_errors,
    order_create_many,
    order_create_many_errors,
)
from orders.sales.editing import order_set_priority, order_update
from orders.sales.lines import current_lines, loaded_lines, save_new_line
from orders.sales.locks import OrderNumber, OrderRef
from orders.sales.rules import CleanedLine, FieldErrors, LineInput, NewLine, parse_quantity, quantity_error
from orders.sales.saved_filters import filter_query, saved_filter_delete, saved_filter_save, saved_filters_of
from orders.sales.selectors import (
    HistoryEntry,
    diff_row_display,
    order_detail_queryset,
    order_get,
    order_history,
    order_id_visible,
    order_list,
    orders_visible_to,
    visible_to,
)
from orders.sales.snapshots import LineSnapshot, OrderSnapshot, order_event_payload
from orders.sales.transitions import (
    ORDER_TRANSITIONS,
    REASON_REQUIRED,
    TRANSITION_LABELS,
    order_cancel,
    order_close,
    order_complete,
    order_confirm,
    order_hold,
    order_release,
    order_resume,
    order_ship,
    order_start_production,
    order_transition,
    order_transition_in_transaction,
    order_transition_publish,
)

__all__ = [
    "BULK_TRANSITIONS",
    "ORDER_TRANSITIONS",
    "REASON_REQUIRED",
    "TRANSITION_LABELS",
    "BulkResult",
    "CleanedLine",
    "FieldErrors",
    "HistoryEntry",
    "LineInput",
    "LineSnapshot",
    "NewLine",
    "NewOrder",
    "OrderNumber",
    "OrderRef",
    "OrderSnapshot",
    "current_lines",
    "diff_row_display",
    "filter_query",
    "loaded_lines",
    "order_cancel",
    "order_close",
    "order_complete",
    "order_confirm",
    "order_create",
    "order_create_and_advance",
    "order_create_and_advance_many",
    "order_create_errors",
    "order_create_many",
    "order_create_many_errors",
    "order_detail_queryset",
    "order_event_payload",
    "order_get",
    "order_history",
    "order_hold",
    "order_id_visible",
    "order_list",
    "order_release",
    "order_resume",
    "order_set_priority",
    "order_ship",
    "order_start_production",
    "order_transition",
    "order_transition_in_transaction",
    "order_transition_publish",
    "order_try_transition",
    "order_update",
    "orders_bulk_transition",
    "orders_visible_to",
    "parse_quantity",
    "policies",
    "quantity_error",
    "save_new_line",
    "saved_filter_delete",
    "saved_filter_save",
    "saved_filters_of",
    "selectors",
    "visible_to",
]
