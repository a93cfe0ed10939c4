"""A small real HTTP receiver that behaves like a CRM's or an MES's webhook endpoint.

Runs without Django (standard library + crm_sync's pure modules), so `make run` and the tests start it
as a separate process. It verifies Standard Webhooks signatures, deduplicates by webhook-id (a
duplicate gets 200 and no second effect), records what it applied, notes out-of-order arrivals, and
can be told to misbehave:

    POST /_control {"fail_next": 3, "fail_status": 500, "fail_subjects": ["SO-…"], "latency_ms": 50,
                    "delay_next_ms": 2000, "down_for_ms": 3000, "error_rate": 0.1,
                    "duplicate_rate": 0.2, "reorder_rate": 0.2, "callback_url": "http://…/hooks/mes/",
                    "reset": true}
    GET  /received  → {"received": [...], "duplicates": n, "rejected": n, "failed": n, "out_of_order": [...]}
    GET  /orders    → {"orders": {subject: {...what this system holds...}}}   (its read API)
    GET  /health
    GET  <page>     → a simulator's own pages (the CRM's: / lists its orders with their progress)

Knobs: latency (every answer), error rate (random 500s), down windows (503 until a time), and for
the messages a simulator sends back (the CRM's orders, the MES's acknowledgements and progress),
duplicate and out-of-order delivery.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from crm_sync import webhooks

# The demo's shared secrets (make run): public on purpose, overridden by the environment anywhere real.
DEMO_SECRETS = {
    "ORDERBRIDGE_CRM_SIM_SECRET": "whsec_b3JkZXJicmlkZ2UtZGVtby1jcm0tc2VjcmV0",
    "ORDERBRIDGE_MES_SIM_SECRET": "whsec_b3JkZXJicmlkZ2UtZGVtby1tZXMtc2VjcmV0",
}


def demo_secret(env_name: str) -> str:
    return os.environ.get(env_name, DEMO_SECRETS[env_name])


class BadMessage(ValueError):
    pass


@dataclass
class Parsed:
    subject: str
    type: str
    sequence: int | None
    body: Any
    # What the receiving system now holds for the subject (merged into its read API's view).
    summary: dict | None = None
    # Or: how the message changes the subject's view (in place, under the state's lock; the MES's work
    # orders); what it returns is kept in `applied` for the answer (the MES's acknowledgement).
    apply: Callable[[dict], Any] | None = None
    applied: Any = None


Parser = Callable[[bytes, Mapping[str, str]], Parsed]


@dataclass
class State:
    name: str
    secret: str = ""
    token: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    received: list[dict] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    last_sequence: dict[str, int] = field(default_factory=dict)
    out_of_order: list[dict] = field(default_factory=list)
    duplicates: int = 0
    rejected: int = 0
    failed: int = 0
    fail_next: int = 0
    fail_status: int = 500
    fail_subjects: set[str] = field(default_factory=set)
    latency_ms: int = 0
    delay_next_ms: int = 0
    down_until: float = 0.0
    error_rate: float = 0.0
    duplicate_rate: float = 0.0
    reorder_rate: float = 0.0
    callback_url: str = ""
    # What this system holds per subject (its read API for reconciliation), and what it sent.
    view: dict[str, dict] = field(default_factory=dict)
    sent: list[dict] = field(default_factory=list)
    outbox: Any = None  # an Outbound sender, set by simulators that send messages back

    def reset(self) -> None:
        self.received.clear()
        self.seen.clear()
        self.last_sequence.clear()
        self.out_of_order.clear()
        self.duplicates = self.rejected = self.failed = self.fail_next = self.latency_ms = 0
        self.delay_next_ms = 0
        self.fail_status = 500
        self.fail_subjects.clear()
        self.down_until = 0.0
        self.error_rate = self.duplicate_rate = self.reorder_rate = 0.0
        self.callback_url = ""
        self.view.clear()
        self.sent.clear()

    def snapshot(self) -> dict:
        return {
            "name": self.name,
            "received": list(self.received),
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "failed": self.failed,
            "out_of_order": list(self.out_of_order),
            "sent": list(self.sent),
        }


OnAccept = Callable[[State, str, Parsed], None]
# A page of a simulator's own: path → (content type, body) from the state (called under its lock).
Page = Callable[[State], tuple[str, bytes]]


def merge_summary(held: dict, summary: dict) -> dict:
    """What the system holds after a message's summary: a part that carries a "sequence" (the CRM's
    progress) is replaced only by a newer one, so the newest state stays whatever arrives late."""
    merged = dict(held)
    for key, value in summary.items():
        older = held.get(key)
        if isinstance(value, dict) and isinstance(older, dict):
            value = value if (value.get("sequence") or 0) >= (older.get("sequence") or 0) else older
        merged[key] = value
    return merged


def make_handler(
    state: State, parse: Parser, on_accept: OnAccept | None = None, pages: Mapping[str, Page] | None = None
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle on, keep-alive clients wait ~40 ms for each.
        disable_nagle_algorithm = True
        server_version = f"{state.name}-simulator"

        def log_message(self, format: str, *args: Any) -> None:
            if os.environ.get("SIMULATOR_VERBOSE"):
                super().log_message(format, *args)

        def _reply(self, status: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("content-length") or 0))

        def do_GET(self) -> None:
            if self.path == "/health":
                self._reply(200, {"ok": True, "name": state.name})
            elif self.path == "/received":
                with state.lock:
                    self._reply(200, state.snapshot())
            elif self.path == "/orders":
                with state.lock:
                    self._reply(200, {"orders": dict(state.view)})
            elif self.path.startswith("/orders/"):
                with state.lock:
                    held = state.view.get(self.path.removeprefix("/orders/"))
                self._reply(200, held) if held is not None else self._reply(404, {"error": "not found"})
            elif pages and self.path in pages:
                with state.lock:
                    content_type, body = pages[self.path](state)
                self.send_response(200)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self._reply(404, {"error": "not found"})

        def do_POST(self) -> None:
            body = self._body()
            if self.path == "/_control":
                self._control(body)
            elif self.path == "/events":
                self._event(body)
            elif self.path == "/_push" and state.outbox is not None:
                self._push(body)
            else:
                self._reply(404, {"error": "not found"})

        def _control(self, body: bytes) -> None:
            try:
                command = json.loads(body or b"{}")
            except ValueError:
                self._reply(400, {"error": "JSON expected"})
                return
            with state.lock:
                if command.get("reset"):
                    state.reset()
                for key in ("fail_next", "fail_status", "latency_ms", "delay_next_ms"):
                    if key in command:
                        setattr(state, key, int(command[key]))
                for key in ("error_rate", "duplicate_rate", "reorder_rate"):
                    if key in command:
                        setattr(state, key, float(command[key]))
                if "down_for_ms" in command:
                    state.down_until = time.time() + int(command["down_for_ms"]) / 1000
                if "callback_url" in command:
                    state.callback_url = str(command["callback_url"])
                if "fail_subjects" in command:
                    state.fail_subjects = set(command["fail_subjects"])
                if "secret" in command:
                    state.secret = command["secret"]
            self._reply(200, {"ok": True})

        def _push(self, body: bytes) -> None:
            """Send documents to OrderBridge at a fixed rate: {"url": …, "messages": [...], "rate": 50}."""
            try:
                command = json.loads(body or b"{}")
                url = command.get("url") or state.callback_url
                messages = list(command["messages"])
                rate = float(command.get("rate") or 0)
                concurrency = int(command.get("concurrency") or 1)
            except (ValueError, KeyError, TypeError):
                self._reply(400, {"error": "url, messages and rate expected"})
                return
            with state.lock:
                for message in messages:
                    data = message.get("data") if isinstance(message.get("data"), dict) else {}
                    key = str(data.get("crm_id") or message.get("subject") or "")
                    if key:  # the CRM holds the orders it entered itself, under its own id
                        state.view[key] = {"crm_id": key, "status": data.get("status"), "document": message}
            state.outbox.send_paced(
                url=url, messages=[dict(m) for m in messages], rate=rate, concurrency=concurrency
            )
            self._reply(202, {"queued": len(messages)})

        def _event(self, body: bytes) -> None:
            headers = {key.lower(): value for key, value in self.headers.items()}
            if time.time() < state.down_until:
                self._reply(503, {"error": "down for maintenance (simulated)"})
                return
            if state.token and headers.get("authorization") != f"Bearer {state.token}":
                with state.lock:
                    state.rejected += 1
                self._reply(401, {"error": "bad bearer token"})
                return
            if state.secret:
                try:
                    msg_id = webhooks.verify(secret=state.secret, headers=headers, body=body)
                except webhooks.WebhookVerificationError as exc:
                    with state.lock:
                        state.rejected += 1
                    self._reply(401, {"error": f"signature: {exc}"})
                    return
            else:
                msg_id = headers.get("webhook-id", "")
            try:
                parsed = parse(body, headers)
            except (BadMessage, ValueError, KeyError, IndexError) as exc:
                self._reply(400, {"error": f"bad message: {exc}"})
                return
            accepted = None
            with state.lock:
                if msg_id and msg_id in state.seen:
                    state.duplicates += 1
                    status, payload = 200, {"status": "duplicate", "id": msg_id}
                elif (
                    state.fail_next > 0
                    or parsed.subject in state.fail_subjects
                    or (state.error_rate and random.random() < state.error_rate)  # noqa: S311
                ):
                    state.fail_next = max(state.fail_next - 1, 0)
                    state.failed += 1
                    status, payload = state.fail_status, {"error": "simulated failure"}
                else:
                    state.seen.add(msg_id)
                    last = state.last_sequence.get(parsed.subject)
                    if parsed.sequence is not None:
                        if last is not None and parsed.sequence <= last:
                            state.out_of_order.append(
                                {"subject": parsed.subject, "sequence": parsed.sequence, "after": last}
                            )
                        state.last_sequence[parsed.subject] = max(parsed.sequence, last or 0)
                    state.received.append(
                        {
                            "id": msg_id,
                            "subject": parsed.subject,
                            "type": parsed.type,
                            "sequence": parsed.sequence,
                            "received_at": time.time(),
                            "body": parsed.body,
                        }
                    )
                    if parsed.summary is not None:
                        state.view[parsed.subject] = merge_summary(
                            state.view.get(parsed.subject, {}), parsed.summary
                        )
                    if parsed.apply is not None:
                        parsed.applied = parsed.apply(state.view.setdefault(parsed.subject, {}))
                    status, payload = 200, {"status": "accepted", "id": msg_id}
                    accepted = parsed
                # Applied, then slow to answer: what a timed-out sender must retry and we must dedupe.
                delay = state.latency_ms + state.delay_next_ms
                state.delay_next_ms = 0
            if delay:
                time.sleep(delay / 1000)
            self._reply(status, payload)
            if accepted is not None and on_accept is not None:
                on_accept(state, msg_id, accepted)

    return Handler


def make_server(
    *,
    state: State,
    parse: Parser,
    host: str = "127.0.0.1",
    port: int = 0,
    on_accept: OnAccept | None = None,
    pages: Mapping[str, Page] | None = None,
) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), make_handler(state, parse, on_accept, pages))
    server.daemon_threads = True
    return server


def argument_parser(name: str, default_port: int, secret_env: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=f"OrderBridge's {name} simulator (a real HTTP receiver).")
    parser.add_argument("--host", default=os.environ.get("SIMULATOR_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=default_port, help="0 picks a free port")
    parser.add_argument(
        "--secret",
        default=demo_secret(secret_env),
        help=f"whsec_… secret; default ${secret_env}, else the demo's; '' accepts unsigned",
    )
    parser.add_argument("--token", default="", help="required bearer token (empty: none)")
    return parser


def serve(
    *,
    state: State,
    parse: Parser,
    host: str,
    port: int,
    on_accept: OnAccept | None = None,
    pages: Mapping[str, Page] | None = None,
) -> None:
    server = make_server(state=state, parse=parse, host=host, port=port, on_accept=on_accept, pages=pages)
    # The first line tells a parent process (tests, make run) where we listen.
    print(f"{state.name} simulator listening on http://{host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sys.stdout.flush()


class Outbound:
    """The messages a simulator sends to OrderBridge: signed, in one background thread, retried on failure.

    Knobs on the state: duplicate_rate (a message sent twice with the same webhook-id) and reorder_rate
    (a message held back and sent after the next one), so the receiver's dedupe and sequence checks are
    exercised by a real sender.
    """

    def __init__(self, state: State) -> None:
        self.state = state
        self.queue: queue.Queue = queue.Queue()
        self.counter = 0
        threading.Thread(target=self._run, daemon=True).start()

    def next_id(self, prefix: str) -> str:
        with self.state.lock:
            self.counter += 1
            return f"{prefix}_{os.getpid()}_{self.counter}"

    def send(self, *, url: str, body: bytes, content_type: str, msg_id: str, at: float = 0.0) -> None:
        self.queue.put((at, url, body, content_type, msg_id))

    def send_paced(self, *, url: str, messages: list[dict], rate: float, concurrency: int = 1) -> None:
        """JSON messages at a fixed rate (per second; 0: as fast as possible).

        One sender keeps the order of the messages; several (a CRM with many users) overlap their
        requests, so the offered rate does not depend on how fast the receiver answers.
        """
        start = time.time()
        items: list[tuple[float, str, bytes, str, str]] = []
        for index, message in enumerate(messages):
            at = start + (index / rate if rate else 0)
            msg_id = message.pop("_id", None) or self.next_id("crm")
            items.append((at, url, json.dumps(message).encode(), "application/json", msg_id))
        if concurrency <= 1:
            for item in items:
                self.queue.put(item)
            return

        def dispatch() -> None:
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                for at, to, body, content_type, msg_id in items:
                    wait = at - time.time()
                    if wait > 0:
                        time.sleep(wait)
                    pool.submit(self._post, to, body, content_type, msg_id)

        threading.Thread(target=dispatch, daemon=True).start()

    def _run(self) -> None:
        held = None
        while True:
            item = self.queue.get()
            wait = item[0] - time.time()
            if wait > 0:
                time.sleep(wait)
            reorder = self.state.reorder_rate and random.random() < self.state.reorder_rate  # noqa: S311
            if held is None and reorder:
                held = item  # sent after the next one
                if self.queue.empty():
                    self._post(*held[1:])
                    held = None
                continue
            self._post(*item[1:])
            if self.state.duplicate_rate and random.random() < self.state.duplicate_rate:  # noqa: S311
                self._post(*item[1:])
            if held is not None:
                self._post(*held[1:])
                held = None

    def _post(self, url: str, body: bytes, content_type: str, msg_id: str) -> None:
        started = time.time()
        for attempt in range(20):  # a sender that gives up after a while, like a real one
            headers = {"content-type": content_type}
            if self.state.secret:
                headers.update(webhooks.signed_headers(secret=self.state.secret, msg_id=msg_id, body=body))
            else:
                headers["webhook-id"] = msg_id
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
            status = 0
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own URL
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError:
                status = 0
            with self.state.lock:
                record = {"id": msg_id, "status": status, "started": started, "at": time.time()}
                record["attempt"] = attempt
                self.state.sent.append(record)
            if 200 <= status < 300 or 400 <= status < 500:
                return
            time.sleep(min(0.2 * 2**attempt, 5))
