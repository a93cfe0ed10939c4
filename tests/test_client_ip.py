"""The client's address behind trusted reverse proxies (rate limits, lock-outs, the security log)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from config.client_ip import client_address


def request(remote: str = "10.0.0.2", forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/track/x/", **extra)


def test_by_default_no_forwarded_header_is_trusted(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request(forwarded="203.0.113.7")) == "10.0.0.2"


def test_behind_one_proxy_the_client_is_the_last_forwarded_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client forged the first entry; the proxy appended the address it really saw.
    assert client_address(request(forwarded="198.51.100.66, 203.0.113.7")) == "203.0.113.7"


def test_behind_two_proxies_the_client_is_the_second_address_from_the_right(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    forwarded = "198.51.100.66, 203.0.113.7, 10.0.0.1"
    assert client_address(request(forwarded=forwarded)) == "203.0.113.7"


def test_a_request_that_bypassed_the_proxies_keeps_its_connection_address(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_address(request(remote="192.0.2.9", forwarded="203.0.113.7")) == "192.0.2.9"
    assert client_address(request(remote="192.0.2.9")) == "192.0.2.9"


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ("[2001:db8::1]:4711", "2001:db8::1"),
        ("203.0.113.7:51234", "203.0.113.7"),
        ("2001:db8::2", "2001:db8::2"),
    ],
)
def test_ports_and_ipv6_forms_are_read(settings, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(request(forwarded=forwarded)) == expected


def test_garbage_in_the_trusted_position_falls_back_to_the_connection(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(request(forwarded="unknown")) == "10.0.0.2"
