"""Customers and the catalog: what other packages may call (writes through services, reads, spec checks,
the form inputs of spec attributes).

Models: `orders.models` (or `orders.catalog.models`). Everything else in this package is private to it.
"""

from orders.catalog.forms import SPEC_PREFIX, SpecInput, spec_form_field
from orders.catalog.selectors import customers_active, product_families, products_active
from orders.catalog.services import (
    CUSTOMER_FIELDS,
    customer_create,
    customer_update,
    product_create,
    product_family_create,
    product_family_update,
    product_update,
)
from orders.catalog.specs import (
    schema_errors,
    spec_display,
    spec_fields,
    spec_text,
    spec_value_errors,
    spec_value_label,
)

__all__ = [
    "CUSTOMER_FIELDS",
    "SPEC_PREFIX",
    "SpecInput",
    "customer_create",
    "customer_update",
    "customers_active",
    "product_create",
    "product_families",
    "product_family_create",
    "product_family_update",
    "product_update",
    "products_active",
    "schema_errors",
    "spec_display",
    "spec_fields",
    "spec_form_field",
    "spec_text",
    "spec_value_errors",
    "spec_value_label",
]
