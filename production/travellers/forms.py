"""The print options of a traveller (paper, language, customer shown) and the shift print's choice."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from production.master_data import WorkCenter
from production.travellers.pdf import PAPER_SIZES
from production.travellers.selectors import ShiftWindow, active_work_centers, shift_choices, shift_window


def shift_value(start: dt.time, end: dt.time) -> str:
    return f"{start:%H:%M}-{end:%H:%M}"


class PrintOptionsForm(forms.Form):
    """Read from the query string: ?paper=A5&lang=zh-hans&hide_customer=1."""

    paper = forms.ChoiceField(
        label=_("Paper"),
        choices=[(size, size) for size in PAPER_SIZES],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    lang = forms.ChoiceField(
        label=_("Language"),
        choices=[("", _("The plant's language")), *settings.LANGUAGES],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    hide_customer = forms.BooleanField(
        label=_("Hide the customer"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def options(self, *, plant_language: str) -> tuple[str, str, bool]:
        """(paper, language, show_customer) of a valid form, with the defaults filled in (the language: the
        plant's, `plant_language`)."""
        data = self.cleaned_data
        return (
            data.get("paper") or PAPER_SIZES[0],
            data.get("lang") or plant_language,
            not data.get("hide_customer"),
        )


class ShiftPrintForm(PrintOptionsForm):
    day = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date", "class": "form-control"})
    )
    shift = forms.ChoiceField(
        label=_("Shift"), required=False, widget=forms.Select(attrs={"class": "form-select"})
    )
    work_centers = forms.ModelMultipleChoiceField(
        label=_("Work centers"),
        queryset=WorkCenter.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"class": "form-select", "size": 8}),
        help_text=_("None chosen: every work center."),
    )

    field_order = ["day", "shift", "work_centers", "paper", "lang", "hide_customer"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        shift = self.fields["shift"]
        centers = self.fields["work_centers"]
        assert isinstance(shift, forms.ChoiceField)
        assert isinstance(centers, forms.ModelMultipleChoiceField)
        shift.choices = [("", _("Whole day"))] + [
            (shift_value(start, end), shift_value(start, end)) for start, end in shift_choices()
        ]
        centers.queryset = active_work_centers()
        self.fields["day"].initial = timezone.localdate()

    def window(self) -> ShiftWindow:
        shift = self.cleaned_data.get("shift")
        start = end = None
        if shift:
            first, last = shift.split("-")
            start, end = dt.time.fromisoformat(first), dt.time.fromisoformat(last)
        return shift_window(day=self.cleaned_data["day"], start=start, end=end)

    def work_center_ids(self) -> list[int]:
        return [center.pk for center in self.cleaned_data.get("work_centers") or []]
