"""Every page of every role reads in one language: with the demo data loaded (setup_demo's loader), no text of
the catalogue is left in English on a Chinese page, and none is in Chinese on an English page.

A text node (or a title, placeholder or aria-label) that is exactly one of the catalogue's English texts is
a string someone forgot to translate, or stored text shown as it was stored; data (names, numbers, codes) is
never exactly a catalogue text, so it does not trip the check. A catalogue sentence (three words or more)
inside a text node trips it too: a translated template around an English reason ("预计 12-21。waits 3.6 h
for work center COAT") is still English on a Chinese page.

The demo is loaded by people working in the *other* language (every actor's session in Chinese for the English
reader, in English for the Chinese one): text stored in the language of whoever acted shows up.

"Every page": the pages are worked out from the URL configuration (PAGES), not listed by hand; a new URL
fails test_every_url_is_a_checked_page_or_says_why_not until it is added to PAGES or NOT_PAGES.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone, translation

from crm_sync import outbox
from crm_sync.models import Delivery
from orders import demo
from orders.change_requests import change_request_create
from orders.imports import (
    import_job_commit,
    import_job_create,
    import_job_run,
    import_job_validate,
    template_file,
)
from orders.models import ChangeRequest, ChangeRequestStatus, ImportJob, Notification, OrderStatus, SalesOrder
from orders.sales import order_create
from orders.tracking import services as tracking
from production.models import Item, WorkCenter, WorkOrder, WorkOrderOperation
from tests.crm_sync.factories import ExternalSystemFactory

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
# Every demo user's role (the two sales representatives read the same pages) and a floor operator.
ROLES = ("sales", "planner", "manager", "service", "buyer", "admin", "operator1", "anonymous")
WORD = re.compile(r"[A-Za-z]{2,}")
HAN = re.compile(r"[\u4e00-\u9fff]")
PARAMETER = re.compile(r"%\([a-z_]+\)[sd]")


SENTENCE_WORDS = 3  # a catalogue text this long is searched for inside a text node, not only matched whole


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

    def __init__(self, texts: set[str], patterns: set[str], *, english: bool) -> None:
        self.texts = texts
        self.patterns = re.compile("|".join(sorted(patterns))) if patterns else None

        def long(text: str) -> bool:
            if english:
                return len(WORD.findall(text)) >= SENTENCE_WORDS
            return len(HAN.findall(text)) >= 2 * SENTENCE_WORDS

        self.long = long

        # Sentences are searched inside a node (English ones on word boundaries; Chinese needs none), with
        # their parameters as any text.
        edge = r"\b" if english else ""
        sentences = sorted(
            [re.escape(text) for text in texts if long(text)]
            + [found for found in patterns if long(found.replace(".+?", " "))],
            key=len,
            reverse=True,
        )
        self.sentences = re.compile(f"{edge}(?:{'|'.join(sentences)}){edge}") if sentences else None

    def __contains__(self, text: object) -> bool:
        if not isinstance(text, str):
            return False
        return (
            text in self.texts
            or bool(self.patterns and self.patterns.fullmatch(text))
            or bool(self.sentences and self.long(text) and self.sentences.search(text))
        )


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
    return (
        Wrong(english - native, english_patterns, english=True),
        Wrong(chinese - native, chinese_patterns, english=False),
    )


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


@pytest.fixture(scope="module", params=["en", "zh-hans"])
def demo_site(request, django_db_setup, django_db_blocker) -> Iterator[str]:
    """The demo (users, 24 orders through every status, an import, a failed delivery) made by people working
    in one language (the parameter); rolled back after this module's tests with that language."""
    with django_db_blocker.unblock(), transaction.atomic(), translation.override(request.param):
        demo.ensure_demo_users(shared_password="demo-pass-w0rd!")
        demo.load_demo_data(seed=7, orders=24)
        sales = get_user_model().objects.get(username="sales")
        content, _type = template_file("xlsx")
        job = import_job_create(actor=sales, filename="orders.xlsx", content=content)
        import_job_validate(job_id=job.pk)
        import_job_commit(actor=sales, job=job)
        import_job_run(job_id=job.pk)
        # A draft change request (its edit page).
        locked = SalesOrder.objects.filter(owner=sales, status=OrderStatus.RELEASED).order_by("pk").first()
        change_request_create(
            actor=sales,
            order=locked,
            base_revision=locked.revision,
            reason="Customer asked",
            changes=[{"op": "set_date", "field": "requested_date", "value": "2030-01-15"}],
        )
        # A CRM that does not answer: a delivery with a failed attempt for the sync pages.
        system = ExternalSystemFactory()
        line = SalesOrder.objects.filter(owner=sales).order_by("pk").first().lines.first()
        order = order_create(
            actor=sales,
            customer=line.order.customer,
            lines=[{"product": line.product_id, "quantity": line.quantity, "spec_values": line.spec_values}],
        )
        outbox.deliveries_drain(system_id=system.pk, order_id=order.pk)
        yield request.param
        transaction.set_rollback(True)


