"""The orders app's models, for Django: each lives in its package's model module, imported here.

No logic here. Other code imports a model from here (`from orders.models import SalesOrder`) or from its
package's model module; Django finds them all through this module.
"""

from orders.api_tokens.models import ApiToken  # noqa: F401
from orders.catalog.models import (  # noqa: F401
    Customer,
    CustomerContact,
    CustomerTier,
    Priority,
    Product,
    ProductFamily,
)
from orders.change_requests.models import (  # noqa: F401
    ChangeOrigin,
    ChangeRequest,
    ChangeRequestDecision,
    ChangeRequestNumber,
    ChangeRequestStatus,
    DecisionAction,
    DecisionRole,
    Disposition,
)
from orders.imports.models import ImportJob, ImportJobStatus  # noqa: F401
from orders.notifications.models import (  # noqa: F401
    Notification,
    NotificationDelivery,
    NotificationPreference,
    NotificationProfile,
)
from orders.sales.models import (  # noqa: F401
    CANCELLABLE_STATUSES,
    EDITABLE_STATUSES,
    HOLDABLE_STATUSES,
    OPEN_STATUSES,
    OrderLine,
    OrderNumberAllocation,
    OrderStatus,
    SalesOrder,
    SavedOrderFilter,
)
from orders.tracking.models import OrderRating, TrackingLink  # noqa: F401
