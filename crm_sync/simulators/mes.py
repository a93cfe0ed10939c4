"""The MES simulator: takes work (B2MML OperationsSchedule XML, or CloudEvents JSON) from OrderBridge.

    python -m crm_sync.simulators.mes --port 8102 [--secret whsec_…] [--schema-dir ../shared/standards/b2mml]

With --schema-dir it refuses (400) any B2MML document that does not validate against MESA's V0701
schemas, as a strict MES would. With --callback-url (or {"callback_url": …} on /_control) it answers
like a real MES: it acknowledges each message (B2MML AcknowledgeOperationsSchedule with our BODID, or JSON
operations.acknowledged) with its own ids of the work orders and operations, then reports progress per
operation of each new work order, over accelerated time (--step-ms between reports), making what it holds
then (a cut quantity, nothing while held or once cancelled), and now and then (--exception-rate) raises a
production exception first. What it holds per work order (mes_state.py) is its read API, GET /orders.
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
from crm_sync.simulators import mes_state
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
    """What the MES does after it took a message: acknowledge it with its own ids, then (for new work)
    report the work done."""

    def on_accept(state: State, msg_id: str, parsed: Parsed) -> None:
        url = state.callback_url
        if not url:
            return
        outbox = state.outbox
        applied: mes_state.Applied = parsed.applied or mes_state.Applied(acknowledged=[], new=[])
        acknowledged = applied["acknowledged"]
        if isinstance(parsed.body, dict) and "requests" in parsed.body:  # B2MML
            body = b2mml.acknowledgement_for(
                bod_ids=[parsed.body["bod_id"] or msg_id],
                created=_now(),
                bod_id=outbox.next_id("ack"),
                order_number=parsed.subject,
                work_orders=acknowledged,
            )
            outbox.send(url=url, body=body, content_type="application/xml", msg_id=outbox.next_id("mes"))
        else:
            document = {
                "type": "operations.acknowledged",
                "subject": parsed.subject,
                "data": {"event_id": parsed.body.get("id") or msg_id, "work_orders": acknowledged},
            }
            body = json.dumps(document).encode()
            outbox.send(url=url, body=body, content_type="application/json", msg_id=outbox.next_id("mes"))
        if applied["new"]:
            arguments = (state, url, parsed, applied["new"], step_ms, exception_rate)
            threading.Thread(target=_report, args=arguments, daemon=True).start()

    return on_accept


# How long a held work order's reporting waits for a resume (in steps) before it gives up.
HELD_PATIENCE_STEPS = 600


def _make(state: State, subject: str, work_order: str, operation: int, step_ms: int) -> str | None:
    """Wait one step, then make the operation as the MES now holds it (its current quantity); None when
    the work order is cancelled or closed, or held for longer than the simulator waits."""
    for _attempt in range(HELD_PATIENCE_STEPS):
        time.sleep(step_ms / 1000)
        with state.lock:
            view = state.view.get(subject) or {}
            held = (view.get("work_orders") or {}).get(work_order)
            if not isinstance(held, dict) or held["status"] != "Held":
                return mes_state.report_operation(view, work_order=work_order, operation=operation)
    return None


def _report(
    state: State, url: str, parsed: Parsed, new: list[str], step_ms: int, exception_rate: float
) -> None:
    """Make the work orders new to the MES, operation by operation, and report each (progress as JSON)."""
    outbox = state.outbox
    sequence = 0
    instructions = parsed.body.get("instructions") or []
    for instruction in instructions:
        if instruction["number"] not in new or instruction["change"].get("rework_of"):
            continue  # known already, or a rework (the MES's own work order: nothing of ours to report)
        for operation in instruction["operations"]:
            work_order = instruction["number"]
            good = _make(state, parsed.subject, work_order, operation, step_ms)
            if good is None:
                break  # the line does not make what was held, cancelled or closed
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
                    "operation": operation,
                    "good_quantity": good,
                    "finished": True,
                    "reported_at": _now(),
                },
            }
            body = json.dumps(progress).encode()
            outbox.send(url=url, body=body, content_type="application/json", msg_id=outbox.next_id("mes"))


def _applier(number: str, revision: Any, instructions: list[mes_state.Instruction]) -> Any:
    def apply(view: dict) -> mes_state.Applied:
        return mes_state.apply(view, number=number, revision=revision, instructions=instructions)

    return apply


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
            instructions = mes_state.from_schedule(schedule)
            schedule["instructions"] = instructions
            number = schedule["order_number"] or ""
            return Parsed(
                subject=number,
                type=f"{schedule['verb']}OperationsSchedule",
                sequence=sequence if isinstance(sequence, int) else None,
                body=schedule,
                summary={"number": number, "state": schedule["state"]},
                apply=_applier(number, schedule["version"], instructions),
            )
        document = json.loads(body)
        if not isinstance(document, dict) or not document.get("subject"):
            raise BadMessage("a CloudEvent with a subject is expected")
        sequence = document.get("sequence")
        raw_data = document.get("data")
        data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
        summary = {key: data[key] for key in ("number", "status") if key in data}
        instructions = mes_state.from_event(document)
        document["instructions"] = instructions
        return Parsed(
            subject=document["subject"],
            type=document.get("type", ""),
            sequence=sequence if isinstance(sequence, int) else None,
            body=document,
            summary=summary,
            apply=_applier(document["subject"], data.get("revision"), instructions),
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
