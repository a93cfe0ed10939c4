"""What the MES sends us in B2MML: acknowledgements of our schedules and performance (progress) reports.

Read tolerantly (`acknowledged_bod_ids`, `performance_read`): any namespace or none, V0401's legacy
Production* names. Written (`acknowledgement_for`, `performance_for`) as V0701 by the MES simulator and
the tests, so both ends of the contract are exercised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree import ElementTree as ET

from crm_sync.b2mml.elements import (
    RELEASE_ID,
    application_area,
    children,
    local_name,
    qualified,
    serialize,
    sub,
    text_of,
)

MES_SENDER = "MES"
# The SegmentParameters that carry the MES's own ids (its acknowledgements; our messages once known).
MES_WORK_ORDER_ID = "mes_work_order_id"
MES_OPERATION_ID = "mes_operation_id"
# The newer names first; V0401's Production* names are the legacy dialect (SyncProductionPerformance).
_RESPONSE_NAMES = ("OperationsResponse", "ProductionResponse")
_PERFORMANCE_NAMES = ("OperationsPerformance", "ProductionPerformance")


# --- acknowledgements -------------------------------------------------------------------------------------
def acknowledged_bod_ids(document: bytes) -> tuple[str, list[str]]:
    """The root element's name and the BODIDs it acknowledges (AcknowledgeOperationsSchedule, ConfirmBOD).

    Tolerant: any OriginalApplicationArea anywhere, in any namespace or none, is taken.
    """
    root = ET.fromstring(document)  # noqa: S314 - signed sender, no DTDs in B2MML
    ids = []
    for element in root.iter():
        if local_name(element.tag) == "OriginalApplicationArea":
            bod_id = text_of(element, "BODID")
            if bod_id:
                ids.append(bod_id)
    return local_name(root.tag), ids


def acknowledged_work_orders(document: bytes) -> list[dict]:
    """The MES's own ids in an AcknowledgeOperationsSchedule (as `acknowledgement_for` writes them):
    per acknowledged OperationsRequest (our work order number), its MES id and its operations' MES ids.

    [{"number": "SO-…-01", "mes_id": "MES-WO-7" or None, "operations": [{"sequence": 10, "mes_id": "…"}]}]
    """
    root = ET.fromstring(document)  # noqa: S314 - signed sender, no DTDs in B2MML
    found = []
    for request in root.iter():
        if local_name(request.tag) != "OperationsRequest":
            continue
        mes_id = None
        operations = []
        for segment in children(request, "SegmentRequirement"):
            parameters = {
                text_of(parameter, "ID"): text_of(children(parameter, "Value")[0], "ValueString")
                for parameter in children(segment, "SegmentParameter")
                if children(parameter, "Value")
            }
            mes_id = mes_id or parameters.get(MES_WORK_ORDER_ID)
            sequence = text_of(segment, "ProcessSegmentID") or ""
            if parameters.get(MES_OPERATION_ID) and sequence.isdigit():
                operations.append({"sequence": int(sequence), "mes_id": parameters[MES_OPERATION_ID]})
        found.append({"number": text_of(request, "ID"), "mes_id": mes_id, "operations": operations})
    return found


def _id_parameter(segment: ET.Element, name: str, value: str) -> None:
    parameter = sub(segment, "SegmentParameter")
    sub(parameter, "ID", name)
    holder = sub(parameter, "Value")
    sub(holder, "ValueString", value)
    sub(holder, "DataType", "string")


def acknowledgement_for(
    *,
    bod_ids: list[str],
    created: str,
    bod_id: str,
    order_number: str = "",
    work_orders: Sequence[Mapping[str, Any]] = (),
) -> bytes:
    """A V0701 AcknowledgeOperationsSchedule confirming our BODIDs (what the MES simulator answers).

    The schema wants the acknowledged OperationsSchedule after the Acknowledge: one OperationsRequest per
    work order taken (ID: our number), one SegmentRequirement per operation (ProcessSegmentID: its
    sequence), and the MES's own ids as SegmentParameters `mes_work_order_id` / `mes_operation_id`.
    `work_orders`: [{"number", "mes_id", "operations": [{"sequence", "mes_id"}]}]; none: one request named
    after the order (a message without work orders).
    """
    root = ET.Element(qualified("AcknowledgeOperationsSchedule"), {"releaseID": RELEASE_ID})
    application_area(root, sender=MES_SENDER, created=created, bod_id=bod_id)
    data_area = sub(root, "DataArea")
    acknowledge = sub(data_area, "Acknowledge")
    for original in bod_ids:
        original_area = sub(acknowledge, "OriginalApplicationArea")
        sub(original_area, "CreationDateTime", created)
        sub(original_area, "BODID", original)
    schedule = sub(data_area, "OperationsSchedule")
    sub(schedule, "ID", order_number or (bod_ids[0] if bod_ids else bod_id))
    taken = list(work_orders) or [{"number": order_number or bod_id, "mes_id": None, "operations": []}]
    for work_order in taken:
        request = sub(schedule, "OperationsRequest")
        sub(request, "ID", work_order["number"])
        operations = list(work_order.get("operations") or []) or [{"sequence": 10, "mes_id": None}]
        for operation in operations:
            segment = sub(request, "SegmentRequirement")
            sub(segment, "ID", f"{work_order['number']}/{operation['sequence']}")
            sub(segment, "ProcessSegmentID", str(operation["sequence"]))
            sub(segment, "OperationsDefinitionID", work_order["number"])
            sub(segment, "OperationsSegmentID", str(operation["sequence"]))
            if work_order.get("mes_id"):
                _id_parameter(segment, MES_WORK_ORDER_ID, str(work_order["mes_id"]))
            if operation.get("mes_id"):
                _id_parameter(segment, MES_OPERATION_ID, str(operation["mes_id"]))
    return serialize(root)


# --- performance ------------------------------------------------------------------------------------------
def _first(element: ET.Element, *names: str) -> str | None:
    for name in names:
        value = text_of(element, name)
        if value:
            return value
    return None


def _decimal(text: str | None) -> Decimal:
    try:
        return Decimal((text or "0").strip() or "0")
    except InvalidOperation:
        return Decimal(0)


def _material_actuals(segment: ET.Element) -> list[dict]:
    materials = []
    for actual in children(segment, "MaterialActual"):
        quantity_text = None
        unit = None
        for quantity in children(actual, "Quantity"):
            quantity_text = text_of(quantity, "QuantityString")
            unit = text_of(quantity, "UnitOfMeasure") or None
        materials.append(
            {
                "material": text_of(actual, "MaterialDefinitionID"),
                "lot": text_of(actual, "MaterialLotID"),
                "use": text_of(actual, "MaterialUse"),
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
    areas = children(root, "ApplicationArea")
    area = areas[0] if areas else None
    data_area = (children(root, "DataArea") or [root])[0]
    performances = [c for c in data_area if local_name(c.tag) in _PERFORMANCE_NAMES]
    responses = []
    for performance in performances:
        for response in (c for c in performance if local_name(c.tag) in _RESPONSE_NAMES):
            segments = []
            for segment in children(response, "SegmentResponse"):
                materials = _material_actuals(segment)
                produced = [m["quantity"] for m in materials if (m["use"] or "").lower() == "produced"]
                segments.append(
                    {
                        "id": text_of(segment, "ID"),
                        "operation": _first(segment, "ProcessSegmentID", "OperationsSegmentID", "ID"),
                        "state": text_of(segment, "SegmentState"),
                        "actual_start": text_of(segment, "ActualStartTime"),
                        "actual_end": text_of(segment, "ActualEndTime"),
                        "good_quantity": str(sum((_decimal(q) for q in produced), _decimal("0")))
                        if produced
                        else None,
                        "materials": materials,
                    }
                )
            responses.append(
                {
                    "id": text_of(response, "ID"),
                    "work_order": _first(response, "OperationsRequestID", "ProductionRequestID", "ID"),
                    "state": _first(response, "ResponseState", "ProductionResponseState"),
                    "segments": segments,
                }
            )
    return {
        "root": local_name(root.tag),
        "release": root.get("releaseID") or None,
        "created": text_of(area, "CreationDateTime") if area is not None else None,
        "bod_id": text_of(area, "BODID") if area is not None else None,
        "responses": responses,
    }


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
    root = ET.Element(qualified("ProcessOperationsPerformance"), {"releaseID": RELEASE_ID})
    application_area(root, sender=MES_SENDER, created=created, bod_id=bod_id)
    data_area = sub(root, "DataArea")
    sub(data_area, "Process")
    performance = sub(data_area, "OperationsPerformance")
    sub(performance, "ID", f"{work_order}/{operation}/{bod_id}")
    sub(performance, "OperationsType", "Production")
    response = sub(performance, "OperationsResponse")
    sub(response, "ID", f"{work_order}/{operation}")
    sub(response, "OperationsType", "Production")
    sub(response, "OperationsRequestID", work_order)
    sub(response, "ResponseState", "Completed" if finished else "Running")
    segment = sub(response, "SegmentResponse")
    sub(segment, "ID", f"{work_order}/{operation}")
    if started:
        sub(segment, "ActualStartTime", started)
    if finished:
        sub(segment, "ActualEndTime", created)
    sub(segment, "ProcessSegmentID", str(operation))
    sub(segment, "SegmentState", "Completed" if finished else "Running")
    material = sub(segment, "MaterialActual")
    sub(material, "ID", f"{work_order}/{operation}-OUT")
    sub(material, "MaterialDefinitionID", sku or work_order)
    sub(material, "MaterialUse", "Produced")
    quantity = sub(material, "Quantity")
    sub(quantity, "QuantityString", good_quantity)
    sub(quantity, "DataType", "decimal")
    return serialize(root)
