"""ISA-95 / B2MML for an MES: our order events as OperationsSchedule messages (MESA's "Version 0701").

The schemas are MESA International's and stay outside the repository (settings.B2MML_SCHEMA_DIR, its
`Schema/` folder holds V0701; `V0401/` holds the legacy dialect of the 2012 example files).
"The Business To Manufacturing Markup Language (B2MML) is used courtesy of MESA International."

An event that carries the order's work orders (release, applied change, resync) goes out as one
OperationsSchedule (ID = order number) with one OperationsRequest per WORK ORDER (ID = work order
number) and one SegmentRequirement per routing operation (ID = "<work order>/<operation sequence>");
other events keep one OperationsRequest per order line with a single SegmentRequirement.
Quantities, dates, priority, customer and every spec attribute travel as SegmentParameters, so
`schedule_read` gives back what `schedule_for_event` put in.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

NS = "http://www.mesa.org/xml/B2MML"
RELEASE_ID = "7.01"
SENDER = "OrderBridge"
SCHEDULE_ENTRY_POINT = "B2MML-OperationsSchedule.xsd"

# Our event → the BOD verb; the order's status → ISA-95 request state.
VERBS = {"order.released": "Process", "order.resync": "Sync", "order.cancelled": "Cancel"}
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

ET.register_namespace("", NS)


XML_DECLARATION = b"<?xml version='1.0' encoding='utf-8'?>\n"


def _document(root: ET.Element) -> bytes:
    """The same bytes as ET.tostring(root, encoding="utf-8", xml_declaration=True), about a third cheaper:
    serialising to text and encoding once skips a codec call per element (one document per delivery)."""
    return XML_DECLARATION + ET.tostring(root, encoding="unicode").encode()


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _sub(parent: ET.Element, tag: str, text: Any = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, _q(tag), attrs)
    if text is not None:
        element.text = str(text)
    return element


def _date_time(value: str | None, *, end_of_day: bool = False) -> str | None:
    if not value:
        return None
    if "T" in value:
        return value
    return f"{value}T{'23:59:59' if end_of_day else '00:00:00'}Z"


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


def _parameter(parent: ET.Element, name: str, value: Any, *, unit: str | None = None) -> None:
    text, data_type, attrs = _typed(value)
    parameter = _sub(parent, "SegmentParameter")
    _sub(parameter, "ID", name)
    holder = _sub(parameter, "Value")
    _sub(holder, "ValueString", text)
    _sub(holder, "DataType", data_type, **attrs)
    if unit:
        _sub(holder, "UnitOfMeasure", unit)


def schedule_for_event(event: dict, *, receiver: str = "") -> bytes:
    """Build the B2MML document for one CloudEvent (as from OutboxEvent.as_cloudevent()).

    The event id is the BODID, so the MES can deduplicate on it exactly as on the webhook-id.
    """
    data = event["data"]
    event_type = event["type"].removeprefix("com.orderbridge.")
    verb = VERBS.get(event_type, "Change")
    state = REQUEST_STATES.get(data.get("status", ""), "Other")
    root = ET.Element(_q(f"{verb}OperationsSchedule"), {"releaseID": RELEASE_ID})

    area = _sub(root, "ApplicationArea")
    sender = _sub(area, "Sender")
    _sub(sender, "LogicalID", SENDER)
    _sub(sender, "ConfirmationCode", "Always")
    if receiver:
        _sub(_sub(area, "Receiver"), "LogicalID", receiver)
    _sub(area, "CreationDateTime", event["time"])
    _sub(area, "BODID", event["id"])

    data_area = _sub(root, "DataArea")
    verb_element = _sub(data_area, verb)
    if verb == "Process":
        verb_element.set("acknowledgeCode", "Always")
    elif verb == "Change":
        verb_element.set("responseCode", "Always")

    schedule = _sub(data_area, "OperationsSchedule")
    _sub(schedule, "ID", data["number"])
    _sub(schedule, "Description", f"{event_type} {data.get('customer', {}).get('code', '')}".strip())
    _sub(schedule, "Version", data.get("revision", 1))
    _sub(schedule, "PublishedDate", event["time"])
    if data.get("promised_date"):
        _sub(schedule, "EndTime", _date_time(data["promised_date"], end_of_day=True))
    _sub(schedule, "OperationsType", "Production")
    _sub(schedule, "ScheduleState", state)

    work_orders = data.get("work_orders")
    if work_orders:
        lines = {line["line_no"]: line for line in data.get("lines", [])}
        for work_order in work_orders:
            line = lines.get(work_order.get("line_no")) or {}
            _work_order_request(schedule, event, data, state, work_order, line)
    else:
        for line in data.get("lines", []):
            _line_request(schedule, event, data, state, line)

    return _document(root)


def _line_request(schedule: ET.Element, event: dict, data: dict, state: str, line: dict) -> None:
    """One OperationsRequest for an order line (events without work orders)."""
    request = _sub(schedule, "OperationsRequest")
    request_id = f"{data['number']}-{line['line_no']}"
    _sub(request, "ID", request_id)
    _sub(request, "Description", line["sku"])
    _sub(request, "Version", data.get("revision", 1))
    due = line.get("due_date") or data.get("promised_date")
    if due:
        _sub(request, "EndTime", _date_time(due, end_of_day=True))
    _sub(request, "OperationsType", "Production")
    _sub(request, "Priority", data.get("priority", 2))
    _sub(request, "RequestState", state)

    segment = _sub(request, "SegmentRequirement")
    _sub(segment, "ID", f"{request_id}-10")
    if due:
        _sub(segment, "LatestEndTime", _date_time(due, end_of_day=True))
    _sub(segment, "ProcessSegmentID", "PRODUCE")
    _sub(segment, "OperationsDefinitionID", line["sku"])
    _sub(segment, "OperationsSegmentID", "PRODUCE")
    _sub(segment, "SegmentState", state)
    _parameter(segment, "order_number", data["number"])
    _parameter(segment, "sequence", event.get("sequence", 0))
    _parameter(segment, "line_no", line["line_no"])
    _parameter(segment, "sku", line["sku"])
    _parameter(segment, "quantity", line["quantity"], unit=line.get("unit") or None)
    _parameter(segment, "priority", data.get("priority", 2))
    for name in ("customer_po", "requested_date", "promised_date"):
        if data.get(name):
            _parameter(segment, name, data[name])
    if line.get("due_date"):
        _parameter(segment, "due_date", line["due_date"])
    customer = data.get("customer") or {}
    if customer.get("code"):
        _parameter(segment, "customer", customer["code"])
    if customer.get("tier"):
        _parameter(segment, "customer_tier", customer["tier"])
    for key, value in sorted((line.get("spec") or {}).items()):
        _parameter(segment, f"spec.{key}", value)

    material = _sub(segment, "MaterialRequirement")
    _sub(material, "ID", f"{request_id}-OUT")
    _sub(material, "MaterialDefinitionID", line["sku"])
    _sub(material, "MaterialUse", "Produced")
    quantity = _sub(material, "Quantity")
    _sub(quantity, "QuantityString", line["quantity"])
    _sub(quantity, "DataType", "decimal")
    if line.get("unit"):
        _sub(quantity, "UnitOfMeasure", line["unit"])


def _common_parameters(segment: ET.Element, event: dict, data: dict, line: dict) -> None:
    _parameter(segment, "order_number", data["number"])
    _parameter(segment, "sequence", event.get("sequence", 0))
    _parameter(segment, "revision", data.get("revision", 1))
    if line.get("line_no") is not None:
        _parameter(segment, "line_no", line["line_no"])
    _parameter(segment, "priority", data.get("priority", 2))
    for name in ("customer_po", "requested_date", "promised_date"):
        if data.get(name):
            _parameter(segment, name, data[name])
    if line.get("due_date"):
        _parameter(segment, "due_date", line["due_date"])
    customer = data.get("customer") or {}
    if customer.get("code"):
        _parameter(segment, "customer", customer["code"])
    if customer.get("tier"):
        _parameter(segment, "customer_tier", customer["tier"])
    for key, value in sorted((line.get("spec") or {}).items()):
        _parameter(segment, f"spec.{key}", value)


def _work_order_request(
    schedule: ET.Element, event: dict, data: dict, state: str, work_order: dict, line: dict
) -> None:
    """One OperationsRequest per work order, one SegmentRequirement per routing operation."""
    state = WORK_ORDER_OWN_STATES.get(work_order.get("status", ""), state)
    request = _sub(schedule, "OperationsRequest")
    _sub(request, "ID", work_order["number"])
    _sub(request, "Description", work_order["sku"])
    _sub(request, "Version", data.get("revision", 1))
    due = line.get("due_date") or data.get("promised_date")
    if due:
        _sub(request, "EndTime", _date_time(due, end_of_day=True))
    _sub(request, "OperationsType", "Production")
    _sub(request, "Priority", data.get("priority", 2))
    _sub(request, "RequestState", state)
    operations = work_order.get("operations") or [
        {"sequence": 10, "name": "PRODUCE", "work_center": "", "planned_minutes": 0}
    ]
    for operation in operations:
        segment = _sub(request, "SegmentRequirement")
        _sub(segment, "ID", f"{work_order['number']}/{operation['sequence']}")
        if due:
            _sub(segment, "LatestEndTime", _date_time(due, end_of_day=True))
        _sub(segment, "ProcessSegmentID", str(operation["sequence"]))
        if operation.get("planned_minutes"):
            _sub(segment, "Duration", f"PT{int(operation['planned_minutes'])}M")
        _sub(segment, "OperationsDefinitionID", work_order["sku"])
        _sub(segment, "OperationsSegmentID", operation["name"][:100] or str(operation["sequence"]))
        _sub(segment, "SegmentState", state)
        _common_parameters(segment, event, data, line)
        _parameter(segment, "work_order", work_order["number"])
        _parameter(segment, "operation", operation["sequence"])
        _parameter(segment, "operation_name", operation["name"])
        if operation.get("work_center"):
            _parameter(segment, "work_center", operation["work_center"])
        _parameter(segment, "sku", work_order["sku"])
        _parameter(segment, "quantity", work_order["quantity"], unit=line.get("unit") or None)
        if operation is operations[-1]:
            material = _sub(segment, "MaterialRequirement")
            _sub(material, "ID", f"{work_order['number']}-OUT")
            _sub(material, "MaterialDefinitionID", work_order["sku"])
            _sub(material, "MaterialUse", "Produced")
            quantity = _sub(material, "Quantity")
            _sub(quantity, "QuantityString", work_order["quantity"])
            _sub(quantity, "DataType", "decimal")
            if line.get("unit"):
                _sub(quantity, "UnitOfMeasure", line["unit"])


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    # Namespace-blind on purpose: real senders differ in namespaces and prefixes.
    return [child for child in element if _local(child.tag) == name]


def _text(element: ET.Element, name: str) -> str | None:
    found = _children(element, name)
    return (found[0].text or "").strip() if found else None


def schedule_read(document: bytes) -> dict:
    """Read an OperationsSchedule message (any verb) back into plain data: the MES side of the contract."""
    root = ET.fromstring(document)  # noqa: S314 - signed sender, no DTDs in B2MML
    verb = _local(root.tag).removesuffix("OperationsSchedule")
    area = _children(root, "ApplicationArea")[0]
    schedule = _children(_children(root, "DataArea")[0], "OperationsSchedule")[0]
    requests = []
    for request in _children(schedule, "OperationsRequest"):
        segments = []
        for segment in _children(request, "SegmentRequirement"):
            parameters: dict[str, Any] = {}
            for parameter in _children(segment, "SegmentParameter"):
                value = _children(parameter, "Value")[0]
                data_type = _children(value, "DataType")
                parameters[_text(parameter, "ID")] = _untyped(
                    _text(value, "ValueString") or "",
                    (data_type[0].text or "").strip() if data_type else "string",
                    data_type[0].get("OtherValue") if data_type else None,
                )
            segments.append({"id": _text(segment, "ID"), "parameters": parameters})
        requests.append(
            {
                "id": _text(request, "ID"),
                "state": _text(request, "RequestState"),
                "priority": _text(request, "Priority"),
                "segments": segments,
            }
        )
    return {
        "verb": verb,
        "bod_id": _text(area, "BODID"),
        "order_number": _text(schedule, "ID"),
        "version": _text(schedule, "Version"),
        "state": _text(schedule, "ScheduleState"),
        "requests": requests,
    }


def schema_path(schema_dir: Path, entry_point: str = SCHEDULE_ENTRY_POINT) -> Path:
    return Path(schema_dir) / "Schema" / entry_point


@functools.cache
def load_schema(path: str):
    """Build an XSD once per process: the V0701 set is 34 files and takes seconds to load."""
    import xmlschema

    return xmlschema.XMLSchema(path)


def validation_errors(document: bytes, *, schema_dir: Path) -> list[str]:
    schema = load_schema(str(schema_path(schema_dir)))
    return [str(error.reason or error) for error in schema.iter_errors(document.decode("utf-8"))]


def acknowledged_bod_ids(document: bytes) -> tuple[str, list[str]]:
    """The root element's name and the BODIDs it acknowledges (AcknowledgeOperationsSchedule, ConfirmBOD).

    Tolerant: any OriginalApplicationArea anywhere, in any namespace or none, is taken.
    """
    root = ET.fromstring(document)  # noqa: S314 - signed sender, no DTDs in B2MML
    ids = []
    for element in root.iter():
        if _local(element.tag) == "OriginalApplicationArea":
            bod_id = _text(element, "BODID")
            if bod_id:
                ids.append(bod_id)
    return _local(root.tag), ids


# --- performance: what the MES reports back ----------------------------------------------------------------
PERFORMANCE_ENTRY_POINT = "B2MML-OperationsPerformance.xsd"
# The newer names first; V0401's Production* names are the legacy dialect (SyncProductionPerformance).
_RESPONSE_NAMES = ("OperationsResponse", "ProductionResponse")
_PERFORMANCE_NAMES = ("OperationsPerformance", "ProductionPerformance")


def _first(element: ET.Element, *names: str) -> str | None:
    for name in names:
        value = _text(element, name)
        if value:
            return value
    return None


def _material_actuals(segment: ET.Element) -> list[dict]:
    materials = []
    for actual in _children(segment, "MaterialActual"):
        quantity_text = None
        unit = None
        for quantity in _children(actual, "Quantity"):
            quantity_text = _text(quantity, "QuantityString")
            unit = _text(quantity, "UnitOfMeasure") or None
        materials.append(
            {
                "material": _text(actual, "MaterialDefinitionID"),
                "lot": _text(actual, "MaterialLotID"),
                "use": _text(actual, "MaterialUse"),
                "quantity": quantity_text,
                "unit": unit,
            }
        )
    return materials


def performance_read(document: bytes) -> dict:
    """Read ProcessOperationsPerformance (V0701) or SyncProductionPerformance (V0401) into plain data.

    Tolerant of what real senders do: a UTF-8 BOM, CRLF line ends, any namespace or none, a missing
    releaseID, V0401's Production* element names. Per response (a work order): its segments (operations)
    with their state, end time, and produced (good) quantity summed over MaterialActual "Produced".
    """
    root = ET.fromstring(document.removeprefix(b"\xef\xbb\xbf"))  # noqa: S314 - signed sender, no DTDs
    area = (_children(root, "ApplicationArea") or [None])[0]
    data_area = (_children(root, "DataArea") or [root])[0]
    performances = [c for c in data_area if _local(c.tag) in _PERFORMANCE_NAMES]
    responses = []
    for performance in performances:
        for response in (c for c in performance if _local(c.tag) in _RESPONSE_NAMES):
            segments = []
            for segment in _children(response, "SegmentResponse"):
                materials = _material_actuals(segment)
                produced = [m["quantity"] for m in materials if (m["use"] or "").lower() == "produced"]
                segments.append(
                    {
                        "id": _text(segment, "ID"),
                        "operation": _first(segment, "ProcessSegmentID", "OperationsSegmentID", "ID"),
                        "state": _text(segment, "SegmentState"),
                        "actual_start": _text(segment, "ActualStartTime"),
                        "actual_end": _text(segment, "ActualEndTime"),
                        "good_quantity": str(sum((_decimal(q) for q in produced), _decimal("0")))
                        if produced
                        else None,
                        "materials": materials,
                    }
                )
            responses.append(
                {
                    "id": _text(response, "ID"),
                    "work_order": _first(response, "OperationsRequestID", "ProductionRequestID", "ID"),
                    "state": _first(response, "ResponseState", "ProductionResponseState"),
                    "segments": segments,
                }
            )
    return {
        "root": _local(root.tag),
        "release": root.get("releaseID") or None,
        "created": _text(area, "CreationDateTime") if area is not None else None,
        "bod_id": _text(area, "BODID") if area is not None else None,
        "responses": responses,
    }


def _decimal(text: str | None):
    from decimal import Decimal, InvalidOperation

    try:
        return Decimal((text or "0").strip() or "0")
    except InvalidOperation:
        return Decimal(0)


def performance_for(
    *,
    bod_id: str,
    created: str,
    work_order: str,
    operation: int | str,
    good_quantity: str,
    finished: bool,
    sku: str = "",
    started: str = "",
) -> bytes:
    """A V0701 ProcessOperationsPerformance for one operation of one work order (what an MES sends).

    `started`: the operation's ActualStartTime, when the MES says when it began."""
    root = ET.Element(_q("ProcessOperationsPerformance"), {"releaseID": RELEASE_ID})
    area = _sub(root, "ApplicationArea")
    _sub(_sub(area, "Sender"), "LogicalID", "MES")
    _sub(area, "CreationDateTime", created)
    _sub(area, "BODID", bod_id)
    data_area = _sub(root, "DataArea")
    _sub(data_area, "Process")
    performance = _sub(data_area, "OperationsPerformance")
    _sub(performance, "ID", f"{work_order}/{operation}/{bod_id}")
    _sub(performance, "OperationsType", "Production")
    response = _sub(performance, "OperationsResponse")
    _sub(response, "ID", f"{work_order}/{operation}")
    _sub(response, "OperationsType", "Production")
    _sub(response, "OperationsRequestID", work_order)
    _sub(response, "ResponseState", "Completed" if finished else "Running")
    segment = _sub(response, "SegmentResponse")
    _sub(segment, "ID", f"{work_order}/{operation}")
    if started:
        _sub(segment, "ActualStartTime", started)
    if finished:
        _sub(segment, "ActualEndTime", created)
    _sub(segment, "ProcessSegmentID", str(operation))
    _sub(segment, "SegmentState", "Completed" if finished else "Running")
    material = _sub(segment, "MaterialActual")
    _sub(material, "ID", f"{work_order}/{operation}-OUT")
    _sub(material, "MaterialDefinitionID", sku or work_order)
    _sub(material, "MaterialUse", "Produced")
    quantity = _sub(material, "Quantity")
    _sub(quantity, "QuantityString", good_quantity)
    _sub(quantity, "DataType", "decimal")
    return _document(root)


def performance_validation_errors(document: bytes, *, schema_dir: Path) -> list[str]:
    schema = load_schema(str(schema_path(schema_dir, PERFORMANCE_ENTRY_POINT)))
    return [str(error.reason or error) for error in schema.iter_errors(document.decode("utf-8"))]


def acknowledgement_for(*, bod_ids: list[str], created: str, bod_id: str) -> bytes:
    """A V0701 AcknowledgeOperationsSchedule confirming our BODIDs (what the MES simulator answers)."""
    root = ET.Element(_q("AcknowledgeOperationsSchedule"), {"releaseID": RELEASE_ID})
    area = _sub(root, "ApplicationArea")
    _sub(_sub(area, "Sender"), "LogicalID", "MES")
    _sub(area, "CreationDateTime", created)
    _sub(area, "BODID", bod_id)
    data_area = _sub(root, "DataArea")
    acknowledge = _sub(data_area, "Acknowledge")
    for original in bod_ids:
        original_area = _sub(acknowledge, "OriginalApplicationArea")
        _sub(original_area, "CreationDateTime", created)
        _sub(original_area, "BODID", original)
    return _document(root)
