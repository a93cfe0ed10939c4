"""Each role lands where its day starts: after login and on the brand link."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "start"),
    [
        ("sales", "/orders/"),
        ("planner", "/production/"),
        ("production_manager", "/production/"),
        ("customer_service", "/service/"),
        ("admin", "/orders/"),
    ],
)
def test_the_start_page_depends_on_the_role(client, role, start):
    client.force_login(UserFactory(role=role))
    assert client.get("/").url == start


def test_logging_in_opens_the_start_page_of_the_role(client):
    UserFactory(username="pat", role="planner")
    response = client.post(reverse("login"), {"username": "pat", "password": "pass-w0rd!"}, follow=True)
    assert response.redirect_chain[-1][0] == "/production/"


def test_the_plan_is_in_the_navigation_of_planners(client):
    client.force_login(UserFactory(role="planner"))
    assert b'data-testid="nav-plan"' in client.get("/orders/").content
