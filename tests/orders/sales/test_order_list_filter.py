"""The order list's customer filter: every customer offered, written without one template include per option,
the page in a bounded number of queries whatever the number of customers."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.urls import reverse

from config.forms import LightSelect
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CHOICES = [("", "All customers"), (1, "A & B <Panels>"), (2, "Zhōng 中")]


def _options(html: str) -> list[str]:
    return re.findall(r"<option[^>]*>[^<]*</option>", str(html))


def test_the_light_select_writes_the_same_options_as_django_select():
    light = LightSelect(choices=CHOICES).render("customer", 2, attrs={"id": "id_customer", "class": "x"})
    plain = forms.Select(choices=CHOICES).render("customer", 2, attrs={"id": "id_customer", "class": "x"})

    assert _options(light) == _options(plain)
    assert '<option value="2" selected>Zhōng 中</option>' in light
    assert "A &amp; B &lt;Panels&gt;" in light
    assert light.startswith('<select class="x" id="id_customer" name="customer">')


def test_the_order_list_offers_every_customer_in_a_bounded_number_of_queries(
    client, planner, django_assert_max_num_queries
):
    customers = CustomerFactory.create_batch(60)
    client.force_login(planner)

    with django_assert_max_num_queries(10):
        response = client.get(reverse("orders:order_list"), {"customer": customers[5].pk})

    html = response.content.decode()
    assert response.status_code == 200
    assert f'<option value="{customers[5].pk}" selected>' in html
    assert len(re.findall(r'<option value="\d+"', html)) >= 60
