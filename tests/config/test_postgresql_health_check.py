"""The PostgreSQL backend's health check (config.postgresql): a kept connection is checked before its first
use in a request or task without a round trip, and one the server has ended is still replaced, not used."""

from __future__ import annotations

import select
import time

import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections

from tests.services import require_postgresql

pytestmark = pytest.mark.django_db


@pytest.fixture
def kept_connection():
    """A second connection to the test database, as a web process or worker keeps one between requests."""
    require_postgresql()
    kept = connections.create_connection("default")
    with kept.cursor() as cursor:
        cursor.execute("SELECT 'the last statement before the check'")
    kept.close_if_unusable_or_obsolete()  # the end of a request: the next first use checks its health
    yield kept
    kept.close()


def last_statement_of(pid: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # activity is otherwise cached per transaction
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0]


def backend_pid(kept) -> int:
    return kept.connection.info.backend_pid


def end_on_the_server(kept) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend_pid(kept)])
    poller = select.poll()
    poller.register(kept.connection.pgconn.socket, select.POLLIN)
    deadline = time.monotonic() + 5
    while not poller.poll(50) and time.monotonic() < deadline:
        pass


def test_the_site_uses_it_with_health_checks_on():
    require_postgresql()

    assert settings.DATABASES["default"]["ENGINE"] == "config.postgresql"
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


def test_an_idle_kept_connection_is_usable_without_asking_the_server(kept_connection):
    assert kept_connection.is_usable() is True

    assert last_statement_of(backend_pid(kept_connection)) == "SELECT 'the last statement before the check'"


def test_a_connection_the_server_ended_is_not_usable(kept_connection):
    end_on_the_server(kept_connection)

    assert kept_connection.is_usable() is False


def test_the_next_request_after_the_server_ended_its_connection_gets_a_new_one_not_an_error(kept_connection):
    ended_pid = backend_pid(kept_connection)
    end_on_the_server(kept_connection)

    with kept_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        new_pid = cursor.fetchone()[0]

    assert new_pid != ended_pid


def test_a_connection_left_in_a_failed_transaction_is_not_usable(kept_connection):
    kept_connection.connection.autocommit = False
    with pytest.raises(psycopg.errors.DivisionByZero), kept_connection.connection.cursor() as cursor:
        cursor.execute("SELECT 1 / 0")

    assert kept_connection.is_usable() is False
