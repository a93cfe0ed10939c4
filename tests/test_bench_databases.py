"""Each bench run makes its own uniquely named database and drops only what it created."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection

from tests.bench.databases import DatabaseError, bench_database, drop_created, unique_name
from tests.services import require_postgresql

pytestmark = pytest.mark.django_db


def server_url() -> str:
    db = connection.settings_dict
    server = f"{db['HOST']}:{db['PORT'] or 5432}"
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{server}/orderbridge_bench"


def databases() -> set[str]:
    with psycopg.connect(server_url().rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        return {name for (name,) in conn.execute("SELECT datname FROM pg_database").fetchall()}


def test_two_runs_never_share_a_database_name():
    assert unique_name("orderbridge_bench_sync") != unique_name("orderbridge_bench_sync")
    assert len(unique_name("x" * 100)) <= 63


def test_a_run_creates_its_own_database_and_drops_it():
    require_postgresql()
    url = bench_database(server_url())
    name = url.rsplit("/", 1)[1]
    assert name.startswith("orderbridge_bench_")
    assert name in databases()

    drop_created(url)

    assert name not in databases()


def test_a_run_refuses_to_drop_a_database_it_did_not_create():
    require_postgresql()
    theirs = server_url().rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]

    with pytest.raises(DatabaseError):
        drop_created(theirs)

    assert connection.settings_dict["NAME"] in databases()
