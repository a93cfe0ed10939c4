"""Role groups: sales, planner, production_manager, customer_service, purchasing, admin.

Each app's data migration grants its own permissions to the roles with `grant`; the admin group is
kept holding every permission by a post_migrate hook, so apps added later need no extra step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.management import create_permissions

if TYPE_CHECKING:
    from django.apps.registry import Apps

ROLES = ("sales", "planner", "production_manager", "customer_service", "purchasing", "admin")


def grant(apps: Apps, role_permissions: dict[str, list[str]]) -> None:
    """Give each role the named permissions ("app_label.codename"), creating groups as needed."""
    # Permissions are normally created after migrate; create them now so the groups can hold them.
    for app_config in apps.get_app_configs():
        # create_permissions skips an app without a models module; any true value lets it through.
        app_config.models_module = True  # type: ignore[assignment]
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    for role, names in role_permissions.items():
        group = Group.objects.get(name=role)
        for name in names:
            app_label, codename = name.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def give_admin_every_permission(**kwargs: object) -> None:
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name="admin")
    group.permissions.set(Permission.objects.all())
