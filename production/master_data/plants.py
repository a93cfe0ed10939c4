"""Plants and their mode: does a work center's work go out to an external MES, or is it reported on
OrderBridge's own floor (production.floor)?

A work center names its plant; one without a plant takes the only plant's mode when there is exactly one,
otherwise ORDERBRIDGE_PLANT_MODE (settings.PLANT_MODE).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from config import shared_cache
from config.kernel import ValidationFailed, require, stamp
from production.master_data.models import FloorLanguage, Plant, PlantMode, WorkCenter

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def default_plant() -> Plant | None:
    """The only plant, when there is exactly one (what a work center without a plant belongs to)."""
    plants = list(Plant.objects.all()[:2])
    return plants[0] if len(plants) == 1 else None


def default_mode() -> str:
    plant = default_plant()
    return plant.mode if plant is not None else settings.PLANT_MODE


def floor_work_center_ids(work_center_ids: Iterable[int] | None = None) -> set[int]:
    """The work centers (of `work_center_ids`, or all) whose work is reported on OrderBridge's floor.

    Read on every event that carries work orders for the MES: kept in the shared cache (no query on that
    path), forgotten whenever a plant or a work center is written through the services."""
    key = _cache_key()
    floor = shared_cache.get(key)
    if floor is None:
        floor = _floor_centers()
        shared_cache.set(key, floor, timeout=300)
    found = set(floor)
    return found if work_center_ids is None else found & set(work_center_ids)


def _cache_key() -> str:
    return f"production:floor-centers:{settings.DATABASES['default']['NAME']}:{settings.PLANT_MODE}"


def _floor_centers() -> list[int]:
    modes = list(Plant.objects.values_list("mode", flat=True)[:2])
    fallback = modes[0] if len(modes) == 1 else settings.PLANT_MODE
    fallback_is_floor = fallback == PlantMode.FLOOR
    if not fallback_is_floor and (len(modes) < 2 or not Plant.objects.filter(mode=PlantMode.FLOOR).exists()):
        return []  # the common case, MES plants only
    rows = WorkCenter.objects.values_list("pk", "plant__mode")
    return sorted(pk for pk, mode in rows if mode == PlantMode.FLOOR or (mode is None and fallback_is_floor))


def floor_centers_forget() -> None:
    """After a plant or a work center was written: now (this transaction reads it) and after commit."""
    key = _cache_key()
    shared_cache.delete(key)
    transaction.on_commit(lambda: shared_cache.delete(key))


def work_center_plant(work_center: WorkCenter) -> Plant | None:
    """The work center's plant, or the only plant."""
    if work_center.plant_id is not None:
        return work_center.plant
    return default_plant()


def floor_language(work_center: WorkCenter) -> str:
    """The language the floor reads by default at this work center."""
    plant = work_center_plant(work_center)
    return plant.floor_language if plant is not None else settings.LANGUAGE_CODE


@transaction.atomic
def plant_save(*, actor: User | None, plant: Plant, reason: str = "") -> Plant:
    """Create or change a plant (code, name, mode, floor language), with who and why in its history.

    A changed mode applies to work released from now on: work orders already sent to the MES stay there."""
    require(
        actor,
        "production.change_plant" if plant.pk else "production.add_plant",
        action="plant_save",
        target=plant.code,
    )
    errors: dict[str, list[str]] = {}
    if not (plant.code or "").strip():
        errors["code"] = [_("This field is required.")]
    elif Plant.objects.filter(code=plant.code.strip()).exclude(pk=plant.pk).exists():
        errors["code"] = [_("Another plant already has this code.")]
    if plant.mode not in PlantMode.values:
        errors["mode"] = [_("Choose a valid mode.")]
    if plant.floor_language not in FloorLanguage.values:
        errors["floor_language"] = [_("Choose a valid language.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    plant.code = plant.code.strip()
    stamp(plant, actor=actor, reason=reason or _("Plant saved"))
    plant.save()
    floor_centers_forget()
    return plant
