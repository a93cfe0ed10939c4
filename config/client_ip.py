"""The address of the client a request comes from, for rate limits, lock-outs and the security log.

Behind reverse proxies REMOTE_ADDR is the nearest proxy, so every customer would share one address (one
rate limit, one lock-out). Each trusted proxy appends the address it received the request from to
X-Forwarded-For; with TRUSTED_PROXY_COUNT = n the client is therefore the n-th entry from the right. Entries
further left were written by the client itself and can be forged, so they are never read. With the default
of 0 no header is trusted: a request that reaches Django directly cannot choose its own address.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> str | None:
    address = address.strip()
    if address.startswith("[") and "]" in address:  # "[2001:db8::1]:4711"
        address = address[1 : address.index("]")]
    elif address.count(":") == 1:  # "203.0.113.7:51234" (some proxies add the port)
        address = address.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address as the trusted proxies saw it, else the connection's address (None: none).

    Also django-axes' AXES_CLIENT_IP_CALLABLE, which stores the address in an inet column: never a
    placeholder string.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [
        part for header in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if (part := header.strip())
    ]
    # Fewer entries than proxies: the request did not pass through all of them (or a proxy is
    # misconfigured); fall back to the connection rather than guess.
    if len(forwarded) < count:
        return remote
    return _valid(forwarded[-count]) or remote
