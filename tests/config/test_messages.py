"""System text is stored as a code plus parameters and read in the reader's language."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext_lazy

from config.kernel import as_stored, define, event_reasons, message, message_text

GREETING = define("tests.greeting", gettext_lazy("Confirm"))


def test_a_stored_message_reads_in_the_readers_language():
    stored = message(GREETING).stored()
    with translation.override("zh-hans"):
        chinese = message_text(stored)
    with translation.override("en"):
        english = message_text(stored)
    assert (english, chinese) == ("Confirm", "确认")


def test_a_message_keeps_its_parameters_and_nested_messages():
    outer = define("tests.outer", gettext_lazy("Superseded: %(why)s"))
    inner = define("tests.inner", gettext_lazy("Re-based as %(number)s"))
    stored = message(outer, why=message(inner, number="CR-000007")).stored()
    with translation.override("en"):
        assert message_text(stored) == "Superseded: Re-based as CR-000007"


def test_old_free_text_that_is_a_catalogue_text_reads_translated():
    with translation.override("zh-hans"):
        assert message_text("Release to production") == "下达生产"


def test_a_persons_own_words_read_as_written():
    with translation.override("zh-hans"):
        assert message_text("Customer called, wants it blue") == "Customer called, wants it blue"


def test_a_catalogue_text_stored_while_the_actor_reads_chinese_is_kept_in_english():
    with translation.override("zh-hans"):
        stored = as_stored(gettext_lazy("Confirm"))
    assert stored == "Confirm"
    with translation.override("zh-hans"):
        assert message_text(stored) == "确认"


def test_an_events_reason_is_english_and_keeps_its_message_for_the_reader():
    with translation.override("zh-hans"):
        reasons = event_reasons(message(GREETING))
    assert reasons["reason"] == "Confirm"
    with translation.override("zh-hans"):
        assert message_text(reasons["reason_message"]) == "确认"


def test_a_persons_reason_on_an_event_is_kept_as_written():
    assert event_reasons("Customer called") == {"reason": "Customer called", "reason_message": ""}