# --- the pages: each URL name and the paths of it the demo has ---------------------------------------------
def _first(model, **filters) -> object | None:
    return model.objects.filter(**filters).order_by("pk").first()


def _paths(name: str, rows: list, key: Callable[[object], dict]) -> list[str]:
    return [reverse(name, kwargs=key(row)) for row in rows if row is not None]


def _order_pages() -> list[str]:
    return [
        reverse("orders:order_detail", kwargs={"number": number})
        for number in (
            SalesOrder.objects.filter(status=status)
            .order_by("number")
            .values_list("number", flat=True)
            .first()
            for status in OrderStatus.values
        )
        if number
    ]


def _by_status(*statuses: str) -> list:
    return [_first(SalesOrder, status=status) for status in statuses]


def _tracking_pages() -> list[str]:
    agent = get_user_model().objects.get(username="service")
    pages = []
    for order in _by_status(OrderStatus.SHIPPED, OrderStatus.IN_PRODUCTION):
        if order is not None:
            pages.append(tracking.tracking_path(tracking.tracking_link_create(actor=agent, order=order)))
    return pages


def _work_order() -> list:
    return [_first(WorkOrder, operations__isnull=False)]


def _admin_pages() -> list[str]:
    pages = [reverse("admin:index")]
    for model in admin.site._registry:
        meta = model._meta
        if meta.app_label in ("orders", "production", "crm_sync"):
            pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
    return pages


