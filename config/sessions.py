"""Django's database sessions, read with one hand-written statement.

Every signed-in request reads its session. Through the ORM (`Session.objects.get(...)`: a queryset built,
cloned, compiled, a model instance made) that read was a quarter of the web process's CPU for a floor
report, its round trip included (py-spy on the shopfloor bench, once the report's own writes were cheap).
The same row, the same rules: an unknown or expired key reads as no session (the key is dropped, as
Django's store does); writes, expiry and the cleanup command are Django's own.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        model = self.model
        if not self.session_key:
            self._session_key = None
            return None
        connection = connections[router.db_for_read(model)]
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT session_data, expire_date FROM {table} "  # noqa: S608 - the model's table
                "WHERE session_key = %s AND expire_date > %s",
                [self.session_key, timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return model(session_key=self.session_key, session_data=row[0], expire_date=row[1])
