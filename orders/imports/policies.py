"""Who may do what with an import job (used by its django-fsm transitions and the import services)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from config.kernel.permissions import Actor, allowed

if TYPE_CHECKING:
    from django.db.models import Model
    from django_fsm import UserWithPermissions

    from orders.imports.models import ImportJob

ADD_IMPORT = "orders.add_importjob"


def can_commit_import(instance: Model, user: UserWithPermissions | None) -> bool:
    """Only the person who uploaded the file imports it (they checked its preview).

    The django-fsm permission of ImportJob.start_import: django-fsm calls it with the job and the user its
    caller passed (the services' actor), typed as for any model and user.
    """
    job, actor = cast("ImportJob", instance), cast("Actor", user)
    return bool(actor is not None and actor.pk == job.created_by_id and allowed(actor, ADD_IMPORT))
