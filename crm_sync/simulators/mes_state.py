"""What the MES simulator holds per work order, and how each message we send changes it.

Every message (B2MML or JSON) is first read into one plain shape (`Instruction`: the work orders it names,
each with its ISA-95 request state, quantity, operations and the change it carries), then applied to the
order's view under the simulator's lock. The view is the simulator's read API (`GET /orders`):

    {"revision": 3, "work_orders": {"SO-…-01": {"mes_id": "MES-WO-7", "quantity": "50", "status": "Running",
     "operations": {"10": {"mes_id": "MES-OP-31", "status": "Completed", "good_quantity": "50"}},
     "rework_of": null, "dispositions": [{"decision": "scrap", "quantity": "200"}]}}}

The MES gives each work order and operation its own id the first time it sees them, and returns them in its
acknowledgement (`acknowledged`), as a real MES does.
"""

from __future__ import annotations

import contextlib
import itertools
from typing import Any, TypedDict

from crm_sync.b2mml import work_order_state

# A work order the MES keeps making (or may make again after a hold).
ACTIVE = ("Released", "Running")
FINAL = ("Cancelled", "Completed", "Closed")


class Instruction(TypedDict):
    number: str
    state: str
    quantity: str | None
    operations: list[int]
    change: dict[str, Any]


class AcknowledgedOperation(TypedDict):
    sequence: int
    mes_id: str


class Acknowledged(TypedDict):
    number: str
    mes_id: str
    operations: list[AcknowledgedOperation]


class Applied(TypedDict):
    acknowledged: list[Acknowledged]
    # Work orders the MES saw for the first time: it starts making them.
    new: list[str]


_ids = itertools.count(1)


def _next_id(prefix: str) -> str:
    return f"MES-{prefix}-{next(_ids)}"


# --- reading our messages into instructions ---------------------------------------------------------------
def from_schedule(schedule: dict) -> list[Instruction]:
    """The work orders of a B2MML OperationsSchedule (as `schedule_read` gives it); order-line requests
    (events without work orders) name no work order and are left out."""
    instructions: list[Instruction] = []
    for request in schedule["requests"]:
        segments = request["segments"]
        parameters = segments[0]["parameters"] if segments else {}
        if not parameters.get("work_order"):
            continue
        quantity = parameters.get("quantity")
        instructions.append(
            {
                "number": str(request["id"]),
                "state": request["state"] or "Released",
                "quantity": None if quantity is None else str(quantity),
                "operations": [
                    int(s["parameters"]["operation"]) for s in segments if "operation" in s["parameters"]
                ],
                "change": {
                    key.removeprefix("change."): value
                    for key, value in parameters.items()
                    if key.startswith("change.")
                },
            }
        )
    return instructions


def from_event(document: dict) -> list[Instruction]:
    """The work orders of a CloudEvent (JSON): data.work_orders, each in its state and with its change."""
    data = document.get("data") if isinstance(document.get("data"), dict) else {}
    assert isinstance(data, dict)
    instructions: list[Instruction] = []
    for work_order in data.get("work_orders") or []:
        if not isinstance(work_order, dict) or not work_order.get("number"):
            continue
        quantity = work_order.get("quantity")
        instructions.append(
            {
                "number": str(work_order["number"]),
                "state": work_order_state(str(data.get("status") or ""), str(work_order.get("status") or "")),
                "quantity": None if quantity is None else str(quantity),
                "operations": [int(op["sequence"]) for op in work_order.get("operations") or []],
                "change": dict(work_order.get("change") or {}),
            }
        )
    return instructions


# --- applying them ---------------------------------------------------------------------------------------
def _new_work_order(instruction: Instruction) -> dict:
    change = instruction["change"]
    return {
        "mes_id": _next_id("WO"),
        "quantity": instruction["quantity"] or "0",
        "status": "Released",
        "operations": {},
        "rework_of": change.get("rework_of") or None,
        "dispositions": [],
    }


def _resumed(held: dict) -> str:
    """Back from a hold: Running if any of its operations has begun, else Released."""
    started = any(op["status"] != "Released" for op in held["operations"].values())
    return "Running" if started else "Released"


def _status(held: dict, state: str) -> str:
    """The work order's MES status after a message asks for `state`.

    Held, Cancelled and Completed are instructions; an active state leaves the MES's own progress
    (Released/Running) as it is, resumes a held work order, and never revives a closed one.
    """
    current = held["status"]
    if current in FINAL:
        return current
    if state in ("Held", "Cancelled", "Completed", "Closed"):
        return state
    if current == "Held":
        return _resumed(held)
    return current


def apply(view: dict, *, number: str, revision: Any, instructions: list[Instruction]) -> Applied:
    """Apply one message's instructions to the order's view (in place): what the acknowledgement returns,
    and the work orders new to the MES."""
    view.setdefault("number", number)
    if revision is not None:
        with contextlib.suppress(TypeError, ValueError):
            view["revision"] = int(revision)
    held_work_orders = view.get("work_orders")
    if not isinstance(held_work_orders, dict):  # an older view kept a list of numbers
        held_work_orders = view["work_orders"] = {}
    acknowledged: list[Acknowledged] = []
    new: list[str] = []
    for instruction in instructions:
        held = held_work_orders.get(instruction["number"])
        if held is None:
            held = held_work_orders[instruction["number"]] = _new_work_order(instruction)
            new.append(instruction["number"])
        if instruction["quantity"] is not None:
            held["quantity"] = instruction["quantity"]
        held["status"] = _status(held, instruction["state"])
        for sequence in instruction["operations"]:
            held["operations"].setdefault(
                str(sequence), {"mes_id": _next_id("OP"), "status": "Released", "good_quantity": "0"}
            )
        change = instruction["change"]
        if change.get("disposition"):
            held["dispositions"].append(
                {"decision": change["disposition"], "quantity": str(change.get("disposition_quantity") or "")}
            )
        acknowledged.append(
            {
                "number": instruction["number"],
                "mes_id": held["mes_id"],
                "operations": [
                    {"sequence": int(sequence), "mes_id": op["mes_id"]}
                    for sequence, op in sorted(held["operations"].items(), key=lambda item: int(item[0]))
                ],
            }
        )
    return {"acknowledged": acknowledged, "new": new}


def report_operation(view: dict, *, work_order: str, operation: int) -> str | None:
    """The MES makes one operation of a work order: the good quantity it reports, or None when the work
    order is not active (held, cancelled, closed: the line does not make it)."""
    held = (view.get("work_orders") or {}).get(work_order)
    if not isinstance(held, dict) or held["status"] not in ACTIVE:
        return None
    op = held["operations"].setdefault(
        str(operation), {"mes_id": _next_id("OP"), "status": "Released", "good_quantity": "0"}
    )
    op["status"], op["good_quantity"] = "Completed", held["quantity"]
    done = all(o["status"] == "Completed" for o in held["operations"].values())
    held["status"] = "Completed" if done else "Running"
    return str(held["quantity"])
