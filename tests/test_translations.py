"""The Simplified Chinese catalogue is complete for every string the code marks translatable."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
SKIP_DIRS = {".git", ".venv", "node_modules", "var", "locale", ".pytest_cache", ".ruff_cache", "tests"}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> polib.POFile:
    """Run makemessages on a copy of the source, so the check never edits the working tree."""
    copy = tmp_path_factory.mktemp("src") / "orderbridge"
    shutil.copytree(settings.BASE_DIR, copy, ignore=lambda d, names: [n for n in names if n in SKIP_DIRS])
    (copy / "locale").mkdir()
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location", "--verbosity", "0"],
        cwd=copy,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "ORDERBRIDGE_VAR_DIR": str(copy / "var")},
    )
    return polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))


def test_every_marked_string_has_a_chinese_translation(extracted):
    catalogue = {(entry.msgctxt, entry.msgid): entry for entry in polib.pofile(str(CATALOGUE))}
    missing = []
    for entry in extracted:
        ours = catalogue.get((entry.msgctxt, entry.msgid))
        if ours is None or "fuzzy" in ours.flags or not (ours.msgstr or any(ours.msgstr_plural.values())):
            missing.append(entry.msgid)
    assert missing == [], f"{len(missing)} strings lack a zh-hans translation, e.g. {missing[:10]}"


def test_the_catalogue_has_no_fuzzy_entries():
    assert [e.msgid for e in polib.pofile(str(CATALOGUE)).fuzzy_entries()] == []


def test_plant_words_use_the_glossary():
    with translation.override("zh-hans"):
        from orders.models import OrderStatus, SalesOrder

        assert str(SalesOrder._meta.verbose_name) == "销售订单"
        assert str(OrderStatus.RELEASED.label) == "已下达"
        assert str(OrderStatus.ON_HOLD.label) == "已暂停"
