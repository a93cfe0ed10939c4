"""The MES simulator: takes work (B2MML OperationsSchedule XML, or CloudEvents JSON) from OrderBridge.

    python -m crm_sync.simulators.mes --port 8102 [--secret whsec_…] [--schema-dir ../shared/standards/b2mml]

With --schema-dir it refuses (400) any B2MML document that does not validate against MESA's V0701
schemas, as a strict MES would. With --callback-url (or {"callback_url": …} on /_control) it answers
like a real MES: it acknowledges each schedule (B2MML AcknowledgeOperationsSchedule with our BODID), then
reports progress per operation of each work order, over accelerated time (--step-ms between reports),
and now and then (--exception-rate) raises a production exception first.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from crm_sync import b2mml
from crm_sync.simulators.base import (
    BadMessage,
    OnAccept,
    Outbound,
    Parsed,
    Parser,
    State,
    argument_parser,
    serve,
)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def answer(*, step_ms: int, exception_rate: float) -> OnAccept:
    """What the MES does after it took a schedule: acknowledge it, then report the work done."""

    def on_accept(state: State, msg_id: str, parsed: Parsed) -> None:
        url = state.callback_url
        if not url or not isinstance(parsed.body, dict) or "requests" not in parsed.body:
            return
        outbox = state.outbox
        ack = b2mml.acknowledgement_for(
            bod_ids=[parsed.body["bod_id"] or msg_id], created=_now(), bod_id=outbox.next_id("ack")
        )
        outbox.send(url=url, body=ack, content_type="application/xml", msg_id=outbox.next_id("mes"))
        if parsed.body["verb"] not in ("Process", "Sync"):
            return
        arguments = (state, url, parsed, step_ms, exception_rate)
        threading.Thread(target=_report, args=arguments, daemon=True).start()

    return on_accept


def _report(state: State, url: str, parsed: Parsed, step_ms: int, exception_rate: float) -> None:
    outbox = state.outbox
    sequence = 0
    for request in parsed.body["requests"]:
        for segment in request["segments"]:
            parameters = segment["parameters"]
            work_order = parameters.get("work_order")
            if not work_order:
                continue
            time.sleep(step_ms / 1000)
            sequence += 1
            if exception_rate and random.random() < exception_rate:  # noqa: S311
                exception = {
                    "type": "operations.exception",
                    "subject": parsed.subject,
                    "data": {
                        "work_order": work_order,
                        "kind": "machine_breakdown",
                        "severity": "medium",
                        "description": "simulated breakdown",
                        "expected_delay_minutes": 30,
                    },
                }
                body = json.dumps(exception).encode()
                outbox.send(url=url, body=body, content_type="application/json", msg_id=outbox.next_id("mes"))
            progress = {
                "type": "operations.progress",
                "subject": parsed.subject,
                "sequence": int(time.time() * 1000) * 100 + sequence,
                "data": {
                    "work_order": work_order,
                    "operation": parameters.get("operation"),
                    "good_quantity": str(parameters.get("quantity")),
                    "finished": True,
                    "reported_at": _now(),
                },
            }
            body = json.dumps(progress).encode()
            outbox.send(url=url, body=body, content_type="application/json", msg_id=outbox.next_id("mes"))


def mes_parser(*, schema_dir: Path | None) -> Parser:
    def parse(body: bytes, headers: Mapping[str, str]) -> Parsed:
        content_type = headers.get("content-type", "")
        if "xml" in content_type:
            if schema_dir is not None:
                errors = b2mml.validation_errors(body, schema_dir=schema_dir)
                if errors:
                    raise BadMessage("; ".join(errors[:3]))
            schedule = b2mml.schedule_read(body)
            segments = [s for r in schedule["requests"] for s in r["segments"]]
            sequence = segments[0]["parameters"].get("sequence") if segments else None
            return Parsed(
                subject=schedule["order_number"] or "",
                type=f"{schedule['verb']}OperationsSchedule",
                sequence=sequence if isinstance(sequence, int) else None,
                body=schedule,
                summary={
                    "number": schedule["order_number"],
                    "revision": schedule["version"],
                    "state": schedule["state"],
                    "work_orders": [request["id"] for request in schedule["requests"]],
                },
            )
        document = json.loads(body)
        if not isinstance(document, dict) or not document.get("subject"):
            raise BadMessage("a CloudEvent with a subject is expected")
        sequence = document.get("sequence")
        raw_data = document.get("data")
        data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
        summary = {key: data[key] for key in ("number", "revision", "status") if key in data}
        if isinstance(data.get("work_orders"), list):
            summary["work_orders"] = [item.get("number") for item in data["work_orders"]]
        return Parsed(
            subject=document["subject"],
            type=document.get("type", ""),
            sequence=sequence if isinstance(sequence, int) else None,
            body=document,
            summary=summary,
        )

    return parse


def main(argv: list[str] | None = None) -> None:
    parser = argument_parser("MES", 8102, "ORDERBRIDGE_MES_SIM_SECRET")
    parser.add_argument("--schema-dir", type=Path, default=None, help="validate B2MML against these XSDs")
    parser.add_argument("--callback-url", default="", help="OrderBridge's /hooks/mes/ (acknowledge, report)")
    parser.add_argument("--step-ms", type=int, default=2000, help="accelerated time between progress reports")
    parser.add_argument(
        "--exception-rate", type=float, default=0.1, help="share of operations with a breakdown"
    )
    args = parser.parse_args(argv)
    if args.schema_dir is not None:
        b2mml.load_schema(str(b2mml.schema_path(args.schema_dir)))  # fail at start, not on first order
    state = State(name="MES", secret=args.secret, token=args.token, callback_url=args.callback_url)
    state.outbox = Outbound(state)
    serve(
        state=state,
        parse=mes_parser(schema_dir=args.schema_dir),
        host=args.host,
        port=args.port,
        on_accept=answer(step_ms=args.step_ms, exception_rate=args.exception_rate),
    )


if __name__ == "__main__":
    main()
