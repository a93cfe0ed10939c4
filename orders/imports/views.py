"""Spreadsheet import pages (sales). Thin: orders.imports.jobs and orders.imports.sheets do the work."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from config.http import AuthenticatedRequest
from config.kernel.errors import ApplicationError
from config.tables import FORMATS
from orders import sales
from orders.imports import jobs, sheets
from orders.imports.models import ImportJob, ImportJobStatus

RUNNING = (ImportJobStatus.UPLOADED, ImportJobStatus.VALIDATING, ImportJobStatus.IMPORTING)


@permission_required("orders.add_importjob", raise_exception=True)
def import_upload(request: AuthenticatedRequest) -> HttpResponse:
    errors: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            errors = [_("Choose a file to upload.")]
        else:
            try:
                # Read at most one byte more than allowed: the service names the size problem.
                content = upload.read(settings.IMPORT_MAX_BYTES + 1)
                job = jobs.import_job_create(
                    actor=request.user,
                    filename=upload.name or "",
                    content=content,
                    encoding=request.POST.get("encoding", "utf-8"),
                )
                return redirect("orders:import_job", pk=job.pk)
            except ApplicationError as exc:
                errors = [m for messages_ in exc.fields.values() for m in messages_] or [exc.message]
    context = {
        "errors": errors,
        "encodings": sheets.ENCODINGS,
        "jobs": jobs.jobs_of(request.user),
        "max_mb": settings.IMPORT_MAX_BYTES // 1048576,
        "max_rows": settings.IMPORT_MAX_ROWS,
    }
    return render(request, "orders/import/upload.html", context, status=400 if errors else 200)


@permission_required("orders.add_importjob", raise_exception=True)
def import_template(request: AuthenticatedRequest, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404(_("Unknown format."))
    content, content_type = sheets.template_file(fmt)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="orderbridge-order-import.{fmt}"'
    return response


def _own_job(request: AuthenticatedRequest, pk: int) -> ImportJob:
    job = ImportJob.objects.defer("content").filter(pk=pk, created_by=request.user).first()
    if job is None:
        raise Http404(_("No such import."))
    return job


@permission_required("orders.add_importjob", raise_exception=True)
def import_job(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    job = _own_job(request, pk)
    context = {
        "job": job,
        "running": job.status in RUNNING,
        "stalled": jobs.import_job_stalled(job),
        "progress": jobs.progress(job),
    }
    if request.htmx and request.GET.get("partial") == "progress":
        response = render(request, "orders/import/_progress.html", context)
        if not context["running"]:
            response["HX-Refresh"] = "true"  # the step finished: show the whole result
        return response
    return render(request, "orders/import/job.html", context)


@require_POST
@permission_required("orders.add_importjob", raise_exception=True)
def import_commit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    job = _own_job(request, pk)
    try:
        jobs.import_job_commit(
            actor=request.user, job=job, skip_error_rows=request.POST.get("skip_error_rows") == "1"
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("orders:import_job", pk=job.pk)


@require_POST
@permission_required("orders.add_importjob", raise_exception=True)
def import_confirm_orders(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Confirm together the draft orders this import created (each through the order's own rules)."""
    job = _own_job(request, pk)
    if job.status != ImportJobStatus.DONE or not job.created_order_numbers:
        messages.info(request, _("This import created no orders to confirm."))
        return redirect("orders:import_job", pk=job.pk)
    try:
        result = sales.orders_bulk_transition(
            actor=request.user, numbers=job.created_order_numbers, name="confirm"
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("orders:import_job", pk=job.pk)
    if result.done:
        messages.success(
            request,
            ngettext("%(count)s order confirmed.", "%(count)s orders confirmed.", len(result.done))
            % {"count": len(result.done)},
        )
    if result.refused:
        messages.warning(
            request,
            ngettext(
                "%(count)s order was left as it was: %(orders)s",
                "%(count)s orders were left as they were: %(orders)s",
                len(result.refused),
            )
            % {
                "count": len(result.refused),
                "orders": "; ".join(f"{number}: {message}" for number, message in result.refused[:10]),
            },
        )
    return redirect("orders:import_job", pk=job.pk)


@require_POST
@permission_required("orders.add_importjob", raise_exception=True)
def import_retry(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    job = _own_job(request, pk)
    try:
        jobs.import_job_retry(actor=request.user, job=job)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("orders:import_job", pk=job.pk)
