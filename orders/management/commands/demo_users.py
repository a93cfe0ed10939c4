"""`manage.py demo_users`: the demo's users and roles; `--reset-passwords` gives each a new password.

The passwords `setup_demo` prints are shown once and stored only as hashes; this is the way back when
they are lost. ORDERBRIDGE_DEMO_PASSWORD gives every demo user that one password instead.
"""

import os

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from orders import demo

PASSWORD_ENV = "ORDERBRIDGE_DEMO_PASSWORD"  # noqa: S105 (the variable name, not a password)


class Command(BaseCommand):
    help = "List the demo users and their roles; --reset-passwords gives every demo user a new password."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Give every demo user a new password (random, or ORDERBRIDGE_DEMO_PASSWORD) and print them.",
        )

    def handle(self, *args, reset_passwords: bool, **options):
        if reset_passwords:
            shared_password = os.environ.get(PASSWORD_ENV, "")
            try:
                users = demo.reset_demo_passwords(shared_password=shared_password)
            except ValidationError as exc:
                raise CommandError(f"{PASSWORD_ENV} is too weak: {' '.join(exc.messages)}") from exc
            self.stdout.write(
                self.style.WARNING("New passwords for the demo users (their old ones no longer work):")
            )
            for line in demo.password_table(users, shared_env=PASSWORD_ENV if shared_password else None):
                self.stdout.write(f"  {line}")
            return
        existing = set(
            get_user_model()
            .objects.filter(username__in=[name for name, *_ in demo.DEMO_USERS])
            .values_list("username", flat=True)
        )
        for username, role, *_ in demo.DEMO_USERS:
            state = "" if username in existing else "  (not created yet: run setup_demo)"
            self.stdout.write(f"  {username:<10} {role}{state}")
        self.stdout.write(
            "Passwords are stored only as hashes. `manage.py demo_users --reset-passwords` sets new ones."
        )
