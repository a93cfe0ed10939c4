"""Every route refuses lookup values that cannot name anything (a NUL byte, an over-long value) with a 400,
never a 500, and the API answers its failures in its one error format even with DEBUG off.

The walk covers every URL pattern with an argument, so a route added later is checked without a new test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, path, resolve
from django.urls.exceptions import Resolver404

from config import urls as project_urls
from tests.factories import make_order

pytestmark = pytest.mark.django_db

NUL = "a\x00b"
TOO_LONG = "9" * 201  # digits: they fit every converter (int, slug, str, path) and every DRF lookup regex
ROUTE_ARGUMENT = re.compile(r"<(?:\w+:)?(\w+)>")
REGEX_ARGUMENT = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def _routes(patterns, prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def _url(route: str, values: dict[str, str]) -> str:
    """A concrete path for a route string ("orders/<str:number>/", "^lots/(?P<number>[^/]+)/$")."""
    route = REGEX_ARGUMENT.sub(
        lambda m: values.get(m.group(1), "json" if m.group(1) == "format" else "1"), route
    )
    route = ROUTE_ARGUMENT.sub(lambda m: values.get(m.group(1), "1"), route)
    route = route.replace("^", "").replace("$", "").replace("/?", "/").replace("\\.", ".")
    return "/" + route


def _arguments(route: str) -> list[str]:
    return REGEX_ARGUMENT.findall(route) + ROUTE_ARGUMENT.findall(REGEX_ARGUMENT.sub("", route))


def bad_lookups() -> list[tuple[str, str]]:
    """(route, argument) for every argument of every route that the bad values reach."""
    cases = []
    for route in _routes(get_resolver().url_patterns):
        for argument in _arguments(route):
            if argument == "format":
                continue
            try:
                match = resolve(_url(route, {argument: NUL}))
            except Resolver404:
                continue
            if match.kwargs.get(argument) == NUL or NUL in match.args:
                cases.append((route, argument))
    return cases


def test_the_walk_reaches_the_routes_of_every_app():
    routes = {route for route, _argument in bad_lookups()}
    assert len(routes) > 200
    for prefix in ("api/v1/", "orders/", "change-requests/", "production/", "service/", "track/", "admin/"):
        assert any(route.startswith(prefix) for route in routes), prefix


@pytest.mark.parametrize(("route", "argument"), bad_lookups())
def test_every_route_refuses_a_nul_byte_or_an_over_long_value_with_a_400(admin_user, route, argument):
    client = Client()
    client.force_login(admin_user)
    for bad in (NUL, TOO_LONG):
        url = quote(_url(route, {argument: bad}))
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 400, (method, url, response.status_code)
            if route.startswith("api/"):
                error = response.json()["error"]
                assert error["code"] == "invalid"
                assert argument in error["fields"]


def test_a_salesperson_asking_for_an_order_with_a_nul_byte_gets_the_apis_error_format(sales):
    client = Client()
    client.force_login(sales)
    response = client.get("/api/v1/orders/a%00b/")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"number": ["Null characters are not allowed."]}


def test_a_nul_byte_in_a_query_string_filter_is_a_400(planner):
    client = Client()
    client.force_login(planner)
    response = client.get("/api/v1/lots/", {"work_order": NUL})
    assert response.status_code == 400
    assert "work_order" in response.json()["error"]["fields"]


def test_a_nul_byte_in_a_posted_form_field_is_a_400_page(planner):
    client = Client()
    client.force_login(planner)
    response = client.post("/production/work-orders/action/", {"number": NUL, "action": "hold"})
    assert response.status_code == 400
    assert b"number" in response.content


def test_a_nul_byte_in_a_json_string_is_a_400(sales):
    order = make_order(owner=sales)
    client = Client()
    client.force_login(sales)
    response = client.patch(
        f"/api/v1/orders/{order.number}/",
        json.dumps({"remarks": "a\x00b", "version": order.version}),  # NUL escaped as \u0000
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_an_escaped_backslash_before_u0000_is_ordinary_text(sales):
    order = make_order(owner=sales)
    client = Client()
    client.force_login(sales)
    response = client.patch(
        f"/api/v1/orders/{order.number}/",
        json.dumps(
            {"remarks": "C:\\u0000", "version": order.version}
        ),  # on the wire: an escaped backslash, then u0000
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["remarks"] == "C:\\u0000"


def test_an_id_beyond_a_bigint_is_a_400_not_a_database_error(planner):
    client = Client()
    client.force_login(planner)
    response = client.post(f"/production/dispositions/{10**20}/decide/", {"decision": "scrap"})
    assert response.status_code == 400


# --- the API's error format when something breaks (DEBUG off) -----------------------------------------------
def broken_view(request):
    raise RuntimeError("a bug")


# This module is the URLconf of the tests below: the project's routes and handlers, plus two broken views.
urlpatterns = [path("api/v1/broken/", broken_view), path("broken/", broken_view), *project_urls.urlpatterns]
handler400, handler403, handler404, handler500 = (
    getattr(project_urls, name, f"django.views.defaults.{default}")
    for name, default in (
        ("handler400", "bad_request"),
        ("handler403", "permission_denied"),
        ("handler404", "page_not_found"),
        ("handler500", "server_error"),
    )
)


@pytest.fixture
def broken_routes(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = __name__


def test_an_unexpected_api_failure_answers_500_in_the_error_format(broken_routes, planner):
    client = Client(raise_request_exception=False)
    client.force_login(planner)
    response = client.get("/api/v1/broken/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "server_error"


def test_an_unexpected_page_failure_answers_the_500_page(broken_routes, planner):
    client = Client(raise_request_exception=False)
    client.force_login(planner)
    response = client.get("/broken/")
    assert response.status_code == 500
    assert b"Something went wrong on our side." in response.content


def test_an_unknown_api_address_answers_404_in_the_error_format(settings, planner):
    settings.DEBUG = False
    client = Client()
    client.force_login(planner)
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
