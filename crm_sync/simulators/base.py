"""A small real HTTP receiver that behaves like a CRM's or an MES's webhook endpoint.

Runs without Django (standard library + crm_sync's pure modules), so `make run` and the tests start it
as a separate process. It verifies Standard Webhooks signatures, deduplicates by webhook-id (a
duplicate gets 200 and no second effect), records what it applied, notes out-of-order arrivals, and
can be told to misbehave:

    POST /_control {"fail_next": 3, "fail_status": 500, "fail_subjects": ["SO-…"], "latency_ms": 50,
                    "delay_next_ms": 2000, "reset": true}
    GET  /received  → {"received": [...], "duplicates": n, "rejected": n, "failed": n, "out_of_order": [...]}
    GET  /health
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
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

    def reset(self) -> None:
        self.received.clear()
        self.seen.clear()
        self.last_sequence.clear()
        self.out_of_order.clear()
        self.duplicates = self.rejected = self.failed = self.fail_next = self.latency_ms = 0
        self.delay_next_ms = 0
        self.fail_status = 500
        self.fail_subjects.clear()

    def snapshot(self) -> dict:
        return {
            "name": self.name,
            "received": list(self.received),
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "failed": self.failed,
            "out_of_order": list(self.out_of_order),
        }


def make_handler(state: State, parse: Parser) -> type[BaseHTTPRequestHandler]:
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
            else:
                self._reply(404, {"error": "not found"})

        def do_POST(self) -> None:
            body = self._body()
            if self.path == "/_control":
                self._control(body)
            elif self.path == "/events":
                self._event(body)
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
                if "fail_subjects" in command:
                    state.fail_subjects = set(command["fail_subjects"])
                if "secret" in command:
                    state.secret = command["secret"]
            self._reply(200, {"ok": True})

        def _event(self, body: bytes) -> None:
            headers = {key.lower(): value for key, value in self.headers.items()}
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
            with state.lock:
                if msg_id and msg_id in state.seen:
                    state.duplicates += 1
                    status, payload = 200, {"status": "duplicate", "id": msg_id}
                elif state.fail_next > 0 or parsed.subject in state.fail_subjects:
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
                    status, payload = 200, {"status": "accepted", "id": msg_id}
                # Applied, then slow to answer: what a timed-out sender must retry and we must dedupe.
                delay = state.latency_ms + state.delay_next_ms
                state.delay_next_ms = 0
            if delay:
                time.sleep(delay / 1000)
            self._reply(status, payload)

    return Handler


def make_server(
    *, state: State, parse: Parser, host: str = "127.0.0.1", port: int = 0
) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), make_handler(state, parse))
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


def serve(*, state: State, parse: Parser, host: str, port: int) -> None:
    server = make_server(state=state, parse=parse, host=host, port=port)
    # The first line tells a parent process (tests, make run) where we listen.
    print(f"{state.name} simulator listening on http://{host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sys.stdout.flush()
