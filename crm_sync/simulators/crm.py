"""The CRM simulator: takes our order events as JSON, in CloudEvents or in its own mapped shape.

    python -m crm_sync.simulators.crm --port 8101 [--secret whsec_…] [--subject-path orderRef]

It also plays the CRM's own side: POST /_push {"url": ".../hooks/crm/", "messages": [...], "rate": 50}
sends orders created/updated/cancelled in the CRM to OrderBridge, signed, at a fixed rate (see
State's duplicate_rate and reorder_rate knobs).

The path options tell it where its own payload shape keeps the order number, event type and sequence
(dotted paths), so a CRM connected through a field mapping is simulated without code either.
"""

from __future__ import annotations

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
            summary={key: data[key] for key in ("number", "crm_id", "status", "revision") if key in data},
        )

    return parse


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
    )


if __name__ == "__main__":
    main()
