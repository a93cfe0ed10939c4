"""Register the CRM and MES simulators (Procfile's crm: and mes:) as external systems. Idempotent.

Environment: ORDERBRIDGE_CRM_SIM_URL (default http://127.0.0.1:$CRM_SIM_PORT, 8101 without it: the port the
Procfile starts the simulator on), ORDERBRIDGE_MES_SIM_URL (likewise with MES_SIM_PORT, 8102),
ORDERBRIDGE_CRM_SIM_SECRET / ORDERBRIDGE_MES_SIM_SECRET (default: the demo secrets the simulators also fall
back to, so `make run` works with no configuration).
"""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from crm_sync.models import ExternalSystem
from crm_sync.simulators import demo_secret

# The MES takes work: releases and what changes released work; the CRM takes every order event.
MES_EVENTS = [
    "order.released",
    "order.updated",
    "order.held",
    "order.resumed",
    "order.cancelled",
    "order.change_applied",
    "order.resync",
    "production.disposition_decided",
    # Changes to one work order under way, by its own id (config.kernel.events.WORK_ORDER_CHANGE_EVENTS).
    "work_order.quantity_changed",
    "work_order.cancelled",
    "work_order.held",
    "work_order.resumed",
    "work_order.disposition_decided",
    "work_order.rework_requested",
]
# Who each simulator acts as here: the CRM enters orders like sales; the MES reports like production.
SERVICE_USERS = {"crm-simulator": "sales", "mes-simulator": "production_manager"}


def service_user(username: str, role: str):
    """A user that cannot log in (no usable password), in the role whose rights the system needs."""
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get(name=role))
    return user


class Command(BaseCommand):
    help = "Register the CRM and MES simulators as external systems (demo configuration)."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        systems: list[dict[str, Any]] = [
            {
                "slug": "crm-simulator",
                "name": "CRM simulator",
                "kind": ExternalSystem.Kind.CRM,
                "base_url": os.environ.get(
                    "ORDERBRIDGE_CRM_SIM_URL", f"http://127.0.0.1:{os.environ.get('CRM_SIM_PORT', '8101')}"
                ),
                "signing_secret": demo_secret("ORDERBRIDGE_CRM_SIM_SECRET"),
                "format": ExternalSystem.Format.JSON,
                "event_types": [],
            },
            {
                "slug": "mes-simulator",
                "name": "MES simulator",
                "kind": ExternalSystem.Kind.MES,
                "base_url": os.environ.get(
                    "ORDERBRIDGE_MES_SIM_URL", f"http://127.0.0.1:{os.environ.get('MES_SIM_PORT', '8102')}"
                ),
                "signing_secret": demo_secret("ORDERBRIDGE_MES_SIM_SECRET"),
                "format": ExternalSystem.Format.B2MML,
                "event_types": MES_EVENTS,
            },
        ]
        for fields in systems:
            slug = fields.pop("slug")
            fields["service_user"] = service_user(slug, SERVICE_USERS[slug])
            _, created = ExternalSystem.objects.update_or_create(slug=slug, defaults=fields)
            self.stdout.write(
                f"{'created' if created else 'updated'} {fields['name']} at {fields['base_url']}"
            )
