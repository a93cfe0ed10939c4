"""Inbound messages from the CRM and the MES: verify, store raw under a unique id, answer, process later.

Modules: receiving (verify and store; replay), processing (DISPATCH: the message kinds per system kind and
their handlers in crm.py and mes.py; retries and dead letters), tasks (process_inbound), common (what the
handlers share: the message as our document, field checks, the sequence cursor).
"""

from crm_sync.inbound.processing import DISPATCH, inbound_due, inbound_process, inbound_process_waiting
from crm_sync.inbound.receiving import SignatureRefused, inbound_enqueue, inbound_receive, inbound_replay
from crm_sync.inbound.tasks import process_inbound

__all__ = [
    "DISPATCH",
    "SignatureRefused",
    "inbound_due",
    "inbound_enqueue",
    "inbound_process",
    "inbound_process_waiting",
    "inbound_receive",
    "inbound_replay",
    "process_inbound",
]
