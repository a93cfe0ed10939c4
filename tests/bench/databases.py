"""Each bench run's own PostgreSQL database: a unique name per run, dropped at the end by the run that
created it, never a database it did not create (two people running `make bench` against one server do not
break each other's runs).

BENCH_*_DATABASE_URL names the server and a base name; the run creates `<base>_<time>_<pid>_<random>`.
BENCH_KEEP_DATABASE=1 keeps it after the run (its name is logged) to look at the rows.
"""

from __future__ import annotations

import atexit
import logging
import os
import secrets
import time
from urllib.parse import urlparse, urlunparse

log = logging.getLogger("bench.databases")

# PostgreSQL truncates identifiers at 63 bytes: the base is shortened to leave room for the suffix.
MAX_NAME = 63
_created: list[str] = []  # URLs of the databases this process created


class DatabaseError(Exception):
    """PostgreSQL unreachable, or a name that cannot be made unique."""


def _with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


def _admin(url: str):
    import psycopg

    try:
        return psycopg.connect(_with_database(url, "postgres"), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        where = f"{urlparse(url).hostname}:{urlparse(url).port or 5432}"  # no password in the output
        raise DatabaseError(f"PostgreSQL unreachable at {where}: {exc}") from exc


def unique_name(base: str) -> str:
    suffix = f"_{time.strftime('%Y%m%d%H%M%S')}_{os.getpid()}_{secrets.token_hex(3)}"
    return (base or "orderbridge_bench")[: MAX_NAME - len(suffix)] + suffix


def bench_database(url: str) -> str:
    """Create a new, uniquely named, empty database on the server of `url`; return its URL.

    CREATE DATABASE fails if the name exists (it never takes over someone's database); the database is
    dropped when this process exits, unless BENCH_KEEP_DATABASE=1.
    """
    from psycopg import sql

    name = unique_name(urlparse(url).path.lstrip("/"))
    with _admin(url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    created = _with_database(url, name)
    _created.append(created)
    log.info("database %s created for this run", name)
    return created


def drop_created(url: str) -> None:
    """Drop a database this process created (anything else is refused)."""
    from psycopg import sql

    if url not in _created:
        raise DatabaseError("refusing to drop a database this run did not create")
    name = urlparse(url).path.lstrip("/")
    with _admin(url) as conn:
        # FORCE: our own run's leftover connections (a worker still closing); nobody else uses the name.
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    _created.remove(url)
    log.info("database %s dropped", name)


@atexit.register
def _drop_all_created() -> None:
    if os.environ.get("BENCH_KEEP_DATABASE") == "1":
        for url in _created:
            log.warning("kept database %s (BENCH_KEEP_DATABASE=1)", urlparse(url).path.lstrip("/"))
        return
    for url in list(_created):
        try:
            drop_created(url)
        except Exception as exc:  # the run is over; say what is left behind
            log.warning("could not drop %s: %s", urlparse(url).path.lstrip("/"), exc)
