"""Forms of the change-request pages. They parse and render; the rules stay in
orders.change_requests (operations.py holds each change's checks).

A CR form is a reason plus rows, one change per row. A row's inputs depend on its op (and, for spec
changes, on the family of the line or product chosen): htmx re-renders a row when its op, line or product
changes; without JavaScript the "update the form" button does the same.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from config.forms import add_errors as _add_errors
from config.forms import date_form_field as _date_field
from orders.catalog import SPEC_PREFIX, spec_fields
from orders.catalog import spec_form_field as _spec_form_field
from orders.catalog.models import Product
from orders.change_requests.models import Disposition
from orders.change_requests.operations import OP_LABELS, OPS
from orders.sales.models import SalesOrder

ROW_ERROR_KEY = re.compile(r"^changes\[(\d+)\](?:\.(.+))?$")
MAX_ROWS = 20
LINE_OPS = ("set_quantity", "set_line_due_date", "set_spec", "remove_line")


class ChangeRowForm(forms.Form):
    """One proposed change. Fields are added for the chosen op only."""

    op = forms.ChoiceField(label=_("Change"), choices=[("", "—"), *((op, OP_LABELS[op]) for op in OPS)])

    def __init__(self, *args: Any, order: SalesOrder, products: Sequence[Product], row_url: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        self.products = {p.sku: p for p in products}
        lines = list(order.lines.all())
        self.lines = {line.line_no: line for line in lines}
        attrs = {
            "hx-get": row_url,
            "hx-trigger": "change",
            "hx-target": f"#{self.prefix}-row",
            "hx-swap": "outerHTML",
            "hx-include": f"#{self.prefix}-row",
            "hx-vals": f'{{"prefix": "{self.prefix}"}}',
        }
        self.fields["op"].widget.attrs.update(attrs)
        self.op = self._value("op")
        if self.op in LINE_OPS:
            self.fields["line_no"] = forms.TypedChoiceField(
                label=_("Line"),
                coerce=int,
                choices=[("", "—")]
                + [
                    (line.line_no, f"{line.line_no} · {line.product.sku} · {line.quantity.normalize():f}")
                    for line in lines
                ],
            )
            if self.op == "set_spec":  # the line's family decides the spec inputs
                self.fields["line_no"].widget.attrs.update(attrs)
        if self.op in ("set_quantity", "add_line"):
            self.fields["quantity"] = forms.DecimalField(
                label=_("New quantity") if self.op == "set_quantity" else _("Quantity"),
                widget=forms.NumberInput(attrs={"step": "any", "min": 0}),
            )
        if self.op == "set_date":
            self.fields["field"] = forms.ChoiceField(
                label=_("Date"),
                choices=[("promised_date", _("Promised date")), ("requested_date", _("Requested date"))],
            )
        if self.op == "set_time":
            self.fields["field"] = forms.ChoiceField(
                label=_("Time"),
                choices=[
                    ("promised_time", _("Promised time")),
                    ("start_not_before", _("Production not before")),
                ],
            )
            self.fields["value"] = forms.CharField(
                label=_("New time"),
                required=False,
                max_length=40,
                help_text=_("HH:MM for the promised time; YYYY-MM-DD HH:MM for production; empty clears it."),
            )
        if self.op in ("set_date", "set_line_due_date"):
            self.fields["value"] = _date_field(_("New date"))
            self.fields["value"].required = True
        spec_schema, spec_initial = None, {}
        if self.op == "add_line":
            self.fields["product"] = forms.ChoiceField(
                label=_("Product"),
                choices=[("", "—")] + [(p.sku, f"{p.sku} · {p.name}") for p in products],
            )
            self.fields["product"].widget.attrs.update(attrs)
            self.fields["due_date"] = _date_field(_("Line due date"))
            product = self.products.get(self._value("product") or "")
            if product is not None:
                spec_schema = product.family.spec_schema
        if self.op == "set_spec":
            line = self._line()
            if line is not None:
                spec_schema, spec_initial = line.product.family.spec_schema, line.spec_values
        self.spec_names: list[str] = []
        for meta in spec_fields(spec_schema or {}):
            name = SPEC_PREFIX + meta["name"]
            self.fields[name] = _spec_form_field(meta)
            value = spec_initial.get(meta["name"], meta["default"])
            if value is not None and name not in self.initial:
                self.initial[name] = str(value) if meta["enum"] else value
            self.spec_names.append(name)

    def _value(self, name: str) -> Any:
        if self.is_bound:
            return self.data.get(self.add_prefix(name))
        return self.initial.get(name)

    def _line(self):
        try:
            return self.lines.get(int(self._value("line_no")))
        except (TypeError, ValueError):
            return None

    @property
    def current_values(self) -> list[tuple[str, str]]:
        """What the order holds now for the chosen change, shown beside the new value (label, value)."""
        line = self._line() if self.op in LINE_OPS else None
        if self.op in LINE_OPS and line is None:
            return []
        if self.op in ("set_quantity", "remove_line") and line is not None:
            return [(str(_("Quantity")), f"{line.quantity.normalize():f}")]
        if self.op == "set_line_due_date" and line is not None:
            return [(str(_("Line due date")), line.due_date.isoformat() if line.due_date else "—")]
        if self.op == "set_date":
            field = self._value("field")
            if field in ("promised_date", "requested_date"):
                value = getattr(self.order, field)
                return [(str(self.fields["field"].label), value.isoformat() if value else "—")]
        if self.op == "set_spec" and line is not None:
            now = []
            for name in self.spec_names:
                value = line.spec_values.get(name.removeprefix(SPEC_PREFIX))
                choices = dict(getattr(self.fields[name], "choices", []) or [])
                shown = choices.get(str(value), value) if value not in (None, "") else "—"
                now.append((str(self.fields[name].label), str(shown)))
            return now
        return []

    @property
    def spec_inputs(self) -> list[forms.BoundField]:
        return [self[name] for name in self.spec_names]

    @property
    def value_fields(self) -> list[forms.BoundField]:
        return [
            self[name]
            for name in ("line_no", "field", "quantity", "value", "product", "due_date")
            if name in self.fields
        ]

    def change(self) -> dict[str, Any]:
        """The change as the service takes it (only valid forms)."""
        data = self.cleaned_data
        change: dict[str, Any] = {"op": data["op"]}
        for name in ("line_no", "field", "product"):
            if name in data:
                change[name] = data[name]
        if "quantity" in data:
            change["quantity"] = str(data["quantity"]) if data["quantity"] is not None else None
        for name in ("value", "due_date"):
            if name in data:
                value = data[name]
                change[name] = (value if isinstance(value, str) else value.isoformat()) if value else None
        if self.spec_names:
            spec = {}
            for name in self.spec_names:
                value = data.get(name)
                if value is not None and value != "":
                    spec[name.removeprefix(SPEC_PREFIX)] = value
            change["spec_values"] = spec
        return change


class ChangeRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the order must change: shown to the approvers and kept in the order's history."),
    )
    base_revision = forms.IntegerField(widget=forms.HiddenInput)


def change_rows(
    data: Any, *, order: SalesOrder, products: Sequence[Product], row_url: str
) -> list[ChangeRowForm]:
    """The rows of a posted CR form (or one empty row)."""
    if data is None:
        return [ChangeRowForm(prefix="changes-0", order=order, products=products, row_url=row_url)]
    try:
        total = min(MAX_ROWS, max(1, int(data.get("changes-TOTAL", "1"))))
    except ValueError:
        total = 1
    return [
        ChangeRowForm(data, prefix=f"changes-{i}", order=order, products=products, row_url=row_url)
        for i in range(total)
    ]


def rows_from_changes(
    changes: list[dict], *, order: SalesOrder, products: Sequence[Product], row_url: str
) -> list[ChangeRowForm]:
    """The rows of a saved CR (a draft being edited), filled in with its changes."""
    rows = []
    for index, change in enumerate(changes[:MAX_ROWS] or [{}]):
        initial = {key: value for key, value in change.items() if key != "spec_values"}
        for key, value in (change.get("spec_values") or {}).items():
            initial[SPEC_PREFIX + key] = str(value) if isinstance(value, str) else value
        rows.append(
            ChangeRowForm(
                initial=initial, prefix=f"changes-{index}", order=order, products=products, row_url=row_url
            )
        )
    return rows


def apply_change_errors(error_fields: dict[str, list[str]], *, header: forms.Form, rows: list[ChangeRowForm]):
    """Put the service's field messages on the inputs; return those that fit none."""
    leftovers: list[str] = []
    for key, messages in error_fields.items():
        match = ROW_ERROR_KEY.match(key)
        if match and int(match.group(1)) < len(rows):
            row, name = rows[int(match.group(1))], match.group(2) or ""
            if name.startswith("spec_values."):
                name = SPEC_PREFIX + name.removeprefix("spec_values.")
            if name in row.fields:
                _add_errors(row, name, messages)
            else:
                _add_errors(row, None, messages)
            continue
        if key in header.fields and key != "base_revision":
            _add_errors(header, key, messages)
            continue
        leftovers.extend(messages)
    return leftovers


class DecisionForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    disposition = forms.ChoiceField(
        label=_("Disposition of quantity already made"),
        required=False,
        choices=[("", "—"), *Disposition.choices],
    )
