"""Change requests (CRs): every change of an order that production already holds.

The package's public face: what other packages call. Inside, by purpose:
- operations: one class per kind of change (clean, describe, diff, impact, apply), registered by op name;
- impact: the impact analysis (production registers its provider) and the approval matrix;
- proposals: create, edit, submit, re-base; decisions: approve, reject, withdraw, acknowledge, act by name;
- apply: an approved CR becomes a new revision of the order (status changes through orders.sales.transitions);
- records: the locks, history, decision rows, events and supersession every write shares;
- policies: who may request, approve, apply; selectors: reads (who sees which, the approvers' inbox).

Model modules import nothing from here: orders.models imports orders.change_requests.models, which runs
this file first, so the modules below import models from their model modules, never from the app's
package face while it is loading.
"""

from orders.change_requests.apply import change_request_apply
from orders.change_requests.change_lists import change_diff, describe_change
from orders.change_requests.decisions import (
    ACTION_LABELS,
    available_actions,
    change_request_act,
    change_request_approve,
    change_request_mark_acknowledged,
    change_request_reject,
    change_request_withdraw,
)
from orders.change_requests.impact import (
    MANAGER_REASONS,
    Impact,
    ImpactProvider,
    WorkImpact,
    register_impact_provider,
)
from orders.change_requests.operations import (
    OP_LABELS,
    OPERATIONS,
    OPS,
    Change,
    DiffRow,
)
from orders.change_requests.policies import ADD_PERM, APPROVE_PERM, CHANGEABLE_STATUSES, MANAGER_PERM
from orders.change_requests.proposals import (
    change_request_create,
    change_request_rebase,
    change_request_submit,
    change_request_update,
)
from orders.change_requests.selectors import change_requests_visible_to

__all__ = [
    "ACTION_LABELS",
    "ADD_PERM",
    "APPROVE_PERM",
    "CHANGEABLE_STATUSES",
    "MANAGER_PERM",
    "MANAGER_REASONS",
    "OPERATIONS",
    "OPS",
    "OP_LABELS",
    "Change",
    "DiffRow",
    "Impact",
    "ImpactProvider",
    "WorkImpact",
    "available_actions",
    "change_diff",
    "change_request_act",
    "change_request_apply",
    "change_request_approve",
    "change_request_create",
    "change_request_mark_acknowledged",
    "change_request_rebase",
    "change_request_reject",
    "change_request_submit",
    "change_request_update",
    "change_request_withdraw",
    "change_requests_visible_to",
    "describe_change",
    "register_impact_provider",
]
