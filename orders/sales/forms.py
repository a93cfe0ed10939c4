"""Forms of the order pages: they parse input and render it back; every business rule stays in services.

Field errors that a service raises (`ApplicationError.fields`, e.g. "lines[1].spec_values.material") are put
back on the field that caused them with `apply_service_errors`, so a user sees one kind of error display
whichever layer refused the input.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config.forms import LightSelect, add_errors, date_form_field
from config.kernel.errors import ApplicationError
from orders.catalog import SPEC_PREFIX, spec_fields, spec_form_field
from orders.catalog.models import Customer, Priority, Product
from orders.sales.editing import ORDER_FIELDS
from orders.sales.models import OrderStatus
from orders.sales.rules import LineInput

LINE_ERROR_KEY = re.compile(r"^lines\[(\d+)\]\.(.+)$")


# --- order list filters ----------------------------------------------------------------------------------
class OrderFilterForm(forms.Form):
    DATE_FIELDS = [
        ("created_at", _("Created")),
        ("requested_date", _("Requested date")),
        ("promised_date", _("Promised date")),
    ]

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("Order number, customer, CRM id, customer PO"),
                "autocomplete": "off",
            }
        ),
    )
    status = forms.MultipleChoiceField(
        label=_("Status"), required=False, choices=OrderStatus.choices, widget=forms.CheckboxSelectMultiple
    )
    customer = forms.ModelChoiceField(
        label=_("Customer"),
        required=False,
        queryset=Customer.objects.none(),
        empty_label=_("All customers"),
        widget=LightSelect,
    )
    date_field = forms.ChoiceField(label=_("Date"), required=False, choices=DATE_FIELDS)
    date_from = date_form_field(_("From"))
    date_to = date_form_field(_("To"))
    group = forms.ChoiceField(
        label=_("Group by"),
        required=False,
        choices=[
            ("", _("No grouping")),
            ("status", _("Status")),
            ("customer", _("Customer")),
            ("promised_week", _("Promised week")),
        ],
    )

    def __init__(self, *args: Any, customers: QuerySet[Customer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        customer_field = self.fields["customer"]
        assert isinstance(customer_field, forms.ModelChoiceField)
        customer_field.queryset = customers

    def filters(self) -> dict[str, Any]:
        """The selector's keyword arguments; invalid inputs are ignored (their errors are shown)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else getattr(self, "cleaned_data", {})
        customer = data.get("customer")
        return {
            "search": data.get("q") or "",
            "statuses": data.get("status") or None,
            "customer": customer.pk if customer else None,
            "date_field": data.get("date_field") or "created_at",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "group": data.get("group") or "",
        }

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.fields)


# --- order header --------------------------------------------------------------------------------------
class CustomerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Customer) -> str:
        return f"{obj.name} ({obj.code}) · {obj.get_tier_display()}"


