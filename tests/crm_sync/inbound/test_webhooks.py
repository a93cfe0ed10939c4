"""Standard Webhooks signing, checked against the scheme's published test vector."""

from __future__ import annotations

import pytest

from crm_sync import webhooks

# From the Standard Webhooks specification's reference libraries.
VECTOR = {
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "msg_id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "timestamp": 1614265330,
    "body": b'{"test": 2432232314}',
}
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def headers(**overrides) -> dict:
    return {
        "webhook-id": VECTOR["msg_id"],
        "webhook-timestamp": str(VECTOR["timestamp"]),
        "webhook-signature": SIGNATURE,
        **overrides,
    }


def test_it_signs_like_the_reference_implementation():
    assert webhooks.sign(**VECTOR) == SIGNATURE


def test_it_accepts_a_good_signature_among_several():
    msg_id = webhooks.verify(
        secret=VECTOR["secret"],
        headers=headers(**{"webhook-signature": f"v1,bm9wZQ== {SIGNATURE}"}),
        body=VECTOR["body"],
        now=VECTOR["timestamp"] + 10,
    )

    assert msg_id == VECTOR["msg_id"]


def test_it_rejects_a_tampered_body():
    with pytest.raises(webhooks.WebhookVerificationError):
        webhooks.verify(
            secret=VECTOR["secret"], headers=headers(), body=b'{"test": 1}', now=VECTOR["timestamp"]
        )


def test_it_rejects_a_message_older_than_five_minutes():
    with pytest.raises(webhooks.WebhookVerificationError, match="tolerance"):
        webhooks.verify(
            secret=VECTOR["secret"], headers=headers(), body=VECTOR["body"], now=VECTOR["timestamp"] + 301
        )


def test_it_rejects_an_unsigned_message():
    with pytest.raises(webhooks.WebhookVerificationError, match="missing"):
        webhooks.verify(secret=VECTOR["secret"], headers={}, body=VECTOR["body"])
