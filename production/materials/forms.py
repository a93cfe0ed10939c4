"""Forms of the materials pages: they parse input; the services decide."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from production.master_data import Operation
from production.materials.models import Bom, BomLine, Item, Location


class StyledForm(forms.Form):
    """Bootstrap's classes on every widget (set here: the templates render fields as they are)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select form-select-sm")
            else:
                widget.attrs.setdefault("class", "form-control form-control-sm")


class ItemChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class BomLineForm(StyledForm):
    component = ItemChoiceField(
        label=_("Component"), queryset=Item.objects.filter(is_active=True), required=False
    )
    quantity = forms.DecimalField(
        label=_("Quantity per unit"), min_value=Decimal("0.000001"), decimal_places=6
    )
    scrap_percent = forms.DecimalField(
        label=_("Scrap %"), min_value=Decimal(0), max_value=Decimal("99.99"), decimal_places=2, initial=0
    )
    operation = forms.ModelChoiceField(
        label=_("Consuming operation"), queryset=Operation.objects.none(), required=False
    )
    condition_attribute = forms.CharField(label=_("Only when spec attribute"), max_length=64, required=False)
    condition_value = forms.CharField(label=_("has the value"), max_length=120, required=False)
    variant_attribute = forms.CharField(
        label=_("Component chosen by spec attribute"), max_length=64, required=False
    )
    component_template = forms.CharField(
        label=_("Component code template"),
        max_length=64,
        required=False,
        help_text=_("{value} is replaced by the spec value, e.g. PWD-{value}."),
    )
    quantity_attribute = forms.CharField(
        label=_("Quantity driven by spec attribute"), max_length=64, required=False
    )
    quantity_factor = forms.DecimalField(label=_("Quantity factor"), decimal_places=6, initial=1)

    def __init__(self, *args: Any, bom: Bom, line: BomLine | None = None, **kwargs: Any) -> None:
        if line is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                name: getattr(line, name)
                for name in self.base_fields
                if name not in ("component", "operation")
            } | {"component": line.component_id, "operation": line.operation_id}
        super().__init__(*args, **kwargs)
        operation_field = self.fields["operation"]
        assert isinstance(operation_field, forms.ModelChoiceField)
        operation_field.queryset = (
            Operation.objects.filter(routing__product_id=bom.item.product_id)
            if bom.item.product_id is not None
            else Operation.objects.none()
        )
        component_field = self.fields["component"]
        assert isinstance(component_field, forms.ModelChoiceField)
        component_field.queryset = Item.objects.filter(is_active=True).exclude(pk=bom.item_id)


class BomVersionForm(StyledForm):
    effective_from = forms.DateField(
        label=_("Effective from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    effective_to = forms.DateField(
        label=_("Effective to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class AdjustForm(StyledForm):
    item = ItemChoiceField(label=_("Item"), queryset=Item.objects.filter(is_active=True))
    location = forms.ModelChoiceField(label=_("Location"), queryset=Location.objects.filter(is_active=True))
    quantity = forms.DecimalField(label=_("Quantity (+/-)"), decimal_places=6)
    counted = forms.BooleanField(label=_("This is a count (set the stock to the quantity)"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=500)


class ReceiveForm(StyledForm):
    quantity = forms.DecimalField(
        label=_("Quantity received"), min_value=Decimal("0.000001"), decimal_places=6
    )
    location = forms.ModelChoiceField(
        label=_("Location"), queryset=Location.objects.filter(is_active=True), required=False
    )


class PurchaseOrderForm(StyledForm):
    supplier = forms.CharField(label=_("Supplier"), max_length=200)
    item = ItemChoiceField(label=_("Item"), queryset=Item.objects.filter(is_active=True))
    quantity = forms.DecimalField(label=_("Quantity"), min_value=Decimal("0.000001"), decimal_places=6)
    expected_date = forms.DateField(label=_("Expected date"), widget=forms.DateInput(attrs={"type": "date"}))
