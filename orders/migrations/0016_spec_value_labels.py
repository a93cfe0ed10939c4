"""Allowed spec values get labels in English and Chinese (x-enum-labels); the RAL colour its Chinese hint and
an example. Only the demo catalog's families (by code) are touched, and only what they lack: a family an
administrator edited keeps its own labels."""

from django.db import migrations

# A frozen copy of orders.demo.SPEC_VALUE_LABELS as it was when this migration was written.
LABELS = {
    "material": {
        "steel_dc01": ("Steel DC01", "冷轧钢 DC01"),
        "galvanised_dx51d": ("Galvanised steel DX51D", "镀锌钢 DX51D"),
        "stainless_304": ("Stainless steel 304", "不锈钢 304"),
        "stainless_316l": ("Stainless steel 316L", "不锈钢 316L"),
        "aluminium_5754": ("Aluminium 5754", "铝合金 5754"),
    },
    "finish": {
        "powder_coat": ("Powder coat", "粉末喷涂"),
        "brushed": ("Brushed", "拉丝"),
        "electro_polished": ("Electro-polished", "电解抛光"),
        "raw": ("Raw (no finish)", "原色(无表面处理)"),
    },
    "door_hinge": {"left": ("Left", "左侧"), "right": ("Right", "右侧")},
    "fitting_type": {
        "DKOL 24° light": ("DKOL 24° light", "DKOL 24° 轻型"),
        "DKOS 24° heavy": ("DKOS 24° heavy", "DKOS 24° 重型"),
        "ORFS": ("ORFS (O-ring face seal)", "ORFS 平面O形圈密封"),
        "BSP 60° cone": ("BSP 60° cone", "BSP 60° 锥面"),
        "SAE flange": ("SAE flange", "SAE 法兰"),
    },
    "board_grade": {"E-flute": ("E-flute", "E 楞"), "B-flute": ("B-flute", "B 楞")},
    "coating": {
        "none": ("None", "无"),
        "aqueous": ("Aqueous coating", "水性光油"),
        "uv_gloss": ("UV gloss", "UV 亮光"),
        "uv_matt": ("UV matt", "UV 哑光"),
        "soft_touch": ("Soft-touch laminate", "触感膜"),
    },
    "packaging": {
        "bundles_of_100": ("Bundles of 100", "每捆100件"),
        "bundles_of_250": ("Bundles of 250", "每捆250件"),
        "palletised": ("Palletised", "托盘包装"),
        "shrink_wrapped": ("Shrink-wrapped", "收缩膜包装"),
    },
}

EXTRAS = {
    "ral_colour": {"x-description": {"zh-hans": "粉末喷涂时必填,例如 RAL 7035。"}, "examples": ["RAL 7035"]},
    "spot_colour": {"examples": ["PMS 186 C"]},
}


def add_labels(apps, schema_editor):
    ProductFamily = apps.get_model("orders", "ProductFamily")
    for family in ProductFamily.objects.filter(code__in=["ENCL", "HOSE", "PACK"]):
        schema = family.spec_schema or {}
        changed = False
        for name, prop in (schema.get("properties") or {}).items():
            labels = LABELS.get(name)
            if labels and prop.get("enum") and "x-enum-labels" not in prop:
                prop["x-enum-labels"] = {
                    str(value): {"en": labels[value][0], "zh-hans": labels[value][1]}
                    for value in prop["enum"]
                    if value in labels
                }
                changed = True
            for key, value in EXTRAS.get(name, {}).items():
                if key not in prop:
                    prop[key] = value
                    changed = True
        if changed:
            family.spec_schema = schema
            family.save(update_fields=["spec_schema"])


class Migration(migrations.Migration):
    dependencies = [("orders", "0015_order_search_trigram_indexes")]

    operations = [migrations.RunPython(add_labels, migrations.RunPython.noop)]
