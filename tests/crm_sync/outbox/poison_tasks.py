"""Test-only tasks, loaded into the fault tests' worker with -I: one kills the worker process running it,
one notes which PostgreSQL backend its database connection talks to."""

from __future__ import annotations

import os
import signal

from celery import shared_task
from django.db import connection

from crm_sync.poison_guard import PoisonGuardedTask


@shared_task(name="tests.kill_my_worker", ignore_result=True, base=PoisonGuardedTask)
def kill_my_worker() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@shared_task(name="tests.note_db_backend", ignore_result=True)
def note_db_backend(path: str) -> None:
    """Append the pid of the PostgreSQL backend serving this task's connection to the file at `path`."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    with open(path, "a", encoding="utf-8") as out:
        out.write(f"{pid}\n")
