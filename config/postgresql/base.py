"""Django's PostgreSQL backend, with a health check that costs no round trip.

With CONN_HEALTH_CHECKS Django checks a kept connection before its first use in each request or task by
sending `SELECT 1` (settings: it spares a 500 after PostgreSQL restarted). That is one more round trip per
request: on the operators' report endpoint 1 of 14, on a repeated report 1 of 4 (shopfloor bench, issue 17),
and one per Celery task. A server that ends a connection (restart, `pg_terminate_backend`, idle timeout)
sends its FATAL message and closes the socket; an idle connection has nothing else to read. So an idle
connection whose socket has nothing to read and whose libpq status is OK is taken as usable without asking
the server; anything else (something to read, a transaction left open, a broken connection) gets Django's
own `SELECT 1`. What neither check catches, a peer that vanished without closing, fails on first use as
before.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if (
            connection.pgconn.status == pq.ConnStatus.OK
            and connection.info.transaction_status == pq.TransactionStatus.IDLE
            and not _readable(connection.pgconn.socket)
        ):
            return True
        return super().is_usable()


def _readable(fd: int) -> bool:
    """Whether the socket has data or an end of file waiting (no wait)."""
    if not hasattr(select, "poll"):  # Windows: select() takes sockets there, and no fd limit applies
        return bool(select.select([fd], [], [], 0)[0])
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))
