"""The floor's part of `manage.py setup_demo`: the plant (mode from ORDERBRIDGE_PLANT_MODE), scrap and rework
reasons in both languages, and two operators with a badge and a PIN (printed once with the figures)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from orders.demo import DemoContext
from production.floor.models import ReasonCode, ReasonKind
from production.floor.services import operator_badge_set
from production.master_data import Plant, plant_save

REASONS = (
    ("S-DIM", ReasonKind.SCRAP, "Dimension out of tolerance", "尺寸超差"),
    ("S-SCR", ReasonKind.SCRAP, "Scratched surface", "表面划伤"),
    ("S-MAT", ReasonKind.SCRAP, "Material defect", "材料缺陷"),
    ("R-BUR", ReasonKind.REWORK, "Burr to remove", "去毛刺"),
    ("R-PNT", ReasonKind.REWORK, "Paint touch-up", "补漆"),
    ("R-WLD", ReasonKind.REWORK, "Weld to redo", "焊缝返修"),
)
# (username, badge, first name, last name)
OPERATORS = (("operator1", "1001", "Olivia", "Zhang"), ("operator2", "1002", "Omar", "Li"))


def floor_demo(ctx: DemoContext) -> None:
    admin = ctx.actors["admin"]
    if not Plant.objects.exists():
        plant_save(
            actor=admin,
            plant=Plant(
                code="MAIN",
                name="Main plant",
                mode=settings.PLANT_MODE,
                floor_language="zh-hans" if settings.LANGUAGE_CODE == "zh-hans" else "en",
            ),
            reason="Demo data",
        )
    for sort_order, (code, kind, name_en, name_zh) in enumerate(REASONS):
        ReasonCode.objects.get_or_create(
            code=code,
            defaults={"kind": kind, "name_en": name_en, "name_zh_hans": name_zh, "sort_order": sort_order},
        )
    User = get_user_model()
    group = Group.objects.get(name="operator")
    for username, badge, first_name, last_name in OPERATORS:
        if User.objects.filter(username=username).exists():
            continue
        user = User(username=username, first_name=first_name, last_name=last_name)
        user.set_unusable_password()  # operators sign in with badge and PIN only
        user.save()
        user.groups.add(group)
        pin = str(ctx.rng.randrange(100000, 1000000))
        operator_badge_set(user=user, badge=badge, pin=pin)
        # Printed with the demo's figures: "operator badge 1001, PIN: 482913".
        ctx.counts[f"operator badge {badge}, PIN"] = int(pin)
