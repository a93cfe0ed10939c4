"""Spreadsheet imports: one row per uploaded order file, validated, then imported all or nothing.

Model module: imports only other model modules and the kernel (it loads while `orders.models` does).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from config.history import HistoricalRecords
from orders.imports.policies import can_commit_import


class ImportJobStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    VALIDATING = "validating", _("Validating")
    INVALID = "invalid", _("Has errors")
    VALID = "valid", _("Ready to import")
    IMPORTING = "importing", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")


def _has_good_orders(job: models.Model) -> bool:
    return isinstance(job, ImportJob) and job.has_good_orders()


class ImportJob(models.Model):
    """One uploaded order spreadsheet: validated row by row (preview), then imported all or nothing.

    The file itself is stored in the row, so a Celery worker on another machine can read it. Progress of
    a running step lives in the shared cache (a transaction that is still open cannot show its progress).
    Status changes only through the transitions below, called by `orders.imports.jobs`.
    """

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    filename = models.CharField(_("file name"), max_length=255)
    file_format = models.CharField(_("format"), max_length=8)
    encoding = models.CharField(_("encoding"), max_length=20, default="utf-8")
    content = models.BinaryField(_("content"), editable=False)
    status = FSMField(
        _("status"), default=ImportJobStatus.UPLOADED, choices=ImportJobStatus.choices, protected=True
    )
    rows = models.PositiveIntegerField(_("rows"), default=0)
    orders_new = models.PositiveIntegerField(_("new orders"), default=0)
    orders_existing = models.PositiveIntegerField(_("orders already imported"), default=0)
    # New orders none of whose rows has an error: what "import only the good rows" would create.
    orders_good = models.PositiveIntegerField(_("orders without errors"), default=0)
    # The uploader chose to import the orders without errors and leave the others out.
    skip_error_rows = models.BooleanField(_("rows with errors left out"), default=False)
    # [{"row": 5, "column": "quantity", "message": "..."}]; row 0 means the file as a whole.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    # The first orders as they will be created, for the preview page.
    preview = models.JSONField(_("preview"), default=list, blank=True)
    created_order_numbers = models.JSONField(_("created orders"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["content"])

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @transition(
        field=status,
        source=[ImportJobStatus.UPLOADED, ImportJobStatus.VALIDATING],
        target=ImportJobStatus.VALIDATING,
    )
    def start_validation(self) -> None:
        pass

    @transition(field=status, source=ImportJobStatus.VALIDATING, target=ImportJobStatus.VALID)
    def mark_valid(self) -> None:
        pass

    @transition(
        field=status,
        source=[ImportJobStatus.UPLOADED, ImportJobStatus.VALIDATING, ImportJobStatus.IMPORTING],
        target=ImportJobStatus.INVALID,
    )
    def mark_invalid(self) -> None:
        pass

    @transition(
        field=status,
        source=ImportJobStatus.VALID,
        target=ImportJobStatus.IMPORTING,
        permission=can_commit_import,
    )
    def start_import(self) -> None:
        pass

    def has_good_orders(self) -> bool:
        # Row 0 is an error of the file as a whole (unreadable, empty): nothing in it can be trusted.
        return self.orders_good > 0 and not any(error.get("row") == 0 for error in self.errors)

    @transition(
        field=status,
        source=ImportJobStatus.INVALID,
        target=ImportJobStatus.IMPORTING,
        permission=can_commit_import,
        conditions=[_has_good_orders],
    )
    def start_partial_import(self) -> None:
        pass

    @transition(field=status, source=ImportJobStatus.IMPORTING, target=ImportJobStatus.DONE)
    def mark_done(self) -> None:
        pass

    @transition(
        field=status,
        source=[ImportJobStatus.VALIDATING, ImportJobStatus.IMPORTING],
        target=ImportJobStatus.FAILED,
    )
    def mark_failed(self) -> None:
        pass
