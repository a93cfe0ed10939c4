"""Orders created, updated and cancelled in a CRM, applied here through the orders.sales services.

The CRM's message, once mapped to our shape (see crm_sync.inbound.common.map_inbound), reads:

    {"type": "order.created" | "order.updated" | "order.cancelled",
     "subject": "<CRM order id>", "sequence": 3,
     "data": {"crm_id": "...", "customer_crm_id": "...", "customer_po": "...",
              "requested_date": "YYYY-MM-DD", "promised_date": "YYYY-MM-DD", "priority": 2,
              "priority_reason": "...", "remarks": "...", "status": "draft" | "confirmed" | "released",
              "reason": "...",
              "lines": [{"line_no": 1, "sku": "...", "quantity": "5", "spec_values": {...},
                         "due_date": "YYYY-MM-DD"}]}}

Rules: the customer is found by its CRM id and products by SKU; spec values are validated by the
order services like any other input; an update of an order that is still editable edits it; an update
(or cancel) of a locked order (released onward) becomes a change request (origin "crm"), never a silent
edit. Every error names the field as the CRM sent it (data.lines[1].sku).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from config.kernel.errors import ValidationFailed
from config.process_cache import VersionedProcessCache
from crm_sync.inbound import common
from crm_sync.models import InboundMessage
from orders import sales as order_services
from orders.change_requests import change_request_create
from orders.models import Customer, OrderStatus, Product, ProductFamily, SalesOrder
from orders.sales import LineInput, NewOrder

HEADER_FIELDS = ("customer_po", "requested_date", "promised_date", "remarks")
# The furthest an order created in the CRM is taken here at once (the service user needs the rights).
TARGET_STATUSES = {"draft": [], "confirmed": ["confirm"], "released": ["confirm", "release"]}


def _crm_id(message: InboundMessage, doc: dict, data: dict) -> str:
    crm_id = data.get("crm_id") or doc.get("subject") or message.subject
    if not crm_id:
        raise ValidationFailed(
            _("The CRM order id is missing."), fields={"data.crm_id": [_("This field is required.")]}
        )
    return str(crm_id)[:64]


# Every CRM order names its customer and products, which change rarely: each process keeps them under a
# shared version that every save or delete of a customer, product or product family replaces
# (config/process_cache.py). The instances are shared: read them, never change them.
_master_data = VersionedProcessCache(key="crm_sync:crm_master_data:version", max_age_seconds=30.0)
_master_data.watch([Customer, Product, ProductFamily], uid="crm_sync_crm_master_data")


def _load_products(names: list[tuple[str, str]]) -> dict[tuple[str, str], Product | None]:
    found: dict[tuple[str, str], Product | None] = dict.fromkeys(names)
    # With their families: the order services check spec values against them and need not read them again.
    for product in Product.objects.select_related("family").filter(sku__in=[name[1] for name in names]):
        found[("product", product.sku)] = product
    return found


def _load_master_data(names: list[tuple[str, str]]) -> dict[tuple[str, str], Customer | Product | None]:
    """Customers and products by name ("customer", CRM id) / ("product", SKU): one query per kind."""
    found: dict[tuple[str, str], Customer | Product | None] = dict.fromkeys(names)
    customers = [name[1] for name in names if name[0] == "customer"]
    if customers:
        for customer in Customer.objects.filter(crm_id__in=customers):
            found[("customer", customer.crm_id)] = customer
    products = [name for name in names if name[0] == "product"]
    if products:
        found.update(_load_products(products))
    return found


def _names(data: dict) -> list[tuple[str, str]]:
    """The master data a message names (its customer, its lines' products), as _load_master_data keys."""
    names = []
    if isinstance(data.get("customer_crm_id"), str):
        names.append(("customer", data["customer_crm_id"]))
    raw = data.get("lines")
    for line in raw if isinstance(raw, list) else []:
        if isinstance(line, dict) and isinstance(line.get("sku"), str):
            names.append(("product", line["sku"]))
    return names


def _master(names: list[tuple[str, str]], known: dict | None = None) -> dict[tuple[str, str], Any]:
    """The named customers and products: those `known` (read already for the batch), the others through
    the process cache."""
    found = {name: known[name] for name in names if known is not None and name in known}
    missing = [name for name in names if name not in found]
    if missing:
        found.update(_master_data.get_many(missing, _load_master_data))
    return found


def _customer(data: dict, known: dict | None = None) -> Customer:
    crm_id = common.required_text(data, "customer_crm_id")
    customer = _master([("customer", crm_id)], known)[("customer", crm_id)]
    if customer is None:
        raise ValidationFailed(
            _("No customer has CRM id %(id)s.") % {"id": crm_id},
            fields={"data.customer_crm_id": [_("Unknown customer.")]},
        )
    return customer


def _header(data: dict) -> dict:
    errors: dict[str, list[str]] = {}
    header: dict[str, Any] = {}
    for key in HEADER_FIELDS:
        if key not in data:
            continue
        if key.endswith("_date"):
            header[key] = common.optional_date(data, key, errors)
        else:
            header[key] = str(data[key] or "")
    if "priority" in data and data["priority"] not in (None, ""):
        try:
            header["priority"] = int(data["priority"])
        except (TypeError, ValueError):
            errors["data.priority"] = [_("Enter a whole number.")]
        header["priority_reason"] = str(data.get("priority_reason") or "")
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    return header


def _lines(data: dict, known: dict | None = None) -> list[dict]:
    """Their lines with products found by SKU; each carries its line_no (given, or its position).
    `known`: the products already read for a batch (_load_master_data)."""
    raw = data.get("lines")
    if not isinstance(raw, list):
        raise ValidationFailed(_("The lines are missing."), fields={"data.lines": [_("A list is expected.")]})
    skus = {line.get("sku") for line in raw if isinstance(line, dict)}
    names = sorted(("product", sku) for sku in skus if isinstance(sku, str))
    products: dict[Any, Any] = {name[1]: product for name, product in _master(names, known).items()}
    errors: dict[str, list[str]] = {}
    lines = []
    for index, line in enumerate(raw):
        where = f"data.lines[{index}]."
        if not isinstance(line, dict):
            errors[f"data.lines[{index}]"] = [_("An object is expected.")]
            continue
        product = products.get(line.get("sku"))
        if product is None:
            errors[where + "sku"] = [
                _("Unknown product.") if line.get("sku") else _("This field is required.")
            ]
        spec_values = line.get("spec_values") or {}
        if not isinstance(spec_values, dict):
            errors[where + "spec_values"] = [_("An object is expected.")]
            spec_values = {}
        line_no = line.get("line_no", index + 1)
        if not isinstance(line_no, int) or line_no < 1:
            errors[where + "line_no"] = [_("Enter a whole number of 1 or more.")]
        due = common.optional_date(line, "due_date", errors, prefix=where)
        lines.append(
            {
                "line_no": line_no,
                "product": product,
                "quantity": line.get("quantity"),
                "spec_values": spec_values,
                "due_date": due,
            }
        )
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    return lines


class OrderNotYetKnown(Exception):
    """A change or cancel of an order we do not have (yet): retried, not refused. Its "created" may still be
    on its way or in another worker's transaction (messages of one order are applied in sequence, but a
    "created" and its first update can be taken by two workers at once); one that never comes makes the
    message a dead letter after SYNC_MAX_ATTEMPTS tries."""


def _order_by_crm_id(crm_id: str) -> SalesOrder:
    order = SalesOrder.objects.filter(crm_id=crm_id).first()
    if order is None:
        raise OrderNotYetKnown(_("No order has CRM id %(id)s (yet).") % {"id": crm_id})
    return order


def _cursor_ok(message: InboundMessage, doc: dict, crm_id: str) -> bool:
    return common.cursor_advance(
        system=message.system,
        subject=f"crm:{crm_id}",
        sequence=common.sequence_of(doc),
        message_id=message.message_id,
    )


def order_created(message: InboundMessage) -> dict:
    """A new order in the CRM: a new order here (a re-sent "created" of a known order is an update)."""
    [result] = orders_created([message])
    return result


def orders_created(messages: list[InboundMessage]) -> list[dict]:
    """order_created for each of `messages` (one CRM system's, in the order received), the new orders
    written together (orders.sales.order_create_and_advance_many, one batch per target status): each
    message's result in its place. A "created" of an order that exists, or that an earlier message of the
    batch creates, is an update, applied after the new orders. Raises on the first message that cannot be
    applied (the caller then applies them one by one, each with its own error)."""
    parsed = []
    for message in messages:
        doc = common.document(message)
        data = common.data_of(doc)
        parsed.append((message, doc, data, _crm_id(message, doc, data)))
    existing = set(
        SalesOrder.objects.filter(crm_id__in=[crm_id for *_rest, crm_id in parsed]).values_list(
            "crm_id", flat=True
        )
    )
    # The batch's customers and products in one look at the cache (and at most a query per kind).
    names = sorted({name for *_rest, data, _crm in parsed for name in _names(data)})
    known = _master_data.get_many(names, _load_master_data) if names else {}
    results: list[dict | None] = [None] * len(messages)
    updates: list[int] = []
    new_orders: dict[tuple[str, ...], list[tuple[int, NewOrder]]] = {}
    for index, (message, doc, data, crm_id) in enumerate(parsed):
        if crm_id in existing:
            updates.append(index)
            continue
        existing.add(crm_id)  # a second "created" of it in this batch is an update
        if not _cursor_ok(message, doc, crm_id):
            results[index] = common.stale(crm_id, common.sequence_of(doc))
            continue
        transitions, new = _new_order(message, data, crm_id, known)
        new_orders.setdefault(transitions, []).append((index, new))
    if messages and new_orders:
        actor = common.service_user(messages[0].system)
        for transitions, items in new_orders.items():
            try:
                # Create, confirm and release in one go: the same checks, history and events as three calls.
                orders = order_services.order_create_and_advance_many(
                    actor=actor, transitions=transitions, orders=[new for _index, new in items]
                )
            except ValidationFailed as exc:
                raise common.prefixed(exc, "data.") from exc
            for (index, _new), order in zip(items, orders, strict=True):
                results[index] = {"order": order.number, "crm_id": order.crm_id, "status": order.status}
    for index in updates:
        results[index] = order_updated(messages[index])
    assert all(result is not None for result in results)  # every message has its result, in its place
    return [result for result in results if result is not None]


def _new_order(
    message: InboundMessage, data: dict, crm_id: str, known: dict
) -> tuple[tuple[str, ...], NewOrder]:
    """The transitions to the CRM's status and the order to create, from a "created" message."""
    customer = _customer(data, known)
    header = _header(data)
    lines = _lines(data, known)
    target = data.get("status") or "draft"
    if target not in TARGET_STATUSES:
        raise ValidationFailed(
            _("Unknown status."), fields={"data.status": [_("Use draft, confirmed or released.")]}
        )
    reason = str(data.get("reason") or _("Entered in %(system)s") % {"system": message.system.name})
    new = NewOrder(
        customer=customer,
        crm_id=crm_id,
        crm_id_checked=True,  # no order had it above, in this transaction
        # In the CRM's order; numbered 1, 2… here as every new order's lines are.
        lines=[
            LineInput(
                product=line["product"],
                quantity=line["quantity"],
                spec_values=line["spec_values"],
                due_date=line["due_date"],
            )
            for line in lines
        ],
        reason=reason,
        **header,
    )
    return tuple(TARGET_STATUSES[target]), new


def _diff(order: SalesOrder, header: dict, lines: list[dict] | None) -> list[dict]:
    """The change-request operations that turn our order into what the CRM now says."""
    changes: list[dict] = []
    for field in ("requested_date", "promised_date"):
        if field in header and header[field] != getattr(order, field) and header[field] is not None:
            changes.append({"op": "set_date", "field": field, "value": header[field].isoformat()})
    if lines is None:
        return changes
    ours = {line.line_no: line for line in order.lines.select_related("product")}
    theirs = {line["line_no"]: line for line in lines}
    for line_no, line in sorted(theirs.items()):
        mine = ours.get(line_no)
        if mine is None or mine.product_id != line["product"].pk:
            if mine is not None:
                changes.append({"op": "remove_line", "line_no": line_no})
            changes.append(
                {
                    "op": "add_line",
                    "product": line["product"].sku,
                    "quantity": str(line["quantity"]),
                    "spec_values": line["spec_values"],
                    "due_date": line["due_date"].isoformat() if line["due_date"] else None,
                }
            )
            continue
        if str(line["quantity"]) != str(mine.quantity) and _number(line["quantity"]) != mine.quantity:
            changes.append({"op": "set_quantity", "line_no": line_no, "quantity": str(line["quantity"])})
        if line["spec_values"] != mine.spec_values:
            changes.append({"op": "set_spec", "line_no": line_no, "spec_values": line["spec_values"]})
        if line["due_date"] is not None and line["due_date"] != mine.due_date:
            changes.append(
                {"op": "set_line_due_date", "line_no": line_no, "value": line["due_date"].isoformat()}
            )
    for line_no in sorted(set(ours) - set(theirs)):
        changes.append({"op": "remove_line", "line_no": line_no})
    return changes


def _number(value: Any) -> Any:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return value


def _change_request(message: InboundMessage, order: SalesOrder, changes: list[dict], reason: str) -> dict:
    """A change the CRM made to a locked order: a submitted change request, for people to decide."""
    change_request = change_request_create(
        actor=common.service_user(message.system),
        order=order,
        base_revision=order.revision,
        reason=reason,
        changes=changes,
        origin="crm",
        submit=True,
    )
    return {"order": order.number, "change_request": change_request.number, "changes": len(changes)}


def order_updated(message: InboundMessage) -> dict:
    """The CRM changed an order: edit it while editable; a change request once it is locked."""
    doc = common.document(message)
    data = common.data_of(doc)
    crm_id = _crm_id(message, doc, data)
    order = _order_by_crm_id(crm_id)
    if not _cursor_ok(message, doc, crm_id):
        return common.stale(crm_id, common.sequence_of(doc))
    header = _header(data)
    lines = _lines(data) if "lines" in data else None
    reason = str(data.get("reason") or _("Changed in %(system)s") % {"system": message.system.name})
    if not order.is_editable:
        changes = _diff(order, header, lines)
        if not changes:
            return {"order": order.number, "unchanged": True}
        return _change_request(message, order, changes, reason)
    new_lines: list[LineInput] | None = None
    if lines is not None:
        ids = dict(order.lines.values_list("line_no", "pk"))
        new_lines = [
            {
                "id": ids.get(line["line_no"]),
                "product": line["product"].pk,
                "quantity": line["quantity"],
                "spec_values": line["spec_values"],
                "due_date": line["due_date"],
            }
            for line in lines
        ]
    try:
        order = order_services.order_update(
            actor=common.service_user(message.system),
            order=order,
            expected_version=order.version,
            data=header,
            lines=new_lines,
            reason=reason,
        )
    except ValidationFailed as exc:
        raise common.prefixed(exc, "data.") from exc
    return {"order": order.number, "version": order.version}


def order_cancelled(message: InboundMessage) -> dict:
    """The CRM cancelled an order: cancelled here while editable; a change request once it is locked."""
    doc = common.document(message)
    data = common.data_of(doc)
    crm_id = _crm_id(message, doc, data)
    order = _order_by_crm_id(crm_id)
    if not _cursor_ok(message, doc, crm_id):
        return common.stale(crm_id, common.sequence_of(doc))
    if order.status == OrderStatus.CANCELLED:
        return {"order": order.number, "ignored": "already cancelled"}
    reason = str(data.get("reason") or _("Cancelled in %(system)s") % {"system": message.system.name})
    if not order.is_editable:
        return _change_request(message, order, [{"op": "cancel"}], reason)
    order = order_services.order_cancel(actor=common.service_user(message.system), order=order, reason=reason)
    return {"order": order.number, "status": order.status}
