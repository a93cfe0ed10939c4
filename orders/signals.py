"""Audit log of logins and failed logins (refused actions are logged by the services)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from config.client_ip import client_address

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.http import HttpRequest

security_log = logging.getLogger("orderbridge.security")


def _client(request: HttpRequest | None) -> str:
    if request is None:
        return "-"
    return client_address(request) or "-"


@receiver(user_logged_in)
def log_login(sender: object, request: HttpRequest | None, user: AbstractBaseUser, **kwargs: object) -> None:
    security_log.info("login user=%s ip=%s", user.get_username(), _client(request))


@receiver(user_logged_out)
def log_logout(
    sender: object, request: HttpRequest | None, user: AbstractBaseUser | None, **kwargs: object
) -> None:
    security_log.info("logout user=%s ip=%s", user.get_username() if user else "-", _client(request))


@receiver(user_login_failed)
def log_login_failed(
    sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: object
) -> None:
    security_log.warning("login_failed user=%s ip=%s", credentials.get("username", "-"), _client(request))
