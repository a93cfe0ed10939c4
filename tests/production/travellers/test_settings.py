"""The shop floor's settings: the travellers' language follows the UI's default, bad values stop start-up."""

import pytest

from tests.test_settings import run_with_env

SHOW = "from django.conf import settings; print(settings.PLANT_LANGUAGE, settings.BOARD_REFRESH_SECONDS)"


def test_travellers_print_in_the_default_ui_language_unless_the_plant_says_otherwise(tmp_path):
    assert run_with_env(["-c", SHOW], tmp_path, LANGUAGE_CODE="zh-hans").stdout.split() == ["zh-hans", "30"]
    result = run_with_env(["-c", SHOW], tmp_path, ORDERBRIDGE_PLANT_LANGUAGE="zh-Hans")
    assert result.stdout.split() == ["zh-hans", "30"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ORDERBRIDGE_PLANT_LANGUAGE", "fr"),
        ("ORDERBRIDGE_BOARD_REFRESH_SECONDS", "1"),
        ("ORDERBRIDGE_BOARD_REFRESH_SECONDS", "often"),
    ],
)
def test_settings_refuse_a_bad_plant_language_or_board_refresh(tmp_path, variable, value):
    result = run_with_env(["-c", SHOW], tmp_path, **{variable: value})
    assert result.returncode != 0
    assert variable in result.stderr
