"""Export: our order events as ISA-95 OperationsSchedule messages (MESA's B2MML "Version 0701"), and the
way back (`schedule_read`, the MES's side of the contract, used by the MES simulator and the tests).

An event that carries the order's work orders (release, applied change, resync, decided disposition)
goes out as one OperationsSchedule (ID = order number) with one OperationsRequest per WORK ORDER (ID =
work order number) and one SegmentRequirement per routing operation (ID = "<work order>/<operation
sequence>"); other events keep one OperationsRequest per order line with a single SegmentRequirement.
Quantities, dates, priority, customer and every spec attribute travel as SegmentParameters, so
`schedule_read` gives back what `schedule_for_event` put in.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

from crm_sync.b2mml.elements import (
    RELEASE_ID,
    Writer,
    children,
    local_name,
    text_of,
    write_application_area,
)

SENDER = "OrderBridge"

# Our event → the BOD verb; the order's status → ISA-95 request state.
VERBS = {
    "order.released": "Process",
    "order.resync": "Sync",
    "order.cancelled": "Cancel",
    "work_order.cancelled": "Cancel",
    # A rework work order is new work for the MES.
    "work_order.rework_requested": "Process",
}
REQUEST_STATES = {
    "draft": "Forecast",
    "confirmed": "Waiting",
    "released": "Released",
    "in_production": "Running",
    "completed": "Completed",
    "shipped": "Closed",
    "closed": "Closed",
    "on_hold": "Held",
    "cancelled": "Cancelled",
}

# A work order held, cancelled or completed on its own (a change, a disposition) says so, whatever its order.
WORK_ORDER_OWN_STATES = {"on_hold": "Held", "cancelled": "Cancelled", "completed": "Completed"}


def work_order_state(order_status: str, work_order_status: str) -> str:
    """A work order's ISA-95 request state: its own when held, cancelled or completed, else its order's."""
    return WORK_ORDER_OWN_STATES.get(work_order_status) or REQUEST_STATES.get(order_status, "Other")


# A request without work orders (an order line) is one operation of this name.
PRODUCE = "PRODUCE"


def _date_time(value: str | None, *, end_of_day: bool = False) -> str | None:
    if not value:
        return None
    if "T" in value:
        return value
    return f"{value}T{'23:59:59' if end_of_day else '00:00:00'}Z"


# --- parameter values -------------------------------------------------------------------------------------
def _typed(value: Any) -> tuple[str, str, dict[str, str]]:
    """A JSON value as (ValueString, DataType, DataType attributes); see `_untyped` for the way back."""
    if isinstance(value, bool):
        return ("true" if value else "false"), "boolean", {}
    if isinstance(value, int):
        return str(value), "integer", {}
    if isinstance(value, float):
        return repr(value), "double", {}
    if isinstance(value, str):
        return value, "string", {}
    return json.dumps(value, sort_keys=True), "Other", {"OtherValue": "json"}


def _untyped(text: str, data_type: str, other: str | None) -> Any:
    if data_type == "boolean":
        return text == "true"
    if data_type in ("integer", "int", "long"):
        return int(text)
    if data_type in ("double", "float"):
        return float(text)
    if data_type == "Other" and other == "json":
        return json.loads(text)
    return text


def _parameter(out: Writer, name: str, value: Any, *, unit: str | None = None) -> None:
    text, data_type, attrs = _typed(value)
    out.open("SegmentParameter")
    out.leaf("ID", name)
    out.open("Value")
    out.leaf("ValueString", text)
    out.leaf("DataType", data_type, **attrs)
    if unit:
        out.leaf("UnitOfMeasure", unit)
    out.close()
    out.close()


# --- writing ----------------------------------------------------------------------------------------------
def schedule_for_event(event: dict, *, receiver: str = "") -> bytes:
    """Build the B2MML document for one CloudEvent (as from OutboxEvent.as_cloudevent()).

    The event id is the BODID, so the MES can deduplicate on it exactly as on the webhook-id. Written as
    text in document order (elements.Writer): one document per delivery.
    """
    data = event["data"]
    event_type = event["type"].removeprefix("com.orderbridge.")
    verb = VERBS.get(event_type, "Change")
    state = REQUEST_STATES.get(data.get("status", ""), "Other")
    out = Writer(f"{verb}OperationsSchedule", releaseID=RELEASE_ID)
    write_application_area(
        out,
        sender=SENDER,
        confirmation="Always",
        receiver=receiver,
        created=event["time"],
        bod_id=event["id"],
    )

    out.open("DataArea")
    if verb == "Process":
        out.leaf(verb, acknowledgeCode="Always")
    elif verb == "Change":
        out.leaf(verb, responseCode="Always")
    else:
        out.leaf(verb)

    out.open("OperationsSchedule")
    out.leaf("ID", data["number"])
    out.leaf("Description", f"{event_type} {data.get('customer', {}).get('code', '')}".strip())
    out.leaf("Version", data.get("revision", 1))
    out.leaf("PublishedDate", event["time"])
    if data.get("promised_date"):
        out.leaf("EndTime", _date_time(data["promised_date"], end_of_day=True))
    out.leaf("OperationsType", "Production")
    out.leaf("ScheduleState", state)

    work_orders = data.get("work_orders")
    if work_orders:
        lines = {line["line_no"]: line for line in data.get("lines", [])}
        for work_order in work_orders:
            line = lines.get(work_order.get("line_no")) or {}
            _work_order_request(out, event, data, state, work_order, line)
    else:
        for line in data.get("lines", []):
            _line_request(out, event, data, state, line)

    return out.document()


def _request(out: Writer, *, request_id: str, sku: str, data: dict, due: str | None, state: str) -> None:
    """Open an OperationsRequest and write its own elements (its segments follow; the caller closes it)."""
    out.open("OperationsRequest")
    out.leaf("ID", request_id)
    out.leaf("Description", sku)
    out.leaf("Version", data.get("revision", 1))
    if due:
        out.leaf("EndTime", _date_time(due, end_of_day=True))
    out.leaf("OperationsType", "Production")
    out.leaf("Priority", data.get("priority", 2))
    out.leaf("RequestState", state)


def _segment(
    out: Writer,
    *,
    segment_id: str,
    due: str | None,
    process_segment: str,
    planned_minutes: Any,
    sku: str,
    operations_segment: str,
    state: str,
) -> None:
    """Open a SegmentRequirement and write its own elements (its parameters and material follow; the caller
    closes it)."""
    out.open("SegmentRequirement")
    out.leaf("ID", segment_id)
    if due:
        out.leaf("LatestEndTime", _date_time(due, end_of_day=True))
    out.leaf("ProcessSegmentID", process_segment)
    if planned_minutes:
        out.leaf("Duration", f"PT{int(planned_minutes)}M")
    out.leaf("OperationsDefinitionID", sku)
    out.leaf("OperationsSegmentID", operations_segment)
    out.leaf("SegmentState", state)


def _order_parameters(out: Writer, event: dict, data: dict, line: dict) -> None:
    """What every segment carries of its order and line: numbers, dates, priority, customer, spec."""
    _parameter(out, "order_number", data["number"])
    _parameter(out, "sequence", event.get("sequence", 0))
    _parameter(out, "revision", data.get("revision", 1))
    if line.get("line_no") is not None:
        _parameter(out, "line_no", line["line_no"])
    _parameter(out, "priority", data.get("priority", 2))
    for name in ("customer_po", "requested_date", "promised_date"):
        if data.get(name):
            _parameter(out, name, data[name])
    if line.get("due_date"):
        _parameter(out, "due_date", line["due_date"])
    customer = data.get("customer") or {}
    if customer.get("code"):
        _parameter(out, "customer", customer["code"])
    if customer.get("tier"):
        _parameter(out, "customer_tier", customer["tier"])
    for key, value in sorted((line.get("spec") or {}).items()):
        _parameter(out, f"spec.{key}", value)


def _produced_material(out: Writer, *, material_id: str, sku: str, quantity: str, unit: str) -> None:
    """The MaterialRequirement for what the request produces."""
    _material(out, material_id=material_id, sku=sku, use="Produced", quantity=quantity, unit=unit)


def _material(out: Writer, *, material_id: str, sku: str, use: str, quantity: str, unit: str) -> None:
    """A MaterialRequirement: what the segment produces, or a component it consumes (from the BOM)."""
    out.open("MaterialRequirement")
    out.leaf("ID", material_id)
    out.leaf("MaterialDefinitionID", sku)
    out.leaf("MaterialUse", use)
    out.open("Quantity")
    out.leaf("QuantityString", quantity)
    out.leaf("DataType", "decimal")
    if unit:
        out.leaf("UnitOfMeasure", unit)
    out.close()
    out.close()


def _line_request(out: Writer, event: dict, data: dict, state: str, line: dict) -> None:
    """One OperationsRequest for an order line (events without work orders), with a single segment."""
    request_id = f"{data['number']}-{line['line_no']}"
    due = line.get("due_date") or data.get("promised_date")
    _request(out, request_id=request_id, sku=line["sku"], data=data, due=due, state=state)
    _segment(
        out,
        segment_id=f"{request_id}-10",
        due=due,
        process_segment=PRODUCE,
        planned_minutes=None,
        sku=line["sku"],
        operations_segment=PRODUCE,
        state=state,
    )
    _order_parameters(out, event, data, line)
    _parameter(out, "sku", line["sku"])
    _parameter(out, "quantity", line["quantity"], unit=line.get("unit") or None)
    _produced_material(
        out,
        material_id=f"{request_id}-OUT",
        sku=line["sku"],
        quantity=line["quantity"],
        unit=line.get("unit") or "",
    )
    out.close()  # SegmentRequirement
    out.close()  # OperationsRequest


def _work_order_request(
    out: Writer, event: dict, data: dict, state: str, work_order: dict, line: dict
) -> None:
    """One OperationsRequest per work order, one SegmentRequirement per routing operation."""
    state = WORK_ORDER_OWN_STATES.get(work_order.get("status", ""), state)
    change = work_order.get("change") or {}
    due = line.get("due_date") or data.get("promised_date")
    _request(out, request_id=work_order["number"], sku=work_order["sku"], data=data, due=due, state=state)
    operations = work_order.get("operations") or [
        {"sequence": 10, "name": PRODUCE, "work_center": "", "planned_minutes": 0}
    ]
    for operation in operations:
        _segment(
            out,
            segment_id=f"{work_order['number']}/{operation['sequence']}",
            due=due,
            process_segment=str(operation["sequence"]),
            planned_minutes=operation.get("planned_minutes"),
            sku=work_order["sku"],
            operations_segment=operation["name"][:100] or str(operation["sequence"]),
            state=state,
        )
        _order_parameters(out, event, data, line)
        _parameter(out, "work_order", work_order["number"])
        _parameter(out, "operation", operation["sequence"])
        _parameter(out, "operation_name", operation["name"])
        if work_order.get("mes_id"):
            _parameter(out, "mes_work_order_id", work_order["mes_id"])
        if operation.get("mes_id"):
            _parameter(out, "mes_operation_id", operation["mes_id"])
        if operation.get("work_center"):
            _parameter(out, "work_center", operation["work_center"])
        _parameter(out, "sku", work_order["sku"])
        _parameter(out, "quantity", work_order["quantity"], unit=line.get("unit") or None)
        # What this message changes about the work order (work_order.* events, a decided disposition).
        for key, value in sorted(change.items()):
            if value is not None:
                _parameter(out, f"change.{key}", value)
        for number, material in enumerate(operation.get("materials") or (), start=1):
            _material(
                out,
                material_id=f"{work_order['number']}/{operation['sequence']}-IN{number}",
                sku=material["sku"],
                use="Consumed",
                quantity=material["quantity"],
                unit=material.get("unit") or "",
            )
        if operation is operations[-1]:
            _produced_material(
                out,
                material_id=f"{work_order['number']}-OUT",
                sku=work_order["sku"],
                quantity=work_order["quantity"],
                unit=line.get("unit") or "",
            )
        out.close()  # SegmentRequirement
    out.close()  # OperationsRequest


# --- reading ----------------------------------------------------------------------------------------------
def schedule_read(document: bytes) -> dict:
    """Read an OperationsSchedule message (any verb) back into plain data: the MES side of the contract."""
    root = ET.fromstring(document)  # noqa: S314 - signed sender, no DTDs in B2MML
    verb = local_name(root.tag).removesuffix("OperationsSchedule")
    area = children(root, "ApplicationArea")[0]
    schedule = children(children(root, "DataArea")[0], "OperationsSchedule")[0]
    requests = []
    for request in children(schedule, "OperationsRequest"):
        segments = []
        for segment in children(request, "SegmentRequirement"):
            parameters: dict[str, Any] = {}
            for parameter in children(segment, "SegmentParameter"):
                value = children(parameter, "Value")[0]
                data_type = children(value, "DataType")
                parameters[text_of(parameter, "ID") or ""] = _untyped(
                    text_of(value, "ValueString") or "",
                    (data_type[0].text or "").strip() if data_type else "string",
                    data_type[0].get("OtherValue") if data_type else None,
                )
            materials = [
                {
                    "sku": text_of(material, "MaterialDefinitionID"),
                    "use": text_of(material, "MaterialUse"),
                    "quantity": text_of(children(material, "Quantity")[0], "QuantityString")
                    if children(material, "Quantity")
                    else None,
                }
                for material in children(segment, "MaterialRequirement")
            ]
            segments.append({"id": text_of(segment, "ID"), "parameters": parameters, "materials": materials})
        requests.append(
            {
                "id": text_of(request, "ID"),
                "state": text_of(request, "RequestState"),
                "priority": text_of(request, "Priority"),
                "segments": segments,
            }
        )
    return {
        "verb": verb,
        "bod_id": text_of(area, "BODID"),
        "order_number": text_of(schedule, "ID"),
        "version": text_of(schedule, "Version"),
        "state": text_of(schedule, "ScheduleState"),
        "requests": requests,
    }
