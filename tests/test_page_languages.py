"""Every page of every role reads in one language: with the demo data loaded (setup_demo's loader), no text of
the catalogue is left in English on a Chinese page, and none is in Chinese on an English page.

A text node (or a title, placeholder or aria-label) that is exactly one of the catalogue's English texts is
a string someone forgot to translate, or stored text shown as it was stored; data (names, numbers, codes) is
never exactly a catalogue text, so it does not trip the check.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.utils import timezone, translation

from orders import demo
from orders.models import ChangeRequest, Notification, OrderStatus, SalesOrder
from orders.tracking import services as tracking

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
ROLES = ("sales", "planner", "manager", "service", "admin")
STATIC_PAGES = (
    "/",
    "/orders/",
    "/orders/new/",
    "/orders/import/",
    "/change-requests/",
    "/production/",
    "/production/kpis/",
    "/service/",
    "/notifications/",
    "/notifications/settings/",
    "/account/api-tokens/",
    "/sync/health/",
    "/sync/replay/",
    "/sync/drift/",
)
WORD = re.compile(r"[A-Za-z]{2,}")
HAN = re.compile(r"[\u4e00-\u9fff]")
PARAMETER = re.compile(r"%\([a-z_]+\)[sd]")


def pattern(text: str) -> str | None:
    """A catalogue text with parameters as a regular expression of what it renders to ("Production started
    (work order %(number)s)" matches "Production started (work order SO-1-01)"); None when too little of it
    is text to tell it from data."""
    parts = PARAMETER.split(" ".join(text.split()))
    literal = "".join(parts)
    if len(WORD.findall(literal)) < 2 and len(HAN.findall(literal)) < 3:
        return None
    return ".+?".join(re.escape(part) for part in parts)


class Wrong:
    """The catalogue texts of one language that must not show on the other's pages."""

    def __init__(self, texts: set[str], patterns: set[str]) -> None:
        self.texts = texts
        self.patterns = re.compile("|".join(sorted(patterns))) if patterns else None

    def __contains__(self, text: object) -> bool:
        if not isinstance(text, str):
            return False
        return text in self.texts or bool(self.patterns and self.patterns.fullmatch(text))


def catalogue() -> tuple[Wrong, Wrong]:
    """(English texts, their Chinese translations) of the catalogue that differ between the languages.

    The language switcher names each language in itself (English, 简体中文) on every page: not checked.
    """
    english: set[str] = set()
    chinese: set[str] = set()
    english_patterns: set[str] = set()
    chinese_patterns: set[str] = set()
    native = set()
    for code, name in settings.LANGUAGES:
        with translation.override(code):
            native.add(str(name))
    for entry in polib.pofile(str(CATALOGUE)):
        if entry.msgid_plural or not entry.msgstr or entry.msgstr == entry.msgid:
            continue
        if PARAMETER.search(entry.msgid):
            if WORD.search(entry.msgid) and (found := pattern(entry.msgid)):
                english_patterns.add(found)
            if HAN.search(entry.msgstr) and (found := pattern(entry.msgstr)):
                chinese_patterns.add(found)
            continue
        if "%" in entry.msgid:
            continue
        if WORD.search(entry.msgid):
            english.add(" ".join(entry.msgid.split()))
        if HAN.search(entry.msgstr):
            chinese.add(" ".join(entry.msgstr.split()))
    return Wrong(english - native, english_patterns), Wrong(chinese - native, chinese_patterns)


class Texts(HTMLParser):
    """The texts a reader sees: text nodes outside scripts, and the attributes read aloud or hovered."""

    ATTRIBUTES = ("title", "placeholder", "aria-label")

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self.hidden += 1
        for name, value in attrs:
            if name in self.ATTRIBUTES and value:
                self.texts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.texts.append(data)


def texts_of(html: str) -> Iterator[str]:
    parser = Texts()
    parser.feed(html)
    for text in parser.texts:
        text = " ".join(text.split()).rstrip(":\uff1a*").strip()
        if text:
            yield text


@pytest.fixture(scope="module")
def demo_site(django_db_setup, django_db_blocker):
    """The demo (users and 24 orders through every status), rolled back after this module's tests."""
    with django_db_blocker.unblock(), transaction.atomic():
        demo.ensure_demo_users(shared_password="demo-pass-w0rd!")
        demo.load_demo_data(seed=7, orders=24)
        yield
        transaction.set_rollback(True)


def order_pages() -> list[str]:
    pages = []
    for status in OrderStatus.values:
        order = SalesOrder.objects.filter(status=status).order_by("number").first()
        if order is not None:
            pages.append(f"/orders/{order.number}/")
            if status == OrderStatus.DRAFT:
                pages.append(f"/orders/{order.number}/edit/")
            if status in (OrderStatus.RELEASED, OrderStatus.IN_PRODUCTION):
                pages.append(f"/change-requests/new/{order.number}/")
    numbers = ChangeRequest.objects.values_list("number", flat=True)
    pages += [f"/change-requests/{number}/" for number in numbers]
    shipped = SalesOrder.objects.filter(status=OrderStatus.SHIPPED).first()
    if shipped is not None:
        agent = get_user_model().objects.get(username="service")
        link = tracking.tracking_link_create(actor=agent, order=shipped)
        pages.append(tracking.tracking_path(link))
    return pages


def left_over(client: Client, pages: list[str], wrong: Wrong) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for page in pages:
        response = client.get(page)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue  # not this role's page
        texts = sorted({text for text in texts_of(response.content.decode()) if text in wrong})
        if texts:
            found[page] = texts
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_no_english_catalogue_text_is_left_on_a_chinese_page(demo_site, role):
    english, _chinese = catalogue()
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(get_user_model().objects.get(username=role))
    pages = [*STATIC_PAGES, *order_pages()]
    for page in pages:
        if page.startswith("/track/"):
            pages[pages.index(page)] = f"{page}?lang=zh-hans"
    assert left_over(client, pages, english) == {}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_no_chinese_catalogue_text_is_on_an_english_page(demo_site, role):
    _english, chinese = catalogue()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(get_user_model().objects.get(username=role))
    pages = [*STATIC_PAGES, *order_pages()]
    for page in pages:
        if page.startswith("/track/"):
            pages[pages.index(page)] = f"{page}?lang=en"
    assert left_over(client, pages, chinese) == {}


@pytest.mark.django_db
def test_the_demo_starts_each_user_with_only_todays_notices_unread(demo_site):
    unread = Notification.objects.filter(read_at__isnull=True)
    day_ago = timezone.now() - dt.timedelta(days=1)
    assert not unread.filter(created_at__lt=day_ago).exists()
    assert Notification.objects.filter(read_at__isnull=False).exists()  # the history did notify people
