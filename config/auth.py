"""Permission lookups cached in the shared cache.

Django's ModelBackend reads a user's permissions with two joined queries on every request (it caches
them only on the request's user object). Every API write checks permissions, so those two queries were
a tenth of an order's cost. Here the set is kept in the shared cache (Redis in production, so every
web process and worker sees one truth) under a version that any change of groups or permissions bumps:
a revoked permission stops working at the next request, in every process.

While the shared cache is unreachable the sets are read from the database (a Redis outage costs the two
queries, never a refused request). A change of groups or permissions then fails instead of going unseen
by the caches (the bump raises inside the change's transaction): no revoked permission outlives an outage.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

from config import shared_cache

logger = logging.getLogger("orderbridge")

VERSION_KEY = "auth:perms:version"
TIMEOUT_SECONDS = 600
# Tables whose change can change what someone may do.
_PERMISSION_TABLES = {
    "auth_user_groups",
    "auth_user_user_permissions",
    "auth_group_permissions",
    "auth_group",
    "auth_permission",
}


def _version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY) or 1
    return version


def invalidate_permissions() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not there yet (or evicted): any new value makes the old keys unreachable
        cache.set(VERSION_KEY, 2, timeout=None)


class CachedPermissionsBackend(ModelBackend):
    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            try:
                key = f"auth:perms:{_version()}:{user_obj.pk}:{int(user_obj.is_superuser)}"
                permissions = cache.get(key)
            except Exception as exc:  # any backend's "unreachable" (redis.ConnectionError, OSError, timeouts)
                logger.warning("shared cache unreachable; permissions read from the database: %s", exc)
                user_obj._perm_cache = set(super().get_all_permissions(user_obj))
                return user_obj._perm_cache
            if permissions is None:
                permissions = super().get_all_permissions(user_obj)
                shared_cache.set(key, permissions, timeout=TIMEOUT_SECONDS)  # gone since the read: read again
            user_obj._perm_cache = set(permissions)
        return user_obj._perm_cache


def _on_change(sender: Any, **kwargs: Any) -> None:
    if getattr(getattr(sender, "_meta", None), "db_table", None) in _PERMISSION_TABLES:
        invalidate_permissions()


def _on_migrate(**kwargs: Any) -> None:
    invalidate_permissions()


def connect_signals() -> None:
    # No sender filter: data migrations change groups through historical models, other classes.
    m2m_changed.connect(_on_change, dispatch_uid="auth_perms_m2m")
    post_save.connect(_on_change, dispatch_uid="auth_perms_save")
    post_delete.connect(_on_change, dispatch_uid="auth_perms_delete")
    post_migrate.connect(_on_migrate, dispatch_uid="auth_perms_migrate")
