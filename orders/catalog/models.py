"""Customers and the catalog (product families, products): the master data every order keys on.

Model module: imports only other model modules and the kernel (it loads while `orders.models` does).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from config.history import HistoricalRecords
from config.kernel.names import localized


class CustomerTier(models.TextChoices):
    STANDARD = "standard", _("Standard")
    KEY = "key", _("Key")
    VIP = "vip", _("VIP")


# An order's priority; here because a customer's tier sets its orders' default (TIER_PRIORITY).
class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


# A customer's tier sets the default priority of its orders (VIP orders are scheduled first).
TIER_PRIORITY = {
    CustomerTier.STANDARD: Priority.NORMAL,
    CustomerTier.KEY: Priority.HIGH,
    CustomerTier.VIP: Priority.URGENT,
}


class Customer(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    tier = models.CharField(
        _("tier"), max_length=16, choices=CustomerTier.choices, default=CustomerTier.STANDARD
    )
    crm_id = models.CharField(_("CRM id"), max_length=64, blank=True, db_index=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    address = models.TextField(_("address"), blank=True)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="en")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["crm_id"], condition=~Q(crm_id=""), name="customer_crm_id_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    @property
    def default_priority(self) -> int:
        return TIER_PRIORITY[CustomerTier(self.tier)]


class CustomerContact(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("customer")
    )
    name = models.CharField(_("name"), max_length=120)
    role = models.CharField(_("role"), max_length=80, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "name"]

    def __str__(self) -> str:
        return self.name


class ProductFamily(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    # The name on Chinese pages (the English name when empty).
    name_zh = models.CharField(_("Chinese name"), max_length=120, blank=True, default="", db_default="")
    description = models.TextField(_("description"), blank=True)
    # JSON Schema (draft 2020-12) of the structured spec attributes an order line of this family carries.
    spec_schema = models.JSONField(_("spec schema"), default=dict, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("product family")
        verbose_name_plural = _("product families")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return localized(self.name, self.name_zh)


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    # The name on Chinese pages and a Chinese customer's tracking page (the English name when empty).
    name_zh = models.CharField(_("Chinese name"), max_length=200, blank=True, default="", db_default="")
    family = models.ForeignKey(
        ProductFamily, on_delete=models.PROTECT, related_name="products", verbose_name=_("product family")
    )
    unit = models.CharField(_("unit"), max_length=16, default="pcs")
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku"]

    def __str__(self) -> str:
        return f"{self.sku} · {self.display_name}"

    @property
    def display_name(self) -> str:
        return localized(self.name, self.name_zh)
