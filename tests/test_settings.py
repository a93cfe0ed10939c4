"""The critical settings are what we think they are, and bad environment values stop the process.

A misspelt setting name does nothing at all (Celery ignores unknown CELERY_* names), so the values
are asserted where they take effect: on the Celery app, the middleware list, the backends.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from celery.app.defaults import SETTING_KEYS
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config import env
from config.celery import app as celery_app

BASE_DIR = Path(__file__).resolve().parent.parent


def run_with_env(args: list[str], tmp_path: Path, **variables: str) -> subprocess.CompletedProcess:
    """Run a Python command in a clean environment: only PATH, HOME and the variables given."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "ORDERBRIDGE_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **variables,
    }
    return subprocess.run(  # noqa: S603 (fixed command, our own interpreter)
        [sys.executable, *args], cwd=BASE_DIR, env=environment, capture_output=True, text=True, timeout=60
    )


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    return {
        "ORDERBRIDGE_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "orderbridge.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'production.sqlite3'}",
        **overrides,
    }


# --- the values reach the code that uses them ------------------------------------------------------------
# Read by Celery's Django fixup (celery/fixups/django.py), not listed in Celery's settings table.
FIXUP_SETTING_KEYS = {"db_reuse_max"}


def test_every_celery_setting_name_is_one_celery_knows():
    names = [name for name in dir(settings) if name.startswith("CELERY_")]

    known = SETTING_KEYS | FIXUP_SETTING_KEYS
    unknown = [name for name in names if name.removeprefix("CELERY_").lower() not in known]

    assert "CELERY_TASK_ACKS_LATE" in names
    assert unknown == []


def test_celerys_django_fixup_reads_how_many_tasks_share_a_database_connection():
    from celery.fixups.django import DjangoWorkerFixup

    assert DjangoWorkerFixup(celery_app).db_reuse_max == settings.CELERY_DB_REUSE_MAX > 1


def test_celery_acknowledges_late_and_requeues_work_of_a_lost_worker():
    assert celery_app.conf.task_acks_late is True
    assert celery_app.conf.task_reject_on_worker_lost is True
    assert celery_app.conf.worker_prefetch_multiplier == 1


def test_celery_speaks_json_only_and_keeps_no_results_by_default():
    assert celery_app.conf.task_serializer == "json"
    assert celery_app.conf.accept_content == ["json"]
    assert celery_app.conf.task_ignore_result is True


def test_celery_uses_the_broker_and_beat_schedule_from_the_settings():
    assert celery_app.conf.broker_url == settings.CELERY_BROKER_URL
    assert celery_app.conf.beat_schedule_filename == settings.CELERY_BEAT_SCHEDULE_FILENAME
    assert celery_app.conf.timezone == settings.TIME_ZONE


def test_the_embedded_broker_queue_folder_is_shared_by_sender_and_worker():
    options = celery_app.conf.broker_transport_options
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        pytest.skip("CELERY_BROKER_URL is not the embedded filesystem broker")

    assert options["data_folder_in"] == options["data_folder_out"]
    assert Path(options["data_folder_in"]).is_relative_to(settings.VAR_DIR)


def test_datetimes_are_timezone_aware():
    assert settings.USE_TZ is True


def test_every_page_requires_login_after_authentication_is_known():
    middleware = settings.MIDDLEWARE

    assert "config.middleware.LoginRequiredMiddleware" in middleware
    assert middleware.index("config.middleware.LoginRequiredMiddleware") > middleware.index(
        "django.contrib.auth.middleware.AuthenticationMiddleware"
    )


def test_login_throttling_backend_comes_first():
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


def test_english_and_simplified_chinese_are_offered():
    assert [code for code, _name in settings.LANGUAGES] == ["en", "zh-hans"]


