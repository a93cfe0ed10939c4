"""Sessions read with one statement (config.sessions): the same sessions as Django's database store."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from config.sessions import SessionStore

pytestmark = pytest.mark.django_db


def saved_session(**data) -> str:
    store = SessionStore()
    store.update(data)
    store.save()
    return store.session_key


def test_the_site_uses_it():
    assert settings.SESSION_ENGINE == "config.sessions"


def test_a_saved_session_reads_back_in_one_query(django_assert_num_queries):
    key = saved_session(badge="1001", plant="P1")

    with django_assert_num_queries(1):
        data = dict(SessionStore(session_key=key).items())

    assert data == {"badge": "1001", "plant": "P1"}


def test_an_expired_session_reads_as_none_and_its_key_is_dropped():
    key = saved_session(badge="1001")
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))

    store = SessionStore(session_key=key)

    assert dict(store.items()) == {}
    assert store.session_key is None


def test_an_unknown_key_reads_as_none_and_saving_makes_a_new_one():
    store = SessionStore(session_key="x" * 32)
    assert dict(store.items()) == {}

    store["badge"] = "1001"
    store.save()

    assert store.session_key != "x" * 32
    assert SessionStore(session_key=store.session_key)["badge"] == "1001"


def test_a_signed_in_page_still_knows_its_user(client, planner):
    client.force_login(planner)

    response = client.get("/", follow=True)

    assert response.status_code == 200
    assert response.wsgi_request.user == planner
    assert settings.LOGIN_URL not in response.wsgi_request.path
