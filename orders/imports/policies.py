"""Who may do what with an import job (used by its django-fsm transitions and the import services)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.kernel.permissions import allowed

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from orders.imports.models import ImportJob

ADD_IMPORT = "orders.add_importjob"


def can_commit_import(job: ImportJob, user: User | None) -> bool:
    """Only the person who uploaded the file imports it (they checked its preview)."""
    return bool(user is not None and user.pk == job.created_by_id and allowed(user, ADD_IMPORT))
