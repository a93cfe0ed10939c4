"""Each role's everyday pages in a real browser, in English and in 简体中文: every page opens, its title
speaks the reader's language, and a screenshot of it is kept (var/screenshots/, CI artefacts)."""

from __future__ import annotations

import re

import pytest

from orders.sales import transitions
from tests.factories import CustomerFactory, UserFactory, make_order

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "pass-w0rd!"  # the factories' password
CJK = re.compile(r"[\u4e00-\u9fff]")

# role → the pages that role lives in
JOURNEYS = {
    "sales": ["/orders/", "/orders/new/", "/change-requests/", "/notifications/"],
    "planner": ["/production/", "/production/kpis/", "/change-requests/", "/orders/"],
    "production_manager": ["/production/", "/change-requests/", "/production/kpis/"],
    "customer_service": ["/service/", "/orders/"],
    "admin": ["/admin/", "/sync/health/", "/orders/"],
    "purchasing": [
        "/production/materials/supply/",
        "/production/materials/",
        "/production/supply/shortages/",
    ],
}


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("role", sorted(JOURNEYS))
def test_each_role_reads_its_pages_in_its_language(page, screenshot, role, language):
    user = UserFactory(
        username=f"{role}-user", role=role, is_staff=role == "admin", is_superuser=role == "admin"
    )
    sales = UserFactory(username="sally", role="sales")
    planner = UserFactory(username="pat", role="planner")
    customer = CustomerFactory(name="Harbour Cranes Ltd", tier="vip")
    make_order(owner=sales if role != "sales" else user, customer=customer)
    released = make_order(
        owner=sales if role != "sales" else user, customer=customer, confirmed=True, promised=True
    )
    transitions.order_release(actor=planner, order=released)
    log_in(page, user.username)
    page.goto("/")
    if language == "zh-hans":
        # As a user does: the language switch in the navigation bar.
        page.get_by_role("button", name="简体中文").click()
        page.wait_for_function("document.documentElement.lang === 'zh-hans'")

    for path in JOURNEYS[role]:
        response = page.goto(path)
        assert response is not None and response.status == 200, (
            f"{role} {path}: {response and response.status}"
        )
        assert page.locator("html").get_attribute("lang") == language
        title = page.locator("h1").first.inner_text()
        if language == "zh-hans":
            assert CJK.search(title), f"{role} {path}: English title on a Chinese page: {title!r}"
        else:
            assert not CJK.search(title), f"{role} {path}: Chinese title on an English page: {title!r}"
        screenshot(page, f"{role}-{language}-{path.strip('/').replace('/', '-') or 'home'}")
