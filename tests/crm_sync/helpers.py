"""Sending signed webhooks to our endpoints and running the inbound queue, as the worker would."""

from __future__ import annotations

import json
import uuid

from crm_sync import inbound, webhooks
from tests.crm_sync.factories import TEST_SECRET


def post_hook(client, url, payload, *, msg_id=None, secret=TEST_SECRET, content_type="application/json"):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = webhooks.signed_headers(secret=secret, msg_id=msg_id or f"msg_{uuid.uuid4().hex}", body=body)
    return client.post(url, data=body, content_type=content_type, headers=headers)


def process_all() -> None:
    for pk in inbound.inbound_due():
        inbound.inbound_process(message_pk=pk)
