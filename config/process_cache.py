"""Master data kept per process under a version held in the shared cache (Redis in production).

For data read on every order but changed rarely (an admin's edit): which external systems take events,
a product's routing. Each process keeps what it read under the shared version; every save or delete of a
watched model replaces the version, at once and again at commit, so every process reads again at its next
use. A change that bypasses the ORM's signals (a queryset update, SQL) is read within `max_age` seconds.
A transaction that changed a watched row sees rows no other one does: it reads them itself and caches
nothing under the version it set (a rollback then leaves nothing wrong behind).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

logger = logging.getLogger("orderbridge")


class VersionedProcessCache:
    """Values keyed per process, all dropped together when the shared version changes.

    Values handed out are shared by every caller of the process: read them, never change them.
    """

    def __init__(self, *, key: str, max_age_seconds: float) -> None:
        self.key = key
        self.max_age_seconds = max_age_seconds
        self._values: dict[Any, Any] = {}
        self._version: Any = None
        self._read_at = 0.0
        self._lock = threading.Lock()
        # The version this thread set for a change not committed yet (or rolled back).
        self._own_change = threading.local()

    def version(self) -> Any:
        """The shared version; None when the shared cache cannot be reached (callers then read the data
        itself: a Redis outage costs queries, never a refused request)."""
        try:
            version = cache.get(self.key)
            if version is None:  # first use, or evicted: a new value nobody has cached under
                cache.add(self.key, uuid.uuid4().hex, timeout=None)
                version = cache.get(self.key)
        except Exception as exc:  # any backend's "unreachable" (redis.ConnectionError, OSError, timeouts)
            logger.warning("shared cache unreachable; reading %s without it: %s", self.key, exc)
            return None
        return version

    def get(self, name: Any, load: Callable[[], Any]) -> Any:
        """The value cached under `name`, or `load()` (then cached, unless this thread changed the data)."""
        return self.get_many([name], lambda names: {name: load()})[name]

    def get_many(self, names: Iterable[Any], load: Callable[[list[Any]], dict[Any, Any]]) -> dict[Any, Any]:
        """The values cached under `names`; those missing from `load(missing names)` (which must return a
        value for each, None included), then cached unless this thread changed the data."""
        names = list(names)
        version = self.version()  # before loading: a change committed after it bumps past this version
        if version is None or version == getattr(self._own_change, "version", None):
            return load(names)
        now = time.monotonic()
        with self._lock:
            if self._version != version or now - self._read_at >= self.max_age_seconds:
                self._values = {}
                self._version = version
                self._read_at = now
            values = self._values
            found = {name: values[name] for name in names if name in values}
        missing = [name for name in names if name not in found]
        if missing:
            loaded = load(missing)
            with self._lock:
                if self._version == version:
                    values.update(loaded)
            found.update(loaded)
        return found

    def bump(self) -> str:
        version = uuid.uuid4().hex
        try:
            cache.set(self.key, version, timeout=None)
        except Exception as exc:  # unreachable: the other processes read again within max_age_seconds
            logger.warning("shared cache unreachable; %s not bumped: %s", self.key, exc)
        return version

    def changed(self, sender: Any = None, **kwargs: Any) -> None:
        """Signal receiver: the data changed (new version now, and another at commit)."""
        self._own_change.version = self.bump()

        def committed() -> None:
            self._own_change.version = None
            self.bump()

        transaction.on_commit(committed)

    def watch(self, models: Iterable[type[Model]], *, uid: str) -> None:
        """Bump the version on every save and delete of these models."""
        for model in models:
            label = model._meta.label_lower
            post_save.connect(self.changed, sender=model, dispatch_uid=f"{uid}:{label}:saved", weak=False)
            post_delete.connect(self.changed, sender=model, dispatch_uid=f"{uid}:{label}:deleted", weak=False)
