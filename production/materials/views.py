"""Materials pages: items and the BOM tree editor, stock, supply (purchase orders) and imports. Thin: the
services in production.materials decide, the selectors read."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.http import AuthenticatedRequest
from config.kernel import allowed
from config.kernel.errors import ApplicationError
from config.tables import FORMATS, table_response
from orders.imports import ENCODINGS
from production.materials import boms, editing, imports, selectors, stock
from production.materials.forms import AdjustForm, BomLineForm, BomVersionForm, PurchaseOrderForm, ReceiveForm
from production.materials.models import Bom, BomLine, Item, ItemKind, PurchaseOrderLine

VIEW = "production.view_materials"


def _form_errors(form: Any, exc: ApplicationError) -> None:
    for name, problems in exc.fields.items():
        for problem in problems:
            form.add_error(name if name in form.fields else None, problem)
    if not exc.fields:
        form.add_error(None, exc.message)


@permission_required(VIEW, raise_exception=True)
def item_list(request: AuthenticatedRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    kind = kind if kind in ItemKind.values else ""
    search = request.GET.get("q", "")[:64]
    items = selectors.items(kind=kind, search=search)[:500]
    stock_of = selectors.on_hand([item.pk for item in items])
    held = selectors.reserved([item.pk for item in items])
    rows = [(item, stock_of.get(item.pk, 0), held.get(item.pk, 0)) for item in items]
    context = {"rows": rows, "kinds": ItemKind.choices, "kind": kind, "q": search}
    return render(request, "production/materials/item_list.html", context)


def _editor_context(request: AuthenticatedRequest, item: Item, bom: Bom | None) -> dict[str, Any]:
    today = timezone.localdate()
    versions = list(selectors.item_boms(item))
    tree = boms.flatten(boms.bom_tree(bom, on=today)) if bom else []
    return {
        "item": item,
        "bom": bom,
        "versions": versions,
        "tree": tree,
        "in_force": boms.bom_in_force(versions, today),
        "can_edit": allowed(request.user, editing.MANAGE_MATERIALS),
        "line_form": BomLineForm(bom=bom) if bom else None,
        "version_form": BomVersionForm(
            initial={
                "effective_from": bom.effective_from,
                "effective_to": bom.effective_to,
                "is_active": bom.is_active,
            }
        )
        if bom
        else None,
    }


def _item_url(item: Item) -> str:
    return reverse("production:material_item", kwargs={"pk": item.pk})


def _chosen_bom(item: Item, raw: str | None) -> Bom | None:
    if raw and raw.isdigit():
        return item.boms.filter(pk=int(raw)).first()
    return boms.bom_in_force(item.boms.all(), timezone.localdate()) or item.boms.order_by("-version").first()


@permission_required(VIEW, raise_exception=True)
def item_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Item.objects.select_related("product"), pk=pk)
    context = _editor_context(request, item, _chosen_bom(item, request.GET.get("bom")))
    context["levels"] = selectors.stock_levels(item=item)
    context["movements"] = selectors.stock_movements(item=item, limit=20)
    context["reservations"] = selectors.active_reservations([item.pk])[:50]
    context["supply"] = selectors.open_supply([item.pk]).get(item.pk, [])
    return render(request, "production/materials/item_detail.html", context)


def _editor(request: AuthenticatedRequest, bom: Bom, *, status: int = 200, **extra: Any) -> HttpResponse:
    context = _editor_context(request, bom.item, bom) | extra
    if request.htmx:
        return render(request, "production/materials/_bom_editor.html", context, status=status)
    if status != 200:
        return render(request, "production/materials/item_detail.html", context, status=status)
    return redirect(f"{_item_url(bom.item)}?bom={bom.pk}")


@require_POST
@permission_required(editing.MANAGE_MATERIALS, raise_exception=True)
def bom_new_version(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Item, pk=pk)
    current = _chosen_bom(item, request.POST.get("copy_from"))
    try:
        bom = editing.bom_create(actor=request.user, item=item, copy_from=current)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("production:material_item", pk=item.pk)
    return redirect(f"{_item_url(item)}?bom={bom.pk}")


@require_POST
@permission_required(editing.MANAGE_MATERIALS, raise_exception=True)
def bom_version(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    bom = get_object_or_404(Bom.objects.select_related("item"), pk=pk)
    form = BomVersionForm(request.POST)
    if form.is_valid():
        try:
            editing.bom_update(actor=request.user, bom=bom, **form.cleaned_data)
            return _editor(request, Bom.objects.get(pk=bom.pk))
        except ApplicationError as exc:
            _form_errors(form, exc)
    return _editor(request, bom, status=400, version_form=form)


@permission_required(VIEW, raise_exception=True)
def bom_line(request: AuthenticatedRequest, pk: int, line_pk: int | None = None) -> HttpResponse:
    """GET: the form of a line (htmx: in place); POST: add (no line) or save a line."""
    bom = get_object_or_404(Bom.objects.select_related("item"), pk=pk)
    line = get_object_or_404(BomLine, pk=line_pk, bom=bom) if line_pk is not None else None
    if request.method != "POST":
        form = BomLineForm(bom=bom, line=line)
        template = "_line_form.html" if request.htmx else "line_edit.html"
        return render(request, f"production/materials/{template}", {"bom": bom, "line": line, "form": form})
    if not allowed(request.user, editing.MANAGE_MATERIALS):
        raise Http404(_("No such page."))
    form = BomLineForm(request.POST, bom=bom, line=line)
    if form.is_valid():
        try:
            editing.bom_line_save(actor=request.user, bom=bom, line=line, values=form.cleaned_data)
            return _editor(request, bom)
        except ApplicationError as exc:
            _form_errors(form, exc)
    if line is not None:
        return render(
            request,
            "production/materials/_line_form.html",
            {"bom": bom, "line": line, "form": form},
            status=400,
        )
    return _editor(request, bom, status=400, line_form=form)


@require_POST
@permission_required(editing.MANAGE_MATERIALS, raise_exception=True)
def bom_line_remove(request: AuthenticatedRequest, pk: int, line_pk: int) -> HttpResponse:
    bom = get_object_or_404(Bom.objects.select_related("item"), pk=pk)
    line = get_object_or_404(BomLine, pk=line_pk, bom=bom)
    editing.bom_line_remove(actor=request.user, line=line)
    return _editor(request, bom)


@permission_required(VIEW, raise_exception=True)
def stock_page(request: AuthenticatedRequest) -> HttpResponse:
    form = AdjustForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not allowed(request.user, stock.MANAGE_STOCK):
            raise Http404(_("No such page."))
        if form.is_valid():
            data = form.cleaned_data
            try:
                stock.stock_adjust(actor=request.user, **data)
                messages.success(request, _("Stock of %(item)s adjusted.") % {"item": data["item"].code})
                return redirect("production:material_stock")
            except ApplicationError as exc:
                _form_errors(form, exc)
        status = 400
    context = {
        "levels": selectors.stock_levels()[:1000],
        "form": form,
        "can_adjust": allowed(request.user, stock.MANAGE_STOCK),
    }
    return render(request, "production/materials/stock.html", context, status=status)


@permission_required(VIEW, raise_exception=True)
def supply_page(request: AuthenticatedRequest) -> HttpResponse:
    form = PurchaseOrderForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not allowed(request.user, stock.MANAGE_PURCHASING):
            raise Http404(_("No such page."))
        if form.is_valid():
            data = form.cleaned_data
            line = stock.PurchaseLineInput(
                item=data["item"], quantity=data["quantity"], expected_date=data["expected_date"]
            )
            try:
                order = stock.purchase_order_create(
                    supplier=data["supplier"], lines=[line], actor=request.user
                )
                messages.success(request, _("Purchase order %(number)s created.") % {"number": order.number})
                return redirect("production:material_supply")
            except ApplicationError as exc:
                _form_errors(form, exc)
        status = 400
    context = {
        "orders": selectors.purchase_orders(open_only=request.GET.get("all") != "1")[:200],
        "form": form,
        "receive_form": ReceiveForm(),
        "can_buy": allowed(request.user, stock.MANAGE_PURCHASING),
        "can_receive": allowed(request.user, stock.MANAGE_STOCK),
    }
    return render(request, "production/materials/supply.html", context, status=status)


@require_POST
@permission_required(stock.MANAGE_STOCK, raise_exception=True)
def receive(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    line = get_object_or_404(PurchaseOrderLine.objects.select_related("purchase_order", "item"), pk=pk)
    form = ReceiveForm(request.POST)
    if form.is_valid():
        try:
            stock.purchase_order_receive(
                line=line,
                quantity=form.cleaned_data["quantity"],
                location=form.cleaned_data["location"],
                actor=request.user,
            )
            messages.success(
                request,
                _("Received %(quantity)s %(unit)s of %(item)s.")
                % {
                    "quantity": form.cleaned_data["quantity"].normalize(),
                    "unit": line.item.unit,
                    "item": line.item.code,
                },
            )
            return redirect("production:material_supply")
        except ApplicationError as exc:
            _form_errors(form, exc)
    messages.error(request, "; ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("production:material_supply")


def _import_permitted(request: AuthenticatedRequest) -> list[tuple[str, str]]:
    return [
        (kind, str(label))
        for kind, (label, permission, _columns, _required) in imports.KINDS.items()
        if allowed(request.user, permission)
    ]


@permission_required(VIEW, raise_exception=True)
def import_page(request: AuthenticatedRequest) -> HttpResponse:
    kinds = _import_permitted(request)
    if not kinds:
        raise Http404(_("No such page."))
    result, errors, status = None, [], 200
    if request.method == "POST":
        kind, upload = request.POST.get("kind", ""), request.FILES.get("file")
        if kind not in dict(kinds):
            errors.append(_("Choose what to import."))
        elif upload is None:
            errors.append(_("Choose a file to upload."))
        else:
            try:
                result = imports.materials_import(
                    actor=request.user,
                    kind=kind,
                    filename=upload.name or "",
                    content=upload.read(),
                    encoding=request.POST.get("encoding", "utf-8"),
                )
            except ApplicationError as exc:
                errors = [m for problems in exc.fields.values() for m in problems] or [exc.message]
        if errors or (result and result.errors):
            status = 400
    context = {"kinds": kinds, "result": result, "errors": errors, "encodings": ENCODINGS}
    return render(request, "production/materials/import.html", context, status=status)


@permission_required(VIEW, raise_exception=True)
def import_template(
    request: AuthenticatedRequest, kind: str, fmt: str
) -> HttpResponse | StreamingHttpResponse:
    if kind not in dict(_import_permitted(request)) or fmt not in FORMATS:
        raise Http404(_("Unknown format."))
    return table_response(
        fmt=fmt, filename=f"orderbridge-{kind}-import", columns=imports.template_headers(kind), rows=[]
    )
