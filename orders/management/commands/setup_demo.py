"""`manage.py setup_demo`: one demo user per role and realistic demo data. Safe to run again.

Users that do not exist yet are created with a random password printed once, in a table; run again,
the command creates nothing and prints no password. Set ORDERBRIDGE_DEMO_PASSWORD to give every new
demo user that one password instead (handy for a demo or a scripted check; it must pass the password
validators). Demo data (catalog, customers, orders entered over the last months, and what higher apps
register in orders.demo: production's work centers, routings, shop floor and plan) is loaded only while
there are no orders at all.
"""

import logging
import os
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from orders import demo
from orders.sales.models import SalesOrder

PASSWORD_ENV = "ORDERBRIDGE_DEMO_PASSWORD"  # noqa: S105 (the variable name, not a password)


class Command(BaseCommand):
    help = "Create demo users (one per role) and, on a database without orders, realistic demo data."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=42, help="Random seed: same seed, same data.")
        parser.add_argument("--orders", type=int, default=300, help="How many orders to create.")

    def handle(self, *args, seed: int, orders: int, **options):
        if orders < 0:
            raise CommandError("--orders must not be negative.")
        shared_password = os.environ.get(PASSWORD_ENV, "")
        try:
            created = demo.ensure_demo_users(shared_password=shared_password)
        except ValidationError as exc:
            raise CommandError(f"{PASSWORD_ENV} is too weak: {' '.join(exc.messages)}") from exc
        # The passwords come last, just before `make run` starts the processes: nothing scrolls them away.
        try:
            self._load(seed=seed, orders=orders)
        finally:
            self._report_users(created, shared=bool(shared_password))

    def _load(self, *, seed: int, orders: int) -> None:
        if SalesOrder.objects.exists():
            self.stdout.write("Orders exist already: no demo data loaded.")
            return
        started = time.monotonic()
        # Quiet: the steps' INFO lines (a plan run per schedule...) mean nothing to a person starting it.
        logging.disable(logging.INFO)
        try:
            summary = demo.load_demo_data(seed=seed, orders=orders)
        finally:
            logging.disable(logging.NOTSET)
        by_status = ", ".join(f"{status} {count}" for status, count in sorted(summary.orders.items()))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded in {time.monotonic() - started:.1f} s (seed {seed}): "
                f"{summary.customers} customers, {summary.families} product families, "
                f"{summary.products} products, {sum(summary.orders.values())} orders ({by_status})."
            )
        )
        if summary.extra:
            self.stdout.write(", ".join(f"{name}: {count}" for name, count in summary.extra.items()) + ".")

    def _report_users(self, created: list, *, shared: bool) -> None:
        existing = [
            username for username, *_ in demo.DEMO_USERS if username not in {u.username for u in created}
        ]
        if existing:
            self.stdout.write(
                f"Demo users already there, passwords unchanged: {', '.join(existing)}. "
                "Lost them? `.venv/bin/python manage.py demo_users --reset-passwords` gives new ones."
            )
        if not created:
            return
        note = "" if shared else " Passwords are shown only this once: note them now."
        self.stdout.write(self.style.WARNING(f"Demo users created.{note}"))
        for line in demo.password_table(created, shared_env=PASSWORD_ENV if shared else None):
            self.stdout.write(f"  {line}")
