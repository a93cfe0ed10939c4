"""Production's settings are read strictly: a bad frozen window stops the start instead of planning wrong."""

from tests.test_settings import run_with_env


def test_a_negative_frozen_window_is_refused(tmp_path):
    result = run_with_env(
        ["-c", "from django.conf import settings; settings.PRODUCTION_FROZEN_HOURS"],
        tmp_path,
        PRODUCTION_FROZEN_HOURS="-1",
    )
    assert result.returncode != 0
    assert "PRODUCTION_FROZEN_HOURS must be between 0 and 336 hours" in result.stderr


def test_the_frozen_window_defaults_to_eight_hours(tmp_path):
    result = run_with_env(
        ["-c", "from django.conf import settings; print(settings.PRODUCTION_FROZEN_HOURS)"], tmp_path
    )
    assert result.stdout.strip() == "8"
