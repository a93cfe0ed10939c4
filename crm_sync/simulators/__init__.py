"""Stand-ins for a CRM and an MES: small real HTTP receivers, run as processes of their own.

    python -m crm_sync.simulators.crm --port 8101    python -m crm_sync.simulators.mes --port 8102

`base` is the receiver both share, `crm` and `mes` their parsers and replies, `mes_state` what the MES holds
per work order (its read API) and how each of our messages changes it. They run without Django. What
the rest of OrderBridge needs from them: the demo's shared secrets (`crm_sync_setup_demo` registers the
simulators with the secret they verify).
"""

from crm_sync.simulators.base import demo_secret

__all__ = ["demo_secret"]
