"""Properties of the inbound doors: whatever a signed sender posts — JSON from the CRM or the MES, B2MML in
every dialect we read (V0701 performance and acknowledgements, ConfirmBOD, V0401's Production* names), in
any encoding, or plain garbage — the answer is 202/200 or a 400, never a 500; and a stored message is
processed, or fails with a reason, without a crash or a retry loop on a body that cannot be read."""

from __future__ import annotations

import json
import uuid
from xml.etree import ElementTree as ET

import pytest
from django.urls import reverse
from hypothesis import event, given
from hypothesis import strategies as st

from crm_sync import b2mml, inbound
from crm_sync.models import ExternalSystem, InboundMessage
from orders.sales import transitions
from production.work_orders import WorkOrder
from tests.crm_sync.factories import ExternalSystemFactory
from tests.crm_sync.helpers import post_hook
from tests.factories import CustomerFactory, ProductFactory, UserFactory, in_days, make_order, valid_spec
from tests.production.conftest import make_routing, make_work_center
from tests.properties import examples

pytestmark = pytest.mark.django_db

CRM_HOOK = reverse("hooks:crm")
MES_HOOK = reverse("hooks:mes")
# What a body that cannot be read must never leave behind: a crash the task would retry.
UNREADABLE_ERRORS = (
    "ParseError",
    "RecursionError",
    "JSONDecodeError",
    "UnicodeDecodeError",
    "UnicodeEncodeError",
)


# --- the systems and what their messages may name ----------------------------------------------------------
@pytest.fixture
def crm_system(db):
    CustomerFactory(crm_id="ACME-1")
    ProductFactory(sku="PANEL-1")
    return ExternalSystemFactory(
        slug="crm", kind=ExternalSystem.Kind.CRM, service_user=UserFactory(username="crm-bot", role="admin")
    )


@pytest.fixture
def mes_system(db):
    return ExternalSystemFactory(
        slug="mes",
        kind=ExternalSystem.Kind.MES,
        service_user=UserFactory(username="mes-bot", role="production_manager"),
    )


@pytest.fixture
def work_order(sales, planner) -> WorkOrder:
    """A released order's work order (two operations) for the MES's messages to name."""
    product = ProductFactory()
    make_routing(
        planner,
        product,
        [(make_work_center(planner, "CUT"), 10, 1), (make_work_center(planner, "WELD"), 5, 2)],
    )
    order = transitions.order_release(
        actor=planner, order=make_order(owner=sales, product=product, confirmed=True)
    )
    return WorkOrder.objects.select_related("order").get(order=order)


# --- JSON ---------------------------------------------------------------------------------------------------
# Text: mostly printable, sometimes with everything JSON can carry (NUL, unpaired surrogates as \\u escapes).
any_text = st.one_of(
    st.text(max_size=12), st.text(max_size=12), st.text(st.characters(exclude_categories=()), max_size=4)
)
edge_values = st.sampled_from(
    [
        "",
        "0",
        "-5",
        "4.5",
        "1e309",
        "NaN",
        "Infinity",
        "2026-12-07",
        "2026-02-30",
        "2026-12-07T10:00:00Z",
        "not a date",
        "=1+1",
        "x" * 300,
        10**30,
        -1,
        0,
        True,
        None,
        1.5,
    ]
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), any_text, edge_values
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=12,
)


def field(*likely: object) -> st.SearchStrategy[object]:
    """A field's value: mostly one a real sender would write, sometimes anything at all."""
    if not likely:
        return json_values
    return st.one_of(st.sampled_from(likely), st.sampled_from(likely), json_values)


def crm_line() -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {},
        optional={
            "line_no": field(1, 2, "1"),
            "sku": field("PANEL-1", "NOPE"),
            "quantity": field("12", "0", "-1", 3),
            "spec_values": field(valid_spec(), {}, {"material": "gold"}),
            "due_date": field(in_days(30).isoformat()),
        },
    )


crm_data = st.fixed_dictionaries(
    {},
    optional={
        "crm_id": field("CRM-1", "CRM-2"),
        "customer_crm_id": field("ACME-1", "NOBODY"),
        "customer_po": field("PO-1"),
        "requested_date": field(in_days(20).isoformat()),
        "promised_date": field(in_days(25).isoformat(), in_days(-5).isoformat()),
        "priority": field(1, 2, 4, 9),
        "priority_reason": field("rush"),
        "remarks": field("call first"),
        "status": field("draft", "confirmed", "released", "shipped"),
        "reason": field("customer asked"),
        "lines": st.one_of(st.lists(crm_line(), max_size=3), json_values),
    },
)


def envelope(types: list[str], subjects: list[str], data: st.SearchStrategy) -> st.SearchStrategy[object]:
    return st.fixed_dictionaries(
        {"type": field(*types)},
        optional={"subject": field(*subjects, ""), "sequence": field(1, 2, "3", -1, 0), "data": data},
    )


