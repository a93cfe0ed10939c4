"""A real Celery worker process consumes tasks: from Redis (deployments) and from the embedded
filesystem broker that `make run` uses. Each test starts `celery -A config worker`, sends
`orderbridge.healthcheck` and waits for the proof that the worker ran it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from celery import Celery

from config.celery import app as celery_app
from tests.services import require_redis

BASE_DIR = Path(__file__).resolve().parent.parent
CELERY = str(Path(sys.executable).with_name("celery"))
WAIT_SECONDS = 20


def worker_env(tmp_path: Path, **variables: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("CELERY_")}
    environment.update(
        {
            "ORDERBRIDGE_VAR_DIR": str(tmp_path / "var"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
            **variables,
        }
    )
    return environment


@contextmanager
def celery_worker(
    tmp_path: Path, environment: dict[str, str], *, app_options: tuple = (), worker_options: tuple = ()
) -> Iterator[Path]:
    """Run a worker until the block ends; yields the path of its log (shown when a test fails)."""
    log = tmp_path / "worker.log"
    command = [
        CELERY,
        "-A",
        "config",
        *app_options,
        "worker",
        "--pool=solo",
        "-c",
        "1",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=INFO",
        *worker_options,
    ]
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603 (fixed command)
            command, cwd=BASE_DIR, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            yield log
        finally:
            process.send_signal(signal.SIGTERM)  # warm shutdown, as honcho does on Ctrl-C
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for(path: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return True
        time.sleep(0.2)
    return False


def test_the_healthcheck_task_is_registered_under_its_public_name():
    assert "orderbridge.healthcheck" in celery_app.tasks


def test_the_healthcheck_returns_the_time_and_writes_it_to_the_marker(tmp_path):
    marker = tmp_path / "alive.txt"

    answer = celery_app.tasks["orderbridge.healthcheck"](str(marker))

    assert marker.read_text() == answer
    assert abs(dt.datetime.fromisoformat(answer) - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)


@pytest.mark.services
def test_a_worker_consumes_from_redis_and_stores_the_result(tmp_path):
    redis_url = require_redis()
    # A private queue, so a worker of another run on the same Redis cannot take the message.
    queue = f"healthcheck-{uuid.uuid4().hex}"
    sent_at = dt.datetime.now(dt.UTC)
    environment = worker_env(tmp_path, CELERY_BROKER_URL=redis_url)
    client = Celery("probe", broker=redis_url, backend=redis_url)

    with celery_worker(
        tmp_path, environment, app_options=("--result-backend", redis_url), worker_options=("-Q", queue)
    ) as log:
        result = client.send_task("orderbridge.healthcheck", queue=queue)
        try:
            answer = result.get(timeout=WAIT_SECONDS)
        except Exception as exc:
            pytest.fail(f"no answer from the worker: {exc!r}\n{log.read_text()}")
        finally:
            result.forget()

    assert dt.datetime.fromisoformat(answer) >= sent_at


def test_a_worker_consumes_from_the_embedded_filesystem_broker(tmp_path):
    # The var folder does not exist yet: sender and worker must create the queue folders themselves.
    environment = worker_env(tmp_path)
    marker = tmp_path / "alive.txt"

    with celery_worker(tmp_path, environment) as log:
        sent = subprocess.run(  # noqa: S603 (fixed command)
            [CELERY, "-A", "config", "call", "orderbridge.healthcheck", "--args", json.dumps([str(marker)])],
            cwd=BASE_DIR,
            env=environment,
            capture_output=True,
            text=True,
            timeout=WAIT_SECONDS,
        )
        assert sent.returncode == 0, sent.stderr
        consumed = wait_for(marker, WAIT_SECONDS)

    assert consumed, log.read_text()
    assert (tmp_path / "var" / "broker" / "queue").is_dir()
