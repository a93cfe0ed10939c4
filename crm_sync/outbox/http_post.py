"""The deliveries' HTTP POST, on the standard library's http.client: one kept-alive connection per receiver
(scheme, host, port) in each thread of each process.

Why not httpx (which the rest of the project uses for its occasional requests): a delivery is one POST, no
redirect followed, no cookie, no auth flow, and httpx's layers around its transport (request and response
models, cookie jar, hooks, pool bookkeeping) cost about 0.7 ms of CPU per delivery in the sync worker,
twice what the whole request costs here. What it gave the delivery is kept: connect, write and read
timeouts; a connection reused while the receiver keeps it open (one it closed while idle is noticed before
use, as httpcore does); TLS with the system's certificate store; errors named as httpx names them
(ConnectError, ReadTimeout…), which is what the attempt log shows. No proxy from the environment: a
receiver is reached directly.
"""

from __future__ import annotations

import functools
import http.client
import os
import select
import ssl
import threading
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit


class PostError(Exception):
    """The request did not get an answer; `kind` names the failure as httpx does (ConnectError…)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind

    def __str__(self) -> str:
        return f"{self.kind}: {self.args[0]}"


@dataclass(frozen=True)
class Answer:
    status_code: int
    text: str


class _Target(NamedTuple):
    scheme: str
    host: str
    port: int
    path: str


@functools.lru_cache(maxsize=64)
def _target(url: str) -> _Target:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PostError("UnsupportedProtocol", f"cannot send to {url!r}: not an http(s) URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(parts.scheme, parts.hostname, port, path)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


class _Pool(threading.local):
    """This thread's connections (a forked worker starts with none: the parent's are not shared)."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.connections: dict[tuple[str, str, int], http.client.HTTPConnection] = {}


_pool = _Pool()


def _connections() -> dict[tuple[str, str, int], http.client.HTTPConnection]:
    if _pool.pid != os.getpid():
        _pool.pid, _pool.connections = os.getpid(), {}
    return _pool.connections


def _still_open(connection: http.client.HTTPConnection) -> bool:
    """An idle kept-alive connection is usable if nothing is waiting to be read on it: readable while idle
    means the receiver closed it (or broke the protocol)."""
    sock = connection.sock
    if sock is None:
        return False
    readable, _, _ = select.select([sock], [], [], 0)
    return not readable


def _connect(target: _Target, *, connect_timeout: float) -> http.client.HTTPConnection:
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(
            target.host, target.port, timeout=connect_timeout, context=_tls_context()
        )
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=connect_timeout)
    try:
        connection.connect()
    except TimeoutError as exc:
        connection.close()
        raise PostError("ConnectTimeout", str(exc) or "timed out") from exc
    except OSError as exc:  # refused, unreachable, name not resolved, TLS handshake failed
        connection.close()
        raise PostError("ConnectError", str(exc)) from exc
    return connection


def post(
    url: str, *, body: bytes, headers: dict[str, str], connect_timeout: float, read_timeout: float
) -> Answer:
    """POST `body` to `url`; the receiver's answer, whatever its status. Raises PostError when there is none
    (the connection is dropped then: the next request opens a new one)."""
    target = _target(url)
    key = (target.scheme, target.host, target.port)
    connections = _connections()
    connection = connections.pop(key, None)
    if connection is not None and not _still_open(connection):
        connection.close()
        connection = None
    if connection is not None:
        try:
            return _send(connections, key, connection, target, body, headers, read_timeout)
        except _StaleConnection:
            # The receiver closed the kept-alive connection as we reused it (its close was on the way when we
            # looked): nothing of an answer came back, so the POST goes again, once, on a new connection, as
            # urllib3 and httpcore do. At worst the receiver sees it twice: deliveries carry idempotency keys.
            pass
    connection = _connect(target, connect_timeout=connect_timeout)
    try:
        return _send(connections, key, connection, target, body, headers, read_timeout)
    except _StaleConnection as stale:
        raise stale.error from stale.error.__cause__


class _StaleConnection(Exception):
    """A reused connection the receiver had closed: no answer at all (the PostError to raise if new)."""

    def __init__(self, error: PostError) -> None:
        super().__init__(str(error))
        self.error = error


def _send(
    connections: dict[tuple[str, str, int], http.client.HTTPConnection],
    key: tuple[str, str, int],
    connection: http.client.HTTPConnection,
    target: _Target,
    body: bytes,
    headers: dict[str, str],
    read_timeout: float,
) -> Answer:
    sock = connection.sock
    if sock is not None:
        sock.settimeout(read_timeout)  # writes and reads from here on
    stage = "Write"
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        stage = "Read"
        response = connection.getresponse()
        content = response.read()
    except TimeoutError as exc:
        connection.close()
        raise PostError(f"{stage}Timeout", str(exc) or "timed out") from exc
    except http.client.RemoteDisconnected as exc:  # closed before any byte of an answer
        connection.close()
        error = PostError("RemoteProtocolError", str(exc) or type(exc).__name__)
        error.__cause__ = exc
        raise _StaleConnection(error) from exc
    except http.client.HTTPException as exc:  # no answer, or not HTTP/1.x
        connection.close()
        raise PostError("RemoteProtocolError", str(exc) or type(exc).__name__) from exc
    except (BrokenPipeError, ConnectionResetError) as exc:  # the receiver's close met our request
        connection.close()
        error = PostError(f"{stage}Error", str(exc))
        error.__cause__ = exc
        raise _StaleConnection(error) from exc
    except OSError as exc:
        connection.close()
        raise PostError(f"{stage}Error", str(exc)) from exc
    if response.will_close:
        connection.close()
    else:
        connections[key] = connection
    charset = response.headers.get_content_charset() or "utf-8"
    try:
        text = content.decode(charset, errors="replace")
    except LookupError:  # a charset Python does not know
        text = content.decode("utf-8", errors="replace")
    return Answer(response.status, text)