class OrderHeaderForm(forms.Form):
    customer = CustomerChoiceField(label=_("Customer"), queryset=Customer.objects.none(), required=False)
    customer_po = forms.CharField(label=_("Customer PO"), max_length=64, required=False)
    crm_id = forms.CharField(label=_("CRM id"), max_length=64, required=False)
    requested_date = date_form_field(_("Requested date"))
    promised_date = date_form_field(_("Promised date"))
    promised_time = forms.TimeField(
        label=_("Promised time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Optional: without a time the promise is due by the end of the day."),
    )
    start_not_before = forms.DateTimeField(
        label=_("Production not before"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=_("Optional: when the material is ready or the drawing approved; no work starts before."),
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        required=False,
        choices=[("", _("From customer tier")), *Priority.choices],
        coerce=int,
        empty_value=None,
    )
    priority_reason = forms.CharField(
        label=_("Priority reason"),
        max_length=300,
        required=False,
        help_text=_("Needed when the priority differs from the customer's tier."),
    )
    remarks = forms.CharField(label=_("Remarks"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(
        label=_("Reason for the change"),
        max_length=300,
        required=False,
        help_text=_("Shown in the order's history."),
    )
    # The version the user read: the service refuses the write if someone changed the order since.
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # "date@plan version", set by the "use this date" button of the delivery-date quote (production).
    promise_quote = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    # The header fields a direct edit may change: the editing service's list.
    FIELDS = ORDER_FIELDS

    def __init__(self, *args: Any, customers: QuerySet[Customer] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if customers is None:  # editing: the customer of an order does not change
            del self.fields["customer"]
        else:
            customer_field = self.fields["customer"]
            assert isinstance(customer_field, forms.ModelChoiceField)
            customer_field.queryset = customers
            del self.fields["version"]
            del self.fields["reason"]

    @classmethod
    def initial_for(cls, order: Any) -> dict[str, Any]:
        initial = {name: getattr(order, name) for name in cls.FIELDS}
        initial.update(
            priority=order.priority if order.priority_overridden else "",
            priority_reason=order.priority_reason,
            version=order.version,
        )
        return initial

    def promise_note(self, *, previous: Any = None) -> str:
        """For history: the promised date was taken from a delivery-date quote (and not changed since)."""
        date_text, _sep, version = (self.cleaned_data.get("promise_quote") or "").partition("@")
        promised = self.cleaned_data.get("promised_date")
        if not promised or promised == previous or date_text != promised.isoformat():
            return ""
        if version.isdigit() and int(version):
            return gettext("promised date from the delivery-date quote (plan version %(version)s)") % {
                "version": version
            }
        return gettext("promised date from the delivery-date quote")

    def service_data(self) -> dict[str, Any]:
        """Header fields as the services take them."""
        data = {name: self.cleaned_data[name] for name in self.FIELDS}
        data["priority"] = self.cleaned_data["priority"]
        data["priority_reason"] = self.cleaned_data["priority_reason"]
        return data


# --- order lines ----------------------------------------------------------------------------------------
def product_choices(products: Sequence[Product]) -> list[tuple[Any, Any]]:
    """Products grouped by family, computed once per page and shared by every line."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for product in products:
        groups.setdefault(product.family.name, []).append((product.pk, f"{product.sku} · {product.name}"))
    return [("", "—"), *groups.items()]


class OrderLineForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    product = forms.TypedChoiceField(label=_("Product"), required=False, coerce=int, empty_value=None)
    quantity = forms.DecimalField(
        label=_("Quantity"), required=False, widget=forms.NumberInput(attrs={"step": "any", "min": 0})
    )
    due_date = date_form_field(_("Line due date"))
    remove = forms.BooleanField(label=_("Remove"), required=False)

    def __init__(
        self,
        *args: Any,
        products: Sequence[Product],
        choices: list | None = None,
        product: Product | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.products = {p.pk: p for p in products}
        product_field = self.fields["product"]
        assert isinstance(product_field, forms.TypedChoiceField)
        product_field.choices = choices if choices is not None else product_choices(products)
        if self.prefix:
            # Choosing another product re-renders this line's spec inputs for the product's family.
            self.fields["product"].widget.attrs.update(
                {
                    "hx-get": reverse("orders:line_spec_fields"),
                    "hx-trigger": "change",
                    "hx-target": f"#{self.prefix}-spec",
                    "hx-include": "this",
                    "hx-vals": json.dumps({"prefix": self.prefix}),
                }
            )
        # Not `self.product`: a template looking up line.product gets the field (form["product"]) first.
        self.chosen_product = product or self._selected_product()
        self.spec_names: list[str] = []
        schema = self.chosen_product.family.spec_schema if self.chosen_product else {}
        spec_initial = (self.initial.get("spec_values") or {}) if self.initial else {}
        for meta in spec_fields(schema or {}):
            name = SPEC_PREFIX + meta["name"]
            self.fields[name] = spec_form_field(meta)
            value = spec_initial.get(meta["name"], meta["default"])
            if value is not None:
                self.initial[name] = str(value) if meta["enum"] else value
            self.spec_names.append(name)

    def _selected_product(self) -> Product | None:
        raw = self.data.get(self.add_prefix("product")) if self.is_bound else self.initial.get("product")
        if raw is None:
            return None
        try:
            return self.products.get(int(raw))
        except (TypeError, ValueError):
            return None

    @property
    def spec_inputs(self) -> list[forms.BoundField]:
        return [self[name] for name in self.spec_names]

    @property
    def is_blank(self) -> bool:
        """An untouched new line (e.g. the spare row of a new order): not sent to the service."""
        return not self.cleaned_data.get("id") and not self.has_changed()

    def service_line(self) -> LineInput:
        data = self.cleaned_data
        spec_values = {}
        for name in self.spec_names:
            value = data.get(name)
            if value is None or value == "":
                continue
            spec_values[name.removeprefix(SPEC_PREFIX)] = value
        return {
            "id": data.get("id"),
            "product": data.get("product"),
            "quantity": data.get("quantity"),
            "due_date": data.get("due_date"),
            "spec_values": spec_values,
        }


class BaseLineFormSet(forms.BaseFormSet):
    def submitted_lines(self) -> tuple[list[LineInput], list[OrderLineForm]]:
        """The lines to send to the service, and the form each came from (same index)."""
        lines: list[LineInput] = []
        sources: list[OrderLineForm] = []
        for form in self.forms:
            if form.cleaned_data.get("remove") or form.is_blank:
                continue
            lines.append(form.service_line())
            sources.append(form)
        return lines, sources


def line_formset(*, extra: int) -> type[BaseLineFormSet]:
    # formset_factory makes a subclass of `formset`; the stubs type it as the base BaseFormSet.
    return cast(
        "type[BaseLineFormSet]", forms.formset_factory(OrderLineForm, formset=BaseLineFormSet, extra=extra)
    )


def line_initial(order: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": line.pk,
            "product": line.product_id,
            # 12.500 → 12.5: the database keeps three decimals, people type and read fewer.
            "quantity": line.quantity.normalize() if line.quantity % 1 else line.quantity.quantize(1),
            "due_date": line.due_date,
            "spec_values": line.spec_values,
        }
        for line in order.lines.all()
    ]


class TransitionForm(forms.Form):
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class OverrideForm(forms.Form):
    """Start production or complete ahead of the work orders: a reason and an explicit confirmation."""

    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown in the order's history and to the order's owner."),
    )
    confirm = forms.BooleanField(label=_("I override the work orders listed above."))


# --- service errors back onto forms ---------------------------------------------------------------------
def apply_service_errors(
    error: ApplicationError, *, header: forms.Form, line_forms: Sequence[OrderLineForm]
) -> list[str]:
    """Put each of the error's field messages on its field; return those that belong to no field."""
    leftovers: list[str] = []
    for key, messages in error.fields.items():
        match = LINE_ERROR_KEY.match(key)
        if match:
            index, name = int(match.group(1)), match.group(2)
            if index < len(line_forms):
                _add_line_error(line_forms[index], name, messages)
                continue
        elif key in header.fields and key != "version":
            add_errors(header, key, messages)
            continue
        if key == "version":  # the stale-write message says it all
            continue
        leftovers.extend(messages)
    return leftovers


def _add_line_error(form: OrderLineForm, name: str, messages: list[str]) -> None:
    if name.startswith("spec_values."):
        field = SPEC_PREFIX + name.removeprefix("spec_values.")
        if field in form.fields:
            add_errors(form, field, messages)
            return
        label = name.removeprefix("spec_values.")
        messages = [f"{label}: {message}" for message in messages]
        name = ""
    add_errors(form, name if name in form.fields else None, messages)
