"""Standard Webhooks signing and verification (https://www.standardwebhooks.com/).

Pure standard library, so that the simulators (which run without Django) use the very same code.
The signed content is f"{id}.{timestamp}.{body}"; the signature header carries one or more
space-separated "v1,<base64 HMAC-SHA256>" entries (several during a secret rotation).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"  # noqa: S105 - the scheme's prefix, not a secret
TOLERANCE_SECONDS = 5 * 60


class WebhookVerificationError(Exception):
    """The message is unsigned, badly signed, or outside the timestamp tolerance."""


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def secret_key(secret: str) -> bytes:
    raw = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        return base64.b64decode(raw, validate=True)
    except ValueError as exc:
        raise ValueError("A signing secret is whsec_ followed by base64.") from exc


def sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the webhook-signature header value for one message."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(*, secret: str, msg_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body),
    }


def verify(
    *,
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> str:
    """Check a message's signature and age; return its webhook-id. Raise WebhookVerificationError."""
    lowered = {key.lower(): value for key, value in headers.items()}
    msg_id = lowered.get("webhook-id", "")
    timestamp_text = lowered.get("webhook-timestamp", "")
    signatures = lowered.get("webhook-signature", "")
    if not (msg_id and timestamp_text and signatures):
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(timestamp_text)
    except ValueError as exc:
        raise WebhookVerificationError("webhook-timestamp is not an integer") from exc
    now = time.time() if now is None else now
    # Too old is a replay; too far ahead is a clock we must not trust either.
    if abs(now - timestamp) > tolerance:
        raise WebhookVerificationError("webhook-timestamp outside the tolerance")
    expected = sign(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body).split(",", 1)[1]
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return msg_id
    raise WebhookVerificationError("no matching signature")
