"""The system actor: who production's automatic order transitions are recorded as.

Progress reports move orders to "in production" and "completed" through orders.sales' transition door
(orders.sales.transitions), which checks the actor's permissions like for anyone. The actor is a dedicated
user in the planner group (it holds exactly orders.progress_salesorder and view-all), created on first use,
with no usable password (it cannot log in).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

if TYPE_CHECKING:
    from django.contrib.auth.models import User

SYSTEM_USERNAME = "orderbridge-production"
SYSTEM_GROUP = "planner"


def system_actor() -> User:
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=SYSTEM_USERNAME, defaults={"first_name": "OrderBridge", "last_name": "Production"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    if not user.groups.filter(name=SYSTEM_GROUP).exists():
        user.groups.add(Group.objects.get(name=SYSTEM_GROUP))
        # Permissions are cached per user instance; drop the cache so the new group counts at once.
        for attr in ("_perm_cache", "_group_perm_cache", "_user_perm_cache"):
            user.__dict__.pop(attr, None)
    return user
