"""The Content-Security-Policy header on every kind of page; the Swagger UI page alone relaxes styles."""

import re
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

STRICT = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
]


def policy(response) -> list[str]:
    return [part.strip() for part in response["Content-Security-Policy"].split(";")]


@pytest.mark.parametrize("path", ["/accounts/login/", "/track/not-a-real-link/"])
def test_public_pages_carry_the_strict_policy(client, path):
    directives = policy(client.get(path))

    assert set(STRICT) <= set(directives)


@pytest.mark.parametrize("path", ["/orders/", "/production/", "/account/api-tokens/", "/api/v1/orders/"])
def test_logged_in_pages_and_the_api_carry_the_strict_policy(client, planner, path):
    client.force_login(planner)

    directives = policy(client.get(path))

    assert set(STRICT) <= set(directives)
    assert not any("unsafe" in directive for directive in directives)


def test_the_api_docs_allow_inline_styles_but_never_inline_scripts(client, planner):
    client.force_login(planner)

    page = client.get("/api/docs/")
    script = client.get("/api/docs/?script=")

    assert "style-src 'self' 'unsafe-inline'" in policy(page)
    assert "script-src 'self'" in policy(page)
    assert "<script>" not in page.content.decode()
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")


def test_no_template_has_an_inline_script_style_or_event_handler():
    offenders = []
    for template in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        text = template.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=\"|\son[a-z]+=\"", text):
            offenders.append(template.name)

    assert offenders == []