def crm_message(*, type: str, crm_id: str, sequence: int, status: str) -> dict:
    """A message the CRM really sends, which would be applied."""
    return {
        "type": type,
        "subject": crm_id,
        "sequence": sequence,
        "data": {
            "crm_id": crm_id,
            "customer_crm_id": "ACME-1",
            "customer_po": "PO-77",
            "requested_date": in_days(20).isoformat(),
            "promised_date": in_days(25).isoformat(),
            "status": status,
            "reason": "customer asked",
            "lines": [{"line_no": 1, "sku": "PANEL-1", "quantity": "12", "spec_values": valid_spec()}],
        },
    }


def mes_message(*, type: str, work_order: str, operation: int, good: str, sequence: int) -> dict:
    """A message the MES really sends, which would be applied."""
    data = {"work_order": work_order, "operation": operation, "good_quantity": good, "finished": False}
    if type == "operations.exception":
        data = {"work_order": work_order, "kind": "material_shortage", "severity": "high"}
    return {"type": type, "sequence": sequence, "data": data}


def mes_data(work_order: str) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {},
        optional={
            "event_id": field(str(uuid.UUID(int=1))),
            "work_order": field(work_order, "WO-NOPE"),
            "operation": field(10, "0020", "Step 1", 99),
            "good_quantity": field("4", "-1", 2),
            "scrap_quantity": field("0", "x"),
            "rework_quantity": field("0"),
            "finished": field(True, False, "yes"),
            "operator": field("Ann"),
            "reported_at": field("2026-12-07T10:00:00Z", "yesterday"),
            "started_at": field("2026-12-07T09:00:00Z"),
            "state": field("running", "completed", "paused"),
            "kind": field("material_shortage", "x"),
            "severity": field("high", "extreme"),
            "description": field("jammed"),
            "expected_delay_minutes": field(90, "90", -5),
        },
    )


def dumped(document: object, ascii_only: bool) -> bytes:
    # ensure_ascii writes unpaired surrogates as \\ud800 escapes; without it they cannot even be encoded.
    return (
        json.dumps(document, ensure_ascii=True).encode()
        if ascii_only
        else json.dumps(document).encode("utf-8", "surrogatepass")
    )


def nested(levels: int) -> bytes:
    return b'{"type": "order.created", "data": ' + b"[" * levels + b"]" * levels + b"}"


@st.composite
def perturbed(draw: st.DrawFn, valid: st.SearchStrategy[dict]) -> dict:
    """A message that would be applied, with up to two of its fields (at any level) replaced or left out."""
    document = draw(valid)
    for _ in range(draw(st.integers(0, 2))):
        objects, pending = [], [document]
        while pending:  # every object in the message, the message itself included
            value = pending.pop()
            if isinstance(value, dict):
                objects.append(value)
            pending.extend(
                value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
            )
        target = draw(st.sampled_from(objects))
        if not target:
            continue
        key = draw(st.sampled_from(sorted(target)))
        if draw(st.booleans()):
            del target[key]
        else:
            target[key] = draw(json_values)
    return document


@st.composite
def json_bodies(
    draw: st.DrawFn, document: st.SearchStrategy[object], valid: st.SearchStrategy[dict]
) -> bytes:
    kind = draw(st.sampled_from(["message", "valid", "valid", "value", "bytes", "deep", "damaged"]))
    if kind in ("valid", "damaged"):
        document = perturbed(valid)
    if kind == "bytes":
        return draw(st.binary(max_size=80))
    if kind == "deep":
        # About our limit (32 levels), and far past it.
        return nested(draw(st.sampled_from([31, 32, 1_000, 100_000, 100_000])))
    body = dumped(draw(json_values if kind == "value" else document), draw(st.booleans()))
    if kind == "damaged":  # cut short, or a byte changed: what a broken proxy or a buggy sender sends
        cut = draw(st.integers(0, len(body)))
        body = body[:cut] + draw(st.binary(max_size=3)) + body[cut + 1 :]
    return body


# Mostly a fresh id (a new message), sometimes any printable id of any length (over 200: refused).
webhook_ids = st.one_of(
    st.builds(lambda: f"msg_{uuid.uuid4().hex}"),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=260),
)


