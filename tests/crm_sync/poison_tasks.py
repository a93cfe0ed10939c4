"""A task that kills the worker process running it: loaded into the fault tests' worker with -I."""

from __future__ import annotations

import os
import signal

from celery import shared_task

from crm_sync.tasks import PoisonGuardedTask


@shared_task(name="tests.kill_my_worker", ignore_result=True, base=PoisonGuardedTask)
def kill_my_worker() -> None:
    os.kill(os.getpid(), signal.SIGKILL)
