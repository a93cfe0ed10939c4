"""Allowed spec values read by their labels in the reader's language; codes stay what is stored and sent."""

from __future__ import annotations

import csv
import io

import pytest
from django.utils import translation

from orders import demo
from orders.catalog import spec_display, spec_fields, spec_form_field, spec_value_errors
from orders.imports.sheets import SPEC_PREFIX, template_file
from orders.models import Customer, Product, ProductFamily


def enclosure_field(name: str) -> dict:
    return next(field for field in spec_fields(demo.ENCLOSURE_SCHEMA) if field["name"] == name)


def test_an_order_lines_spec_values_read_by_their_chinese_labels():
    with translation.override("zh-hans"):
        shown = dict(spec_display(demo.ENCLOSURE_SCHEMA, {"material": "steel_dc01", "finish": "powder_coat"}))
    assert shown == {"材质": "冷轧钢 DC01", "表面处理": "粉末喷涂"}


def test_an_order_lines_spec_values_read_by_their_english_labels():
    with translation.override("en"):
        shown = dict(spec_display(demo.PACKAGING_SCHEMA, {"packaging": "bundles_of_100"}))
    assert shown == {"Packaging": "Bundles of 100"}


def test_a_spec_choice_offers_labels_and_submits_codes():
    with translation.override("zh-hans"):
        field = spec_form_field(enclosure_field("finish"))
    assert ("powder_coat", "粉末喷涂") in field.choices
    assert field.clean("powder_coat") == "powder_coat"


def test_a_value_without_a_label_reads_as_itself():
    shown = dict(spec_display(demo.ENCLOSURE_SCHEMA, {"ip_rating": "IP65"}))
    assert shown == {"IP rating": "IP65"}


def test_the_ral_colour_is_marked_required_and_says_when():
    with translation.override("en"):
        field = spec_form_field(enclosure_field("ral_colour"))
    assert field.spec_required is True
    assert field.help_text == "Required for powder coat, e.g. RAL 7035."


def test_the_ral_colours_hint_is_chinese_on_a_chinese_page():
    with translation.override("zh-hans"):
        field = spec_form_field(enclosure_field("ral_colour"))
    assert field.help_text == "粉末喷涂时必填,例如 RAL 7035。"


def test_an_attribute_required_only_under_a_condition_without_a_hint_gets_one_from_the_schema():
    schema = {
        **demo.ENCLOSURE_SCHEMA,
        "properties": {**demo.ENCLOSURE_SCHEMA["properties"], "ral_colour": {"type": "string"}},
    }
    with translation.override("en"):
        ral = next(field for field in spec_fields(schema) if field["name"] == "ral_colour")
    assert ral["description"] == "Required when Finish is Powder coat."


@pytest.mark.django_db
def test_the_import_templates_example_row_passes_the_spec_checks():
    family = ProductFamily.objects.create(code="ENCL", name="Enclosures", spec_schema=demo.ENCLOSURE_SCHEMA)
    Product.objects.create(sku="ENCL-A", name="Enclosure", family=family)
    Customer.objects.create(code="C1", name="Acme")
    content, _type = template_file("csv")
    header, example = list(csv.reader(io.StringIO(content.decode("utf-8"))))[:2]
    row = dict(zip(header, example, strict=True))
    spec = {k.removeprefix(SPEC_PREFIX): v for k, v in row.items() if k.startswith(SPEC_PREFIX) and v}
    spec["thickness_mm"] = float(spec["thickness_mm"])
    assert spec["finish"] == "powder_coat"
    assert spec_value_errors(demo.ENCLOSURE_SCHEMA, spec) == {}
