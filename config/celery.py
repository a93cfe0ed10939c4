"""The Celery app: settings from Django (CELERY_* names), tasks from each app's tasks.py."""

import datetime as dt
import os
import warnings
from pathlib import Path

from celery import Celery
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

if os.environ.get("CELERY_BROKER_URL", "filesystem://").startswith("filesystem://"):
    # The embedded broker is `make run`'s demo on one machine, often in a container run as root: Celery's
    # advice to run the worker under another user is not one a demo user should act on. A real
    # deployment (CELERY_BROKER_URL set) still gets the warning.
    warnings.filterwarnings("ignore", message="You're running the worker with superuser privileges")

app = Celery("orderbridge")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def close_old_database_connections(sender=None, **kwargs) -> None:
    """Around each task, what Django does around each request: drop a connection that broke or outlived
    CONN_MAX_AGE, keep a good one (settings.CELERY_DB_REUSE_MAX stops Celery closing it every time).

    Not for an eager task: it runs inside its caller's transaction, whose connection must stay.
    """
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    close_old_connections()


_BROKER_FOLDER_OPTIONS = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")


@app.on_after_configure.connect
def create_broker_folders(sender: Celery, **kwargs) -> None:
    """Create the queue folders of kombu's filesystem transport, which fails if they are missing.

    Runs wherever the configuration is first read (web process sending a task, worker, beat), so a fresh
    clone or a new ORDERBRIDGE_VAR_DIR works without a setup step.
    """
    if not str(sender.conf.broker_url or "").startswith("filesystem://"):
        return
    options = sender.conf.broker_transport_options or {}
    for key in _BROKER_FOLDER_OPTIONS:
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@app.task(name="orderbridge.healthcheck", ignore_result=False)
def healthcheck(marker_path: str | None = None) -> str:
    """Prove that a worker consumes from the broker: return the worker's current time (ISO 8601).

    The filesystem transport has no result backend, so a caller may pass `marker_path` and poll for
    the file, which receives the same timestamp. Results are kept (unlike the project default) so that
    a caller with a result backend can wait for the answer.
    """
    now = dt.datetime.now(dt.UTC).isoformat()
    if marker_path:
        Path(marker_path).write_text(now, encoding="utf-8")
    return now