PAGES: dict[str, Callable[[], list[str]]] = {
    "login": lambda: [reverse("login")],
    "orders:order_list": lambda: [
        reverse("orders:order_list"),
        reverse("orders:order_list") + "?group=status",
    ],
    "orders:order_create": lambda: [reverse("orders:order_create")],
    "orders:line_row": lambda: [reverse("orders:line_row") + "?lines-TOTAL_FORMS=1"],
    "orders:import_upload": lambda: [reverse("orders:import_upload")],
    "orders:import_job": lambda: _paths(
        "orders:import_job", list(ImportJob.objects.all()), lambda j: {"pk": j.pk}
    ),
    "orders:order_detail": _order_pages,
    "orders:order_edit": lambda: _paths(
        "orders:order_edit", _by_status(OrderStatus.DRAFT), lambda o: {"number": o.number}
    ),
    "orders:order_override": lambda: _paths(
        "orders:order_override",
        _by_status(OrderStatus.RELEASED),
        lambda o: {"number": o.number, "action": "start_production"},
    ),
    "change_requests:inbox": lambda: [reverse("change_requests:inbox")],
    "change_requests:create": lambda: _paths(
        "change_requests:create",
        _by_status(OrderStatus.RELEASED, OrderStatus.IN_PRODUCTION),
        lambda o: {"number": o.number},
    ),
    "change_requests:detail": lambda: _paths(
        "change_requests:detail", list(ChangeRequest.objects.all()), lambda c: {"number": c.number}
    ),
    "change_requests:edit": lambda: _paths(
        "change_requests:edit",
        list(ChangeRequest.objects.filter(status=ChangeRequestStatus.DRAFT)),
        lambda c: {"number": c.number},
    ),
    "production:planner": lambda: [reverse("production:planner")],
    "production:work_order_panel": lambda: _paths(
        "production:work_order_panel", _work_order(), lambda w: {"number": w.number}
    ),
    "production:kpi_dashboard": lambda: [reverse("production:kpi_dashboard")],
    "production:shortages": lambda: [reverse("production:shortages")],
    "production:purchase_suggestions": lambda: [reverse("production:purchase_suggestions")],
    "production:material_items": lambda: [reverse("production:material_items")],
    "production:material_item": lambda: _paths(
        "production:material_item", [_first(Item)], lambda i: {"pk": i.pk}
    ),
    "production:material_stock": lambda: [reverse("production:material_stock")],
    "production:material_supply": lambda: [reverse("production:material_supply")],
    "production:material_import": lambda: [reverse("production:material_import")],
    "boards:index": lambda: [reverse("boards:index")],
    "boards:board": lambda: _paths(
        "boards:board", [_first(WorkCenter, is_active=True)], lambda w: {"code": w.code}
    ),
    "boards:board_live": lambda: _paths(
        "boards:board_live", [_first(WorkCenter, is_active=True)], lambda w: {"code": w.code}
    ),
    "floor:home": lambda: [reverse("floor:home")],
    "floor:sign_in": lambda: [reverse("floor:sign_in")],
    "floor:offline": lambda: [reverse("floor:offline")],
    "floor:operation": lambda: _paths(
        "floor:operation", [_first(WorkOrderOperation, status="started")], lambda o: {"pk": o.pk}
    ),
    "service:desk": lambda: [reverse("service:desk")],
    "notifications:inbox": lambda: [reverse("notifications:inbox")],
    "notifications:preferences": lambda: [reverse("notifications:preferences")],
    "api_tokens:list": lambda: [reverse("api_tokens:list")],
    "tracking:track": _tracking_pages,
    "sync:health": lambda: [reverse("sync:health")],
    "sync:attempts": lambda: _paths("sync:attempts", [_first(Delivery)], lambda d: {"pk": d.pk}),
    "sync:drift": lambda: [reverse("sync:drift")],
    "admin:index": _admin_pages,
}
# URL names that are not pages a person reads, and why.
NOT_PAGES = {
    "home": "a redirect to the role's first page",
    "production:material_bom_version": "POST only (the BOM editor is on production:material_item)",
    "logout": "POST only",
    "set_language": "POST only: the language switch",
    "orders:line_spec_fields": "a fragment of the order form (its fields are on orders:order_create)",
    "orders:orders_export": "a download (codes in the code columns)",
    "orders:order_bulk": "POST only",
    "orders:saved_filter_create": "POST only",
    "orders:saved_filter_remove": "POST only",
    "orders:import_template": "a download",
    "orders:import_commit": "POST only",
    "orders:import_retry": "POST only",
    "orders:import_confirm_orders": "POST only",
    "orders:order_transition": "POST only",
    "change_requests:row": "a fragment of the change-request form (change_requests:create)",
    "change_requests:act": "POST only",
    "production:reschedule": "POST only",
    "production:plan_objective": "POST only (the choice is on the plan page, production:schedule)",
    "production:work_order_action": "POST only",
    "production:operation_pin": "POST only",
    "production:operation_unpin": "POST only",
    "production:release_selected": "POST only",
    "production:disposition_decide": "POST only",
    "production:order_priority": "POST only",
    "production:order_form_quote": "POST only (the order form's quote, tests/production/work_orders)",
    "production:work_orders_export": "a download",
    "production:work_order_traveller": "a PDF (tests/production/travellers)",
    "production:order_traveller": "a PDF (tests/production/travellers)",
    "production:shift_travellers": "a PDF (tests/production/travellers)",
    "production:kpi_table": "a download",
    "production:purchase_suggestions_export": "a download",
    "production:purchase_suggestion_order": "POST only",
    "production:material_bom_new": "POST only",
    "production:material_bom_line_add": "POST only",
    "production:material_bom_line": "POST only",
    "production:material_bom_line_remove": "POST only",
    "production:material_receive": "POST only",
    "production:material_import_template": "a download",
    "floor:switch": "POST only",
    "floor:report": "the floor's JSON API",
    "floor:service_worker": "JavaScript",
    "service:tracking_link_create": "POST only",
    "service:tracking_link_revoke": "POST only",
    "notifications:badge": "the unread count (a number)",
    "notifications:mark_all_read": "POST only",
    "notifications:open": "a redirect to the notice's page",
    "api_tokens:revoke": "POST only",
    "tracking:rate": "POST only (answers with the tracking page)",
    "hooks:crm": "a machine endpoint",
    "hooks:mes": "a machine endpoint",
    "sync:reconcile": "POST only",
    "sync:replay": "POST only (the replay form is on sync:health)",
    "sync:drift_repair": "POST only",
    "api-schema": "the API (codes by design)",
    "api-docs": "the API's Swagger UI (the API's own, English)",
}


