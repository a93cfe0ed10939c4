"""What the OpenAPI schema promises beyond drf-spectacular's defaults (config.api.AutoSchema and the
serializers' annotations); tests/test_api_contract.py checks the running API keeps those promises."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


@functools.cache
def api_schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def operation(method: str, path: str) -> dict[str, Any]:
    return api_schema()["paths"][path][method]


def request_schema(method: str, path: str) -> dict[str, Any]:
    ref = operation(method, path)["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return api_schema()["components"]["schemas"][ref.rsplit("/", 1)[1]]


def component(name: str) -> dict[str, Any]:
    return api_schema()["components"]["schemas"][name]


def test_every_operation_documents_401_and_403_in_the_error_format():
    for path, methods in api_schema()["paths"].items():
        for method, spec in methods.items():
            for code in ("401", "403"):
                assert spec["responses"][code]["content"]["application/json"]["schema"] == ERROR_REF, (
                    method,
                    path,
                    code,
                )


@pytest.mark.parametrize(
    ("method", "path", "codes"),
    [
        ("get", "/api/v1/orders/", {"200", "400", "401", "403", "404"}),  # filters; a page past the end
        ("get", "/api/v1/work-orders/{number}/", {"200", "401", "403", "404"}),
        ("post", "/api/v1/work-orders/{number}/hold/", {"200", "400", "401", "403", "404", "409"}),
        ("post", "/api/v1/lots/", {"201", "400", "401", "403", "404", "409"}),  # an unknown work order
        ("get", "/api/v1/schedule/current/", {"200", "401", "403"}),
    ],
)
def test_an_operation_documents_the_errors_its_shape_allows(method, path, codes):
    assert set(operation(method, path)["responses"]) == codes


def test_a_view_keeps_the_error_answers_it_documents_itself():
    described = operation("post", "/api/v1/orders/{number}/confirm/")["responses"]

    assert described["409"]["content"]["application/json"]["schema"] == ERROR_REF
    assert set(described) == {"200", "400", "401", "403", "404", "409"}


def test_patch_of_an_order_requires_the_version_like_put():
    patch = request_schema("patch", "/api/v1/orders/{number}/")

    assert patch == request_schema("put", "/api/v1/orders/{number}/")
    assert "version" in patch["required"]


@pytest.mark.parametrize("transition", ["hold", "cancel"])
def test_hold_and_cancel_document_the_reason_as_required(transition):
    body = request_schema("post", f"/api/v1/orders/{{number}}/{transition}/")

    assert body["required"] == ["reason"]
    assert body["properties"]["reason"]["minLength"] == 1


def test_other_transitions_document_the_reason_as_optional():
    assert "required" not in request_schema("post", "/api/v1/orders/{number}/confirm/")


def test_the_changes_of_a_change_request_are_documented_as_a_list_of_operations():
    changes = request_schema("post", "/api/v1/change-requests/")["properties"]["changes"]

    assert changes["type"] == "array"
    assert changes["minItems"] == 1
    assert "set_quantity" in changes["items"]["properties"]["op"]["enum"]


def test_the_current_schedule_is_documented_with_its_shape():
    ref = operation("get", "/api/v1/schedule/current/")["responses"]["200"]["content"]["application/json"]
    current = component(ref["schema"]["$ref"].rsplit("/", 1)[1])

    assert set(current["properties"]) == {"schedule", "at_risk"}
    assert current["properties"]["at_risk"]["type"] == "array"


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("Order", "requested_date"),
        ("Order", "promised_date"),
        ("Order", "shipped_at"),
        ("OrderLine", "due_date"),
        ("ChangeRequest", "rebased_from"),
        ("Schedule", "created_by"),
        ("ChangeDisposition", "decided_by"),
        ("TrackingLink", "created_by"),
    ],
)
def test_a_field_that_may_be_empty_is_documented_as_nullable(name, field):
    assert component(name)["properties"][field]["nullable"] is True


def test_shift_times_are_documented_as_wall_clock_times_without_an_offset():
    start = component("Shift")["properties"]["start"]

    assert "format" not in start
    assert start["pattern"].startswith("^([01][0-9]|2[0-3]):[0-5][0-9]")


@pytest.mark.django_db
def test_an_unknown_url_under_the_api_answers_404_in_the_error_format(client, planner):
    client.force_login(planner)

    response = client.get("/api/v1/orders/SO-1/tracking-links/not-a-number/revoke/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_an_unknown_page_outside_the_api_stays_a_page(client, planner):
    client.force_login(planner)

    response = client.get("/orders/no/such/page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