def sent_and_processed(client, hook: str, body: bytes, msg_id: str, content_type: str) -> None:
    """Post one signed message: a 4xx or an acceptance, never a 500 (the test client raises one); an
    accepted message is then processed as the worker would, and must not crash or loop on its body."""
    response = post_hook(client, hook, body, msg_id=msg_id, content_type=content_type)

    assert response.status_code in (200, 202, 400), response.content
    event(f"answered {response.status_code} {response.json().get('error', {}).get('message', '')[:40]}")
    if response.status_code == 400:
        assert response.json()["error"]["message"]
        return
    message = InboundMessage.objects.get(message_id=msg_id)
    if response.status_code == 202:
        inbound.inbound_process(message_pk=message.pk)
        message.refresh_from_db()
        assert message.state in (
            InboundMessage.State.PROCESSED,
            InboundMessage.State.DEAD,
            InboundMessage.State.FAILED,
        )
        assert not message.last_error.startswith(UNREADABLE_ERRORS), message.last_error
        event(f"processed: {message.state} {message.result.get('error', '')} {message.last_error[:60]}")


@examples(100)
@given(data=st.data())
def test_any_json_the_crm_signs_gets_an_answer_and_is_processed_without_a_crash(client, crm_system, data):
    types = ["order.created", "order.updated", "order.cancelled", "order.teleported"]
    valid = st.builds(
        crm_message,
        type=st.sampled_from(types[:3]),
        crm_id=st.sampled_from(["CRM-1", "CRM-2"]),
        sequence=st.integers(1, 4),
        status=st.sampled_from(["draft", "confirmed", "released"]),
    )
    body = data.draw(json_bodies(envelope(types, ["CRM-1", "CRM-2"], crm_data), valid), label="body")
    msg_id = data.draw(webhook_ids, label="webhook-id")

    sent_and_processed(client, CRM_HOOK, body, msg_id, "application/json")


@examples(100)
@given(data=st.data())
def test_any_json_the_mes_signs_gets_an_answer_and_is_processed_without_a_crash(
    client, mes_system, work_order, data
):
    types = ["operations.acknowledged", "operations.progress", "operations.exception", "operations.completed"]
    document = envelope(types, [work_order.order.number], mes_data(work_order.number))
    valid = st.builds(
        mes_message,
        type=st.sampled_from(types[1:]),
        work_order=st.just(work_order.number),
        operation=st.sampled_from([10, 20]),
        good=st.sampled_from(["1", "2", "5"]),
        sequence=st.integers(1, 4),
    )
    body = data.draw(json_bodies(document, valid), label="body")
    msg_id = data.draw(webhook_ids, label="webhook-id")

    sent_and_processed(client, MES_HOOK, body, msg_id, "application/json")


# --- B2MML -----------------------------------------------------------------------------------------------
# (root, performance, response, request id, response state) per dialect; None: an acknowledgement.
DIALECTS = {
    "V0701 ProcessOperationsPerformance": (
        "ProcessOperationsPerformance",
        "OperationsPerformance",
        "OperationsResponse",
        "OperationsRequestID",
        "ResponseState",
    ),
    "V0701 SyncOperationsPerformance": (
        "SyncOperationsPerformance",
        "OperationsPerformance",
        "OperationsResponse",
        "OperationsRequestID",
        "ResponseState",
    ),
    "V0401 SyncProductionPerformance": (
        "SyncProductionPerformance",
        "ProductionPerformance",
        "ProductionResponse",
        "ProductionRequestID",
        "ProductionResponseState",
    ),
    "V0701 AcknowledgeOperationsSchedule": ("AcknowledgeOperationsSchedule", None, None, None, None),
    "ConfirmBOD": ("ConfirmBOD", None, None, None, None),
}
# Any character XML 1.0 allows, mostly; sometimes one it does not (the document then cannot be parsed).
xml_text = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\ufffe\uffff", min_codepoint=0x20)
    | st.sampled_from("\t\n\r\x01"),
    max_size=10,
)


def xml_field(*likely: str) -> st.SearchStrategy[str | None]:
    """An element's text: one a real MES would write, any text, or the element left out (None)."""
    if not likely:
        return st.one_of(xml_text, st.none())
    return st.one_of(
        st.sampled_from(likely), st.sampled_from(likely), st.sampled_from(likely), xml_text, st.none()
    )


