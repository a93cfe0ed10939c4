"""The deliveries' HTTP POST (crm_sync/outbox/http_post.py) against a real HTTP/1.1 server on a socket."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crm_sync.outbox import http_post


class Receiver(ThreadingHTTPServer):
    """Answers every POST 200 with what it read, keeps connections alive, counts the connections opened."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = 0
        self.bodies: list[bytes] = []
        self.close_after_answer = False
        # Requests on a kept-alive connection after its first one are read and dropped without an answer: a
        # receiver whose idle close met our next request (the race a look before reuse cannot rule out).
        self.drop_reused = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/events"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Receiver

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        self.answered = getattr(self, "answered", 0) + 1
        if self.server.drop_reused and self.answered > 1:
            self.close_connection = True
            return
        self.server.bodies.append(body)
        answer = "gespeichert ✓".encode()
        self.send_response(200)
        self.send_header("content-type", "text/plain; charset=utf-8")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
        if self.server.close_after_answer:
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def send(url: str, body: bytes = b"<x/>") -> http_post.Answer:
    return http_post.post(
        url, body=body, headers={"content-type": "application/xml"}, connect_timeout=2, read_timeout=5
    )


def test_posts_to_one_receiver_share_one_kept_alive_connection(receiver):
    first, second = send(receiver.url, b"<one/>"), send(receiver.url, b"<two/>")

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.text == "gespeichert ✓"
    assert receiver.bodies == [b"<one/>", b"<two/>"]
    assert receiver.connections == 1


def test_a_connection_the_receiver_closed_is_replaced_and_the_post_goes_through(receiver):
    receiver.close_after_answer = True
    send(receiver.url)

    answer = send(receiver.url)

    assert answer.status_code == 200
    assert receiver.connections == 2


def test_a_reused_connection_closed_under_the_request_is_retried_once_on_a_new_one(receiver):
    receiver.drop_reused = True
    send(receiver.url, b"<one/>")

    answer = send(receiver.url, b"<two/>")

    assert answer.status_code == 200
    assert receiver.bodies == [b"<one/>", b"<two/>"]
    assert receiver.connections == 2


def test_a_receiver_that_does_not_listen_is_a_connect_error():
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]

    with pytest.raises(http_post.PostError) as raised:
        send(f"http://127.0.0.1:{port}/events")

    assert raised.value.kind == "ConnectError"
    assert str(raised.value).startswith("ConnectError: ")


def test_a_receiver_that_does_not_answer_in_time_is_a_read_timeout():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts the connection (the backlog), never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/events"

        with pytest.raises(http_post.PostError) as raised:
            http_post.post(url, body=b"<x/>", headers={}, connect_timeout=2, read_timeout=0.2)

    assert raised.value.kind == "ReadTimeout"


def test_a_url_that_is_not_http_is_refused_without_a_connection():
    with pytest.raises(http_post.PostError) as raised:
        send("ftp://mes.example/events")

    assert raised.value.kind == "UnsupportedProtocol"
