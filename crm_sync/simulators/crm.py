"""The CRM simulator: takes our order events as JSON, in CloudEvents or in its own mapped shape.

    python -m crm_sync.simulators.crm --port 8101 [--secret whsec_…] [--subject-path orderRef]

It also plays the CRM's own side: POST /_push {"url": ".../hooks/crm/", "messages": [...], "rate": 50}
sends orders created/updated/cancelled in the CRM to OrderBridge, signed, at a fixed rate (see
State's duplicate_rate and reorder_rate knobs).

The path options tell it where its own payload shape keeps the order number, event type and sequence
(dotted paths), so a CRM connected through a field mapping is simulated without code either.

Progress (order.progress events, coalesced by OrderBridge) is held per order as "progress" in its read API
(GET /orders, GET /orders/<number>), the newest by sequence, and listed on its page GET /.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

from crm_sync.mapping import get_path
from crm_sync.simulators.base import BadMessage, Outbound, Parsed, Parser, State, argument_parser, serve


def json_parser(*, subject_path: str, type_path: str, sequence_path: str) -> Parser:
    def parse(body: bytes, headers: Mapping[str, str]) -> Parsed:
        document = json.loads(body)
        if not isinstance(document, dict):
            raise BadMessage("a JSON object is expected")
        subject = get_path(document, subject_path)
        if not isinstance(subject, str) or not subject:
            raise BadMessage(f"{subject_path} is missing")
        sequence = get_path(document, sequence_path)
        event_type = get_path(document, type_path)
        raw_data = document.get("data")
        data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
        return Parsed(
            subject=subject,
            type=event_type if isinstance(event_type, str) else "",
            sequence=sequence if isinstance(sequence, int) else None,
            body=document,
            # What the CRM shows for the order afterwards (its read API, for reconciliation).
            summary={
                **{key: data[key] for key in ("number", "crm_id", "status", "revision") if key in data},
                **({"progress": progress_summary(data, sequence)} if "percent_complete" in data else {}),
            },
        )

    return parse


PROGRESS_KEYS = (
    "as_of",
    "percent_complete",
    "projected_completion",
    "projected_date",
    "promised_date",
    "on_time",
    "late_days",
    "previous_projected_completion",
    "projection_shifted",
)
OPERATION_KEYS = (
    "sequence",
    "name",
    "work_center",
    "status",
    "planned_quantity",
    "good_quantity",
    "scrap_quantity",
    "rework_quantity",
)


def progress_summary(data: dict[str, Any], sequence: object) -> dict[str, Any]:
    """What the CRM shows of an order's progress: percent, projection against the promise, quantities per
    work order and operation; `sequence` keeps the newest (base.merge_summary)."""
    listed = data.get("work_orders")
    work_orders = listed if isinstance(listed, list) else []
    return {
        "sequence": sequence if isinstance(sequence, int) else None,
        **{key: data.get(key) for key in PROGRESS_KEYS},
        "work_orders": [
            {
                "number": wo.get("number"),
                "status": wo.get("status"),
                "quantity": wo.get("quantity"),
                "percent_complete": wo.get("percent_complete"),
                "operations": [
                    {key: op.get(key) for key in OPERATION_KEYS} for op in wo.get("operations") or []
                ],
            }
            for wo in work_orders
            if isinstance(wo, dict)
        ],
    }


def orders_page(state: State) -> tuple[str, bytes]:
    """GET /: the CRM's orders with their newest progress, as a salesperson would see them."""
    rows = []
    for subject, held in sorted(state.view.items()):
        progress = held.get("progress") or {}
        operations = "; ".join(
            f"{wo.get('number')}/{op.get('sequence')} {op.get('name')}: {op.get('good_quantity')} good, "
            f"{op.get('scrap_quantity')} scrap of {op.get('planned_quantity')}"
            for wo in progress.get("work_orders") or []
            for op in wo.get("operations") or []
        )
        on_time = progress.get("on_time")
        cells = [
            subject,
            held.get("status") or "",
            f"{progress['percent_complete']}%" if progress.get("percent_complete") else "",
            progress.get("projected_date") or "",
            progress.get("promised_date") or "",
            "" if on_time is None else ("on time" if on_time else f"late {progress.get('late_days')} d"),
            progress.get("as_of") or "",
            operations,
        ]
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in cells) + "</tr>")
    heads = ("order", "status", "progress", "projected", "promised", "on time", "as of", "operations")
    body = (
        "<!doctype html><html><head><meta charset='utf-8'><title>CRM simulator</title></head><body>"
        "<h1>CRM simulator: orders</h1><table border='1' cellpadding='4'><thead><tr>"
        + "".join(f"<th>{head}</th>" for head in heads)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table><p>JSON: <a href='/orders'>/orders</a></p></body></html>"
    )
    return "text/html; charset=utf-8", body.encode()


def main(argv: list[str] | None = None) -> None:
    parser = argument_parser("CRM", 8101, "ORDERBRIDGE_CRM_SIM_SECRET")
    parser.add_argument("--subject-path", default="subject")
    parser.add_argument("--type-path", default="type")
    parser.add_argument("--sequence-path", default="sequence")
    args = parser.parse_args(argv)
    state = State(name="CRM", secret=args.secret, token=args.token)
    state.outbox = Outbound(state)
    serve(
        state=state,
        parse=json_parser(
            subject_path=args.subject_path, type_path=args.type_path, sequence_path=args.sequence_path
        ),
        host=args.host,
        port=args.port,
        pages={"/": orders_page},
    )


if __name__ == "__main__":
    main()
