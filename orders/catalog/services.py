"""Every write to customers, product families and products.

Each function is keyword-only, runs in one transaction, checks the actor's permission (every door: API,
admin, commands) and records the actor and the reason in history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from config.kernel import ValidationFailed, require, stamp
from orders.catalog.models import Customer, Product, ProductFamily
from orders.catalog.specs import schema_errors
from orders.validation import full_clean, unique_constraints

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_stubs_ext import StrOrPromise

CUSTOMER_FIELDS = ("code", "name", "tier", "crm_id", "email", "phone", "address", "language", "is_active")


def _save(instance: Customer | ProductFamily | Product, *, actor: User | None, reason: StrOrPromise) -> None:
    """Check the record's fields, tell history who and why, save."""
    full_clean(instance)
    stamp(instance, actor=actor, reason=reason)
    with unique_constraints(instance):
        instance.save()


@transaction.atomic
def customer_create(*, actor: User | None, reason: StrOrPromise = "", **data: Any) -> Customer:
    require(actor, "orders.add_customer", action="customer_create", target=str(data.get("code", "-")))
    customer = Customer(**{key: value for key, value in data.items() if key in CUSTOMER_FIELDS})
    _save(customer, actor=actor, reason=reason or _("Customer created"))
    return customer


@transaction.atomic
def customer_update(
    *, actor: User | None, customer: Customer, reason: StrOrPromise = "", **data: Any
) -> Customer:
    require(actor, "orders.change_customer", action="customer_update", target=customer.code)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    for key, value in data.items():
        if key in CUSTOMER_FIELDS:
            setattr(customer, key, value)
    _save(customer, actor=actor, reason=reason or _("Customer updated"))
    return customer


def _check_family_schema(schema: Any) -> None:
    problems = schema_errors(schema)
    if problems:
        raise ValidationFailed(_("The spec schema is not valid."), fields={"spec_schema": problems})


@transaction.atomic
def product_family_create(
    *,
    actor: User | None,
    code: str,
    name: str,
    spec_schema: dict[str, Any] | None = None,
    description: str = "",
    name_zh: str = "",
    reason: StrOrPromise = "",
) -> ProductFamily:
    require(actor, "orders.add_productfamily", action="product_family_create", target=code)
    spec_schema = spec_schema or {"type": "object", "properties": {}}
    _check_family_schema(spec_schema)
    family = ProductFamily(
        code=code, name=name, name_zh=name_zh, description=description, spec_schema=spec_schema
    )
    _save(family, actor=actor, reason=reason or _("Product family created"))
    return family


@transaction.atomic
def product_family_update(
    *, actor: User | None, family: ProductFamily, reason: StrOrPromise = "", **data: Any
) -> ProductFamily:
    require(actor, "orders.change_productfamily", action="product_family_update", target=family.code)
    family = ProductFamily.objects.select_for_update().get(pk=family.pk)
    if "spec_schema" in data:
        _check_family_schema(data["spec_schema"])
    for key in ("code", "name", "name_zh", "description", "spec_schema"):
        if key in data:
            setattr(family, key, data[key])
    _save(family, actor=actor, reason=reason or _("Product family updated"))
    return family


@transaction.atomic
def product_create(
    *,
    actor: User | None,
    sku: str,
    name: str,
    family: ProductFamily,
    unit: str = "pcs",
    is_active: bool = True,
    name_zh: str = "",
    reason: StrOrPromise = "",
) -> Product:
    require(actor, "orders.add_product", action="product_create", target=sku)
    product = Product(sku=sku, name=name, name_zh=name_zh, family=family, unit=unit, is_active=is_active)
    _save(product, actor=actor, reason=reason or _("Product created"))
    return product


@transaction.atomic
def product_update(
    *, actor: User | None, product: Product, reason: StrOrPromise = "", **data: Any
) -> Product:
    require(actor, "orders.change_product", action="product_update", target=product.sku)
    product = Product.objects.select_for_update().get(pk=product.pk)
    for key in ("sku", "name", "name_zh", "family", "unit", "is_active"):
        if key in data:
            setattr(product, key, data[key])
    _save(product, actor=actor, reason=reason or _("Product updated"))
    return product