@st.composite
def b2mml_documents(draw: st.DrawFn, work_order: str) -> ET.Element:
    dialect = draw(st.sampled_from(sorted(DIALECTS)), label="dialect")
    root_name, performance_name, response_name, request_name, state_name = DIALECTS[dialect]
    namespace = draw(st.sampled_from([b2mml.NS, "", "urn:other"]))

    def element(parent: ET.Element | None, name: str, text: str | None = None) -> ET.Element:
        tag = f"{{{namespace}}}{name}" if namespace else name
        node = ET.Element(tag) if parent is None else ET.SubElement(parent, tag)
        node.text = text
        return node

    def leaf(parent: ET.Element, name: str, text: str | None) -> None:
        if text is not None:
            element(parent, name, text)

    root = element(None, root_name)
    if draw(st.booleans()):
        root.set("releaseID", draw(st.sampled_from(["7.01", "4.0", ""])))
    area = element(root, "ApplicationArea")
    leaf(area, "CreationDateTime", draw(xml_field("2026-12-07T10:00:00Z", "2026-12-07T10:00:00", "soon")))
    leaf(area, "BODID", draw(xml_field("bod-1")))
    data_area = element(root, "DataArea")
    if performance_name is None:  # an acknowledgement: the BODIDs of ours it confirms
        acknowledge = element(data_area, draw(st.sampled_from(["Acknowledge", "Confirm"])))
        for _ in range(draw(st.integers(0, 2))):
            original = element(acknowledge, "OriginalApplicationArea")
            leaf(original, "BODID", draw(xml_field(str(uuid.UUID(int=1)), "not-a-uuid")))
        return root
    for _ in range(draw(st.integers(0, 2))):
        performance = element(data_area, performance_name)
        for _ in range(draw(st.integers(0, 2))):
            response = element(performance, response_name)
            leaf(response, "ID", draw(xml_field(work_order)))
            leaf(response, request_name, draw(xml_field(work_order, "WO-NOPE")))
            leaf(response, state_name, draw(xml_field("Running", "Completed")))
            for _ in range(draw(st.integers(0, 2))):
                segment = element(response, "SegmentResponse")
                leaf(segment, "ID", draw(xml_field("10")))
                leaf(segment, "ProcessSegmentID", draw(xml_field("10", "0020", "Step 2", "99")))
                leaf(segment, "SegmentState", draw(xml_field("Running", "Completed")))
                leaf(segment, "ActualStartTime", draw(xml_field("2026-12-07T09:00:00Z", "never")))
                leaf(segment, "ActualEndTime", draw(xml_field("2026-12-07T10:00:00Z")))
                for _ in range(draw(st.integers(0, 2))):
                    actual = element(segment, "MaterialActual")
                    leaf(actual, "MaterialDefinitionID", draw(xml_field("PANEL-1")))
                    leaf(actual, "MaterialUse", draw(xml_field("Produced", "Consumed")))
                    quantity = element(actual, "Quantity")
                    leaf(quantity, "QuantityString", draw(xml_field("4", "0.5", "-1", "1e999999", "NaN")))
                    leaf(quantity, "UnitOfMeasure", draw(xml_field("EA")))
    return root


@st.composite
def xml_bodies(draw: st.DrawFn, work_order: str) -> bytes:
    kind = draw(st.sampled_from(["document", "document", "document", "bytes", "damaged", "deep"]))
    if kind == "bytes":
        return draw(st.binary(max_size=80))
    if kind == "deep":
        levels = draw(st.sampled_from([100, 100_000]))
        return b"<ConfirmBOD>" + b"<a>" * levels + b"</a>" * levels + b"</ConfirmBOD>"
    if kind == "document" and draw(st.integers(0, 2)) == 0:  # what our MES simulator sends, maybe altered
        sent = b2mml.performance_for(
            bod_id=draw(st.sampled_from(["perf-1", "perf-2"])),
            created=draw(st.sampled_from(["2026-12-07T10:00:00Z", "2026-12-07T11:00:00Z"])),
            work_order=work_order,
            operation=draw(st.sampled_from([10, 20, "Step 1"])),
            good_quantity=draw(st.sampled_from(["1", "3", "0.5"])),
            finished=draw(st.booleans()),
        )
        root = ET.fromstring(sent)  # noqa: S314 - our own document
        for element in draw(st.lists(st.sampled_from(list(root.iter())), max_size=2)):
            element.text = draw(xml_text)
    else:
        root = draw(b2mml_documents(work_order))
    encoding = draw(
        st.sampled_from(["utf-8", "ISO-8859-1", "windows-1252", "UTF-16", "us-ascii"]), label="encoding"
    )
    body = ET.tostring(root, encoding=encoding, xml_declaration=True)
    if encoding == "utf-8" and draw(st.booleans()):
        body = b"\xef\xbb\xbf" + body.replace(b"><", b">\r\n<")  # a BOM and CRLFs, as Windows MES write
    if kind == "damaged":
        cut = draw(st.integers(0, len(body)))
        body = body[:cut] + draw(st.binary(max_size=3)) + body[cut + 1 :]
    return body


@examples(100)
@given(data=st.data())
def test_any_b2mml_the_mes_signs_gets_an_answer_and_is_processed_without_a_crash(
    client, mes_system, work_order, data
):
    body = data.draw(xml_bodies(work_order.number), label="body")
    content_type = data.draw(
        st.sampled_from(["application/xml", "text/xml; charset=utf-8"]), label="content type"
    )

    sent_and_processed(client, MES_HOOK, body, f"msg_{uuid.uuid4().hex}", content_type)
