"""Factories for test data. Orders are made through the services, so tests see what users see."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from orders import sales
from orders.models import Customer, CustomerTier, Product, ProductFamily
from orders.sales import transitions

PANEL_SCHEMA = {
    "type": "object",
    "properties": {
        "material": {
            "type": "string",
            "title": "Material",
            "x-title": {"zh-hans": "材质"},
            "enum": ["steel", "aluminium", "stainless"],
        },
        "thickness_mm": {
            "type": "number",
            "title": "Thickness",
            "x-unit": "mm",
            "minimum": 0.5,
            "maximum": 20,
        },
        "finish": {"type": "string", "title": "Finish", "enum": ["raw", "powder", "anodised"]},
        "colour": {"type": "string", "title": "Colour", "pattern": "^RAL [0-9]{4}$"},
    },
    "required": ["material", "thickness_mm"],
    "additionalProperties": False,
}


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pass-w0rd!")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))
            if extracted == "admin":
                self.is_staff = True
        if create:
            self.save()


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    code = factory.Sequence(lambda n: f"C{n:04d}")
    name = factory.Sequence(lambda n: f"Customer {n} Ltd")
    tier = CustomerTier.STANDARD


class ProductFamilyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductFamily

    code = factory.Sequence(lambda n: f"FAM{n}")
    name = factory.Sequence(lambda n: f"Family {n}")
    spec_schema = factory.LazyFunction(lambda: dict(PANEL_SCHEMA))


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Panel {n}")
    family = factory.SubFactory(ProductFamilyFactory)
    unit = "pcs"


def valid_spec() -> dict:
    return {"material": "steel", "thickness_mm": 2.5, "finish": "powder", "colour": "RAL 9010"}


def in_days(days: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def make_order(
    *,
    owner=None,
    customer=None,
    product=None,
    lines: int = 1,
    confirmed: bool = False,
    promised: bool = True,
    **kwargs,
):
    owner = owner or UserFactory(role="sales")
    customer = customer or CustomerFactory()
    product = product or ProductFactory()
    order = sales.order_create(
        actor=owner,
        customer=customer,
        lines=[
            {"product": product.pk, "quantity": Decimal("10") * (i + 1), "spec_values": valid_spec()}
            for i in range(lines)
        ],
        requested_date=kwargs.pop("requested_date", in_days(30)),
        promised_date=kwargs.pop("promised_date", in_days(35) if promised else None),
        **kwargs,
    )
    if confirmed:
        order = transitions.order_confirm(actor=owner, order=order)
    return order


# Start production or complete an order by hand, ahead of its work orders: a production manager's override
# (orders.sales.overrides). For tests whose orders have no work made through the hub.
OVERRIDE_REASON = "Made outside the hub (test)"


def _override_manager():
    return UserFactory(username="morgan", role="production_manager")


def start_by_hand(order, *, actor=None, reason: str = OVERRIDE_REASON):
    return transitions.order_start_production(
        actor=actor or _override_manager(), order=order, reason=reason, override=True
    )


def complete_by_hand(order, *, actor=None, reason: str = OVERRIDE_REASON):
    return transitions.order_complete(
        actor=actor or _override_manager(), order=order, reason=reason, override=True
    )
