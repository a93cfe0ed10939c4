"""Reads of customers and the catalog (the choices of order forms and pages)."""

from __future__ import annotations

from django.db.models import QuerySet

from orders.catalog.models import Customer, Product, ProductFamily


def customers_active() -> QuerySet[Customer]:
    return Customer.objects.filter(is_active=True).order_by("name")


def products_active() -> QuerySet[Product]:
    return Product.objects.filter(is_active=True).select_related("family").order_by("sku")


def product_families() -> QuerySet[ProductFamily]:
    return ProductFamily.objects.order_by("code")