# --- strict environment parsers ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("parse", "value"),
    [
        (lambda: env.env_bool("ORDERBRIDGE_TEST_VALUE", False), "maybe"),
        (lambda: env.env_int("ORDERBRIDGE_TEST_VALUE", 1), "five"),
        (lambda: env.env_choice("ORDERBRIDGE_TEST_VALUE", "a", {"a", "b"}), "c"),
        (lambda: env.env_required("ORDERBRIDGE_TEST_VALUE"), "  "),
        (lambda: env.env_base_url("ORDERBRIDGE_TEST_VALUE"), "track.plant.example"),
        (lambda: env.env_base_url("ORDERBRIDGE_TEST_VALUE"), "https://track.plant.example/?from=mail"),
    ],
    ids=["bool", "int", "choice", "required", "url-without-scheme", "url-with-query"],
)
def test_an_env_parser_refuses_a_bad_value(monkeypatch, parse, value):
    monkeypatch.setenv("ORDERBRIDGE_TEST_VALUE", value)

    with pytest.raises(ImproperlyConfigured, match="ORDERBRIDGE_TEST_VALUE"):
        parse()


def test_a_base_url_keeps_its_path_and_loses_the_trailing_slash(monkeypatch):
    monkeypatch.setenv("ORDERBRIDGE_TEST_VALUE", " https://track.plant.example/orderbridge/ ")

    assert env.env_base_url("ORDERBRIDGE_TEST_VALUE") == "https://track.plant.example/orderbridge"


def test_no_public_url_by_default_so_tracking_links_follow_the_request():
    assert settings.PUBLIC_URL == ""


@pytest.mark.parametrize(("value", "expected"), [("yes", True), ("0", False), ("ON", True), ("", False)])
def test_env_bool_reads_the_usual_spellings(monkeypatch, value, expected):
    monkeypatch.setenv("ORDERBRIDGE_TEST_VALUE", value)

    assert env.env_bool("ORDERBRIDGE_TEST_VALUE", not expected) is expected


def test_settings_refuse_to_load_with_debug_maybe(tmp_path):
    result = run_with_env(["-c", "from django.conf import settings; settings.DEBUG"], tmp_path, DEBUG="maybe")

    assert result.returncode != 0
    assert "ImproperlyConfigured: DEBUG='maybe' is not a boolean" in result.stderr


@pytest.mark.parametrize("value", ["-1", "11", "two"])
def test_settings_refuse_a_bad_trusted_proxy_count(tmp_path, value):
    command = ["-c", "from django.conf import settings; settings.TRUSTED_PROXY_COUNT"]
    result = run_with_env(command, tmp_path, ORDERBRIDGE_TRUSTED_PROXY_COUNT=value)

    assert result.returncode != 0
    assert "ORDERBRIDGE_TRUSTED_PROXY_COUNT" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ORDERBRIDGE_CRM_PROGRESS_INTERVAL_SECONDS", "-1"),
        ("ORDERBRIDGE_CRM_PROGRESS_INTERVAL_SECONDS", "soon"),
        ("ORDERBRIDGE_PROJECTION_SHIFT_HOURS", "-2"),
    ],
)
def test_settings_refuse_a_bad_progress_interval_or_projection_shift(tmp_path, variable, value):
    command = ["-c", "from django.conf import settings; settings.CRM_PROGRESS_INTERVAL_SECONDS"]
    result = run_with_env(command, tmp_path, **{variable: value})

    assert result.returncode != 0
    assert variable in result.stderr


def test_by_default_no_proxy_is_trusted_and_logins_use_the_same_client_address():
    assert settings.TRUSTED_PROXY_COUNT == 0
    assert settings.AXES_CLIENT_IP_CALLABLE == "config.client_ip.client_address"


# --- production profile -----------------------------------------------------------------------------------
def test_production_does_not_start_without_a_secret_key(tmp_path):
    variables = production_env(tmp_path)
    del variables["SECRET_KEY"]

    result = run_with_env(["manage.py", "check"], tmp_path, **variables)

    assert result.returncode != 0
    assert "The environment variable SECRET_KEY must be set" in result.stderr


def test_production_passes_the_deployment_checklist_without_a_warning(tmp_path):
    result = run_with_env(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **production_env(tmp_path)
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_deployment_checklist_would_catch_a_weak_secret_key(tmp_path):
    # Guards the test above: the same command does fail on a warning.
    result = run_with_env(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        **production_env(tmp_path, SECRET_KEY="short"),
    )

    assert result.returncode != 0
    assert "security.W009" in result.stderr