def url_names() -> set[str]:
    """The names of the site's URLs, outside the API and the Django admin's own (its index stands for it)."""
    names: set[str] = set()

    def walk(resolver: URLResolver, namespace: str) -> None:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                if inner != "admin:" and not str(entry.pattern).startswith("api/v1"):
                    walk(entry, inner)
            elif isinstance(entry, URLPattern) and entry.name:
                names.add(namespace + entry.name)

    walk(get_resolver(), "")
    return names | {"admin:index"}


def test_every_url_is_a_checked_page_or_says_why_not():
    names = url_names()
    assert sorted(names - set(PAGES) - set(NOT_PAGES)) == []
    assert sorted((set(PAGES) | set(NOT_PAGES)) - names) == []


def client_for(role: str, language: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if role != "anonymous":
        client.force_login(get_user_model().objects.get(username=role))
    return client


def other(language: str) -> str:
    return "zh-hans" if language == "en" else "en"


@pytest.mark.django_db
def test_every_page_of_every_role_reads_only_in_the_readers_language(demo_site):
    """The demo made in one language, read in the other: every page each role can open."""
    reader = other(demo_site)
    english, chinese = catalogue()
    wrong = english if reader == "zh-hans" else chinese
    pages = {name: paths() for name, paths in PAGES.items()}
    assert [name for name, paths in pages.items() if not paths] == [], "the demo has none of these pages"
    opened: set[str] = set()
    found: dict[str, list[str]] = {}
    for role in ROLES:
        client = client_for(role, reader)
        for name, paths in pages.items():
            for path in paths:
                url = f"{path}?lang={reader}" if name == "tracking:track" else path
                response = client.get(url)
                if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
                    continue  # not this role's page
                opened.add(path)
                texts = sorted({text for text in texts_of(response.content.decode()) if text in wrong})
                if texts:
                    found[f"{role} {path}"] = texts
    assert not found, "text in the other language:\n" + "\n".join(
        f"{page}: {texts}" for page, texts in found.items()
    )
    never = sorted({path for paths in pages.values() for path in paths} - opened)
    assert not never, f"pages no role could open (so never checked): {never}"


@pytest.mark.django_db
def test_the_demo_starts_each_user_with_only_todays_notices_unread(demo_site):
    unread = Notification.objects.filter(read_at__isnull=True)
    day_ago = timezone.now() - dt.timedelta(days=1)
    assert not unread.filter(created_at__lt=day_ago).exists()
    assert Notification.objects.filter(read_at__isnull=False).exists()  # the history did notify people
