"""`manage.py demo_users`: who the demo users are, and new passwords when the printed ones are lost."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hasher(monkeypatch, settings):
    monkeypatch.delenv("ORDERBRIDGE_DEMO_PASSWORD", raising=False)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def printed_password(output: str, username: str) -> str:
    for line in output.splitlines():
        columns = line.split()
        if columns and columns[0] == username and len(columns) == 3:
            return columns[2]
    raise AssertionError(f"no password printed for {username}:\n{output}")


def test_a_second_setup_demo_says_how_to_get_new_passwords():
    run("setup_demo", "--orders", "0")

    again = run("setup_demo", "--orders", "0")

    assert "passwords unchanged" in again
    assert "demo_users --reset-passwords" in again


def test_reset_passwords_prints_a_new_password_that_logs_in_and_the_old_one_no_longer_does():
    old = printed_password(run("setup_demo", "--orders", "0"), "planner")

    new = printed_password(run("demo_users", "--reset-passwords"), "planner")

    planner = get_user_model().objects.get(username="planner")
    assert new != old
    assert planner.check_password(new)
    assert not planner.check_password(old)


def test_reset_passwords_creates_a_demo_user_that_is_missing():
    run("setup_demo", "--orders", "0")
    get_user_model().objects.filter(username="service").delete()

    output = run("demo_users", "--reset-passwords")

    assert (
        get_user_model().objects.get(username="service").check_password(printed_password(output, "service"))
    )


def test_reset_passwords_leaves_users_outside_the_demo_alone():
    run("setup_demo", "--orders", "0")
    outsider = get_user_model().objects.create_user("plant-lead", password="kept-as-it-was-2026")

    run("demo_users", "--reset-passwords")

    outsider.refresh_from_db()
    assert outsider.check_password("kept-as-it-was-2026")


def test_without_the_flag_it_lists_users_and_roles_and_changes_no_password():
    password = printed_password(run("setup_demo", "--orders", "0"), "planner")

    output = run("demo_users")

    assert "planner" in output and "production_manager" in output
    assert "--reset-passwords" in output
    assert password not in output
    assert get_user_model().objects.get(username="planner").check_password(password)
