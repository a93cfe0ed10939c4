"""OrderBridge settings: everything from the environment, with defaults that run a fresh clone.

ORDERBRIDGE_ENV=development (default) runs on SQLite and an embedded broker with no server;
ORDERBRIDGE_ENV=production demands a SECRET_KEY and turns on every transport-security setting
(`manage.py check --deploy` passes with no warning). README's configuration table lists every variable.
"""

from pathlib import Path

import dj_database_url
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Exchange, Queue

from config.env import env_base_url, env_bool, env_choice, env_int, env_list, env_required, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("ORDERBRIDGE_VAR_DIR", str(BASE_DIR / "var")))

ENVIRONMENT = env_choice("ORDERBRIDGE_ENV", "development", {"development", "production"})
PRODUCTION = ENVIRONMENT == "production"

DEBUG = env_bool("DEBUG", not PRODUCTION)
if PRODUCTION:
    SECRET_KEY = env_required("SECRET_KEY")
else:
    # Only ever used by a developer's embedded run; production refuses to start without its own key.
    SECRET_KEY = env_str("SECRET_KEY", "dev-insecure-orderbridge-key-do-not-use-in-production")
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_htmx",
    "axes",
    "csp",
    "orders",
    "production",
    "crm_sync",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Signed webhooks (@machine_endpoint) are answered here, without the pages' middleware below: see its
    # docstring for what they still get. Middleware added below does not run for them.
    "config.middleware.MachineEndpointMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.LoginRequiredMiddleware",
    # After the login check (anonymous visitors are sent to log in first), before any view looks anything up.
    "config.middleware.LookupGuardMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "config.middleware.RefusalLogMiddleware",
    # Last, so that it sees the final authentication outcome of every login attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.branding",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'orderbridge.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, its health check without a round trip: config/postgresql/base.py.
    DATABASES["default"]["ENGINE"] = "config.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the Celery worker writes; IMMEDIATE makes a writer wait
    # for the lock at BEGIN instead of failing half-way with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests get a database file too, never the in-memory default: with an in-memory database the live
    # server's thread is handed the test thread's own connection, and an MES callback arriving while a
    # test delivers makes two threads drive one sqlite3 connection ("cannot commit transaction - SQL
    # statements in progress"). With a file each thread has its connection, as each process has under
    # `make run`. pytest-django adds the xdist worker's suffix to the name.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-orderbridge.sqlite3")}
    # The KPI indexes carry extra columns (INCLUDE) for PostgreSQL's index-only scans; SQLite builds
    # them as plain indexes on their key, which is all development needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (shared by every process: never a per-process memory cache) ------------------------------
CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Authentication and access ----------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend with each user's permission set kept in the shared cache (see config/auth.py).
    "config.auth.CachedPermissionsBackend",
    # Operators' badge number + PIN on the shop floor's shared devices (production.floor).
    "production.floor.auth.BadgeBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # each role lands on its own start page (config/views.py)
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_ENABLED = env_bool("AXES_ENABLED", True)
# The same client address as the tracking page's rate limit (honours ORDERBRIDGE_TRUSTED_PROXY_COUNT).
AXES_CLIENT_IP_CALLABLE = "config.client_ip.client_address"
# Also per address across user names: one password tried against many user names from one address is
# locked out after this many failures within the cool-off (config/lockout.py). Higher than the per-user
# limit, since an office behind one NAT address shares it.
AXES_HANDLER = "config.lockout.AddressLockoutHandler"
AXES_ADDRESS_FAILURE_LIMIT = env_int("AXES_ADDRESS_FAILURE_LIMIT", 20)
if AXES_ADDRESS_FAILURE_LIMIT < 1:
    raise ImproperlyConfigured("AXES_ADDRESS_FAILURE_LIMIT must be at least 1.")

# API tokens (orders/api_tokens): the default validity a user is offered when creating one.
ORDERBRIDGE_API_TOKEN_DAYS = env_int("ORDERBRIDGE_API_TOKEN_DAYS", 90)
if not 1 <= ORDERBRIDGE_API_TOKEN_DAYS <= 365:
    raise ImproperlyConfigured("ORDERBRIDGE_API_TOKEN_DAYS must be between 1 and 365.")

# Content-Security-Policy (django-csp): scripts, styles, images and forms only from this site; no inline
# script, no inline style, no framing. Pages keep JS in static/js and sizes in CSS classes (|width_class).
# The Swagger UI page relaxes style-src for itself only (config/urls.py). CSP_REPORT_ONLY=true sends the
# same policy as Content-Security-Policy-Report-Only, to try a stricter policy on a live site first.
_CSP_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF],
        "style-src": [CSP_SELF],
        "img-src": [CSP_SELF, "data:"],  # Bootstrap's icons (checkboxes, selects, close) are data: SVGs
        "font-src": [CSP_SELF],
        "connect-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
    }
}
if env_bool("CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP_POLICY
else:
    CONTENT_SECURITY_POLICY = _CSP_POLICY

# --- Internationalisation ---------------------------------------------------------------------------
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files (served by the app itself: plants are often offline) ------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    # QR decoding on the operator's phone (production.floor): barcode-detector (the BarcodeDetector API over
    # zxing-wasm, ZXing-C++), IIFE build (global BarcodeDetectionAPI), and its WebAssembly reader, served here
    # (the package's default would fetch it from a CDN).
    ("vendor/barcode-detector", NODE_MODULES / "barcode-detector" / "dist" / "iife"),
    ("vendor/zxing-wasm", NODE_MODULES / "zxing-wasm" / "dist" / "reader"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"

# --- API ---------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "orders.api_tokens.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "config.api.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OrderBridge API",
    "DESCRIPTION": "Orders, changes and production between CRM and MES.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI and ReDoc assets come from the drf-spectacular-sidecar package: the app serves its own
    # docs, with no CDN (plants are often offline).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery ------------------------------------------------------------------------------------------
# "localhost": the filesystem transport needs no host, but kombu warns "No hostname was supplied" without one.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://localhost//")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport: a queue folder shared by the web process and the worker on
    # one machine, so `make run` needs no broker server. Real deployments set CELERY_BROKER_URL.
    _queue_dir = VAR_DIR / "broker" / "queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "broker" / "processed"),
        "control_folder": str(VAR_DIR / "broker" / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Celery's Django fixup (5.6 on) closes the database connection before and after every task whatever
# CONN_MAX_AGE says (celery/celery#9824): a new PostgreSQL connection per task cost a worker about 3 ms
# of CPU, more than most of our tasks. With DB_REUSE_MAX it closes only once per that many tasks, and
# config/celery.py drops a broken or expired connection around each task as Django does per request.
CELERY_DB_REUSE_MAX = env_int("ORDERBRIDGE_CELERY_DB_REUSE_MAX", 1000)
# Deliveries to the CRM and the MES have a queue of their own, so a backlog of inbound work (or a long
# reschedule) never holds an outbound message back. A worker started without -Q takes both queues (the
# Redis transport serves them in turn); `-Q sync-deliveries` dedicates a worker to deliveries.
SYNC_DELIVERY_QUEUE = "sync-deliveries"
CELERY_TASK_DEFAULT_QUEUE = "celery"
# Each queue with its own routing key: left out, Celery would bind both to the default key and every task
# would land in both queues.
CELERY_TASK_QUEUES = tuple(
    Queue(name, Exchange(name, type="direct"), routing_key=name)
    for name in (CELERY_TASK_DEFAULT_QUEUE, SYNC_DELIVERY_QUEUE)
)
CELERY_TASK_ROUTES = {
    "crm_sync.deliver_order": {"queue": SYNC_DELIVERY_QUEUE},
    "crm_sync.deliver_orders": {"queue": SYNC_DELIVERY_QUEUE},
}

# --- Email -------------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "OrderBridge <orderbridge@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Reasons for changes are often longer than the 100 characters simple-history allows by default.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# --- OrderBridge -------------------------------------------------------------------------------------
ORDER_NUMBER_PREFIX = env_str("ORDERBRIDGE_ORDER_NUMBER_PREFIX", "SO")
EVENT_SOURCE = env_str("ORDERBRIDGE_EVENT_SOURCE", "urn:orderbridge")
# The KPI dashboard keeps its figures this long in the shared cache (0: always recompute).
KPI_CACHE_SECONDS = env_int("ORDERBRIDGE_KPI_CACHE_SECONDS", 60)
# Shop floor: the language travellers print in (a ?lang= on the request overrides it), and how often the
# work-center boards on the floor's TVs refresh themselves.
PLANT_LANGUAGE = env_choice("ORDERBRIDGE_PLANT_LANGUAGE", LANGUAGE_CODE, {code for code, _name in LANGUAGES})
BOARD_REFRESH_SECONDS = env_int("ORDERBRIDGE_BOARD_REFRESH_SECONDS", 30)
if not 5 <= BOARD_REFRESH_SECONDS <= 3600:
    raise ImproperlyConfigured("ORDERBRIDGE_BOARD_REFRESH_SECONDS must be between 5 and 3600.")
# Spreadsheet imports: the largest file and the most data rows one import takes.
IMPORT_MAX_BYTES = env_int("ORDERBRIDGE_IMPORT_MAX_BYTES", 10 * 1024 * 1024)
IMPORT_MAX_ROWS = env_int("ORDERBRIDGE_IMPORT_MAX_ROWS", 20_000)

# --- Change requests: when a production manager must approve as well as a planner ---------------------
# A planner always approves. The manager too when work has started on an affected line, when the change
# cancels or reduces started work, or when the impact pushes another order past its promised date.
CHANGE_REQUEST_MANAGER_WHEN_WORK_STARTED = env_bool("ORDERBRIDGE_CR_MANAGER_WHEN_WORK_STARTED", True)
CHANGE_REQUEST_MANAGER_WHEN_REDUCING_STARTED = env_bool("ORDERBRIDGE_CR_MANAGER_WHEN_REDUCING_STARTED", True)
CHANGE_REQUEST_MANAGER_WHEN_DELAYING_OTHERS = env_bool("ORDERBRIDGE_CR_MANAGER_WHEN_DELAYING_OTHERS", True)

# --- Production scheduling ----------------------------------------------------------------------------
# Every release/change/exception makes the fast plan at once (one run at a time, a burst coalesced).
PRODUCTION_PLAN_AT_ONCE = env_bool("PRODUCTION_PLAN_AT_ONCE", True)
# A burst of events within this many seconds makes one background optimiser run (method "optimised").
PRODUCTION_RESCHEDULE_DEBOUNCE_SECONDS = env_int("PRODUCTION_RESCHEDULE_DEBOUNCE_SECONDS", 30)
PRODUCTION_RESCHEDULE_METHOD = env_choice("PRODUCTION_RESCHEDULE_METHOD", "optimised", {"fast", "optimised"})
# The optimiser's time limit: measured where its gain flattens (README, "Planning").
PRODUCTION_OPTIMISE_SECONDS = env_int("PRODUCTION_OPTIMISE_SECONDS", 20)
PRODUCTION_SOLVER_WORKERS = env_int("PRODUCTION_SOLVER_WORKERS", 2)
# The frozen window: operations planned to start within this many hours keep their slots on reschedule
# (material is staged, crews are told); 0 keeps only operations already started, which never move.
PRODUCTION_FROZEN_HOURS = env_int("PRODUCTION_FROZEN_HOURS", 8)
if not 0 <= PRODUCTION_FROZEN_HOURS <= 24 * 14:
    raise ImproperlyConfigured("PRODUCTION_FROZEN_HOURS must be between 0 and 336 hours.")
# What "a better plan" means to both engines: total weighted tardiness, or the number of late work orders
# (on-time rate); VIP on-time is shown beside either.
# The fast engine's bounded local search after ATC (a few hundred ms; it also keeps firm promises).
PRODUCTION_FAST_LOCAL_SEARCH = env_bool("PRODUCTION_FAST_LOCAL_SEARCH", True)
PRODUCTION_OBJECTIVE = env_choice(
    "PRODUCTION_OBJECTIVE", "weighted_tardiness", {"weighted_tardiness", "on_time"}
)
# Supply planning: how long a delivery-date quote's material hold lasts before it expires (minutes), and how
# often the beat expires holds and refreshes the shortage list (seconds).
SUPPLY_QUOTE_HOLD_MINUTES = env_int("SUPPLY_QUOTE_HOLD_MINUTES", 60 * 24)
if not 1 <= SUPPLY_QUOTE_HOLD_MINUTES <= 60 * 24 * 30:
    raise ImproperlyConfigured("SUPPLY_QUOTE_HOLD_MINUTES must be between 1 and 43200 minutes.")
SUPPLY_CHECK_SECONDS = env_int("SUPPLY_CHECK_SECONDS", 300)
if SUPPLY_CHECK_SECONDS < 10:
    raise ImproperlyConfigured("SUPPLY_CHECK_SECONDS must be at least 10 seconds.")

# --- Integration (crm_sync): outbound delivery to the CRM and the MES ---------------------------------
# Retries back off exponentially from SYNC_RETRY_BASE_MS (with jitter) up to SYNC_RETRY_MAX_SECONDS; a
# delivery becomes a dead letter after SYNC_MAX_ATTEMPTS attempts or SYNC_MAX_AGE_SECONDS of trying.
SYNC_MAX_ATTEMPTS = env_int("ORDERBRIDGE_SYNC_MAX_ATTEMPTS", 50)
SYNC_MAX_AGE_SECONDS = env_int("ORDERBRIDGE_SYNC_MAX_AGE_SECONDS", 3 * 24 * 3600)
SYNC_RETRY_BASE_MS = env_int("ORDERBRIDGE_SYNC_RETRY_BASE_MS", 2000)
SYNC_RETRY_MAX_SECONDS = env_int("ORDERBRIDGE_SYNC_RETRY_MAX_SECONDS", 3600)
SYNC_SWEEP_SECONDS = env_int("ORDERBRIDGE_SYNC_SWEEP_SECONDS", 5)
# MESA's B2MML schemas stay outside the repository (licence); the MES export is validated against them.
B2MML_SCHEMA_DIR = Path(
    env_str("ORDERBRIDGE_B2MML_SCHEMA_DIR", str(BASE_DIR.parent / "shared" / "standards" / "b2mml"))
)
# A worker killed mid-request holds its claim this long past the request's timeouts, then another takes it.
SYNC_LEASE_MARGIN_SECONDS = env_int("ORDERBRIDGE_SYNC_LEASE_MARGIN_SECONDS", 30)
# acks_late redelivers a task whose worker died; one that kills its worker each time is dead after this.
SYNC_POISON_MAX_DELIVERIES = env_int("ORDERBRIDGE_CELERY_POISON_MAX_DELIVERIES", 3)
# The relay re-publishes work never tried only once it is this old: its own task is normally on the way.
SYNC_RELAY_GRACE_SECONDS = env_int("ORDERBRIDGE_SYNC_RELAY_GRACE_SECONDS", 10)
# The relay (beat sweep) re-publishes a waiting delivery queue or inbound message at most once per this
# lease: what it queued is marked queued until then, so a backlog is never flooded with duplicate tasks. A
# task lost with the broker (Redis restarted with its queue) is published again when its lease runs out.
SYNC_QUEUED_LEASE_SECONDS = env_int("ORDERBRIDGE_SYNC_QUEUED_LEASE_SECONDS", 60)
# While a system's deliveries are failing and none is due, the sweep makes one of them due now at most once
# per this many seconds (a probe; it does not count against the retry budget). A successful retry or probe
# makes everything waiting for that system due at once: recovery follows the receiver coming back.
SYNC_PROBE_SECONDS = env_int("ORDERBRIDGE_SYNC_PROBE_SECONDS", 10)
# One task drains the queues of a batch of orders in turn while the receiver answers quickly (one task
# message for them all); once one order's drain took longer than this, the orders left are handed off as a
# task each, so that a slow receiver gets them side by side from the deliveries worker's threads.
SYNC_DELIVERY_HAND_OFF_MS = env_int("ORDERBRIDGE_SYNC_DELIVERY_HAND_OFF_MS", 250)
# A task receipt still "running" this long after its last delivery belongs to a worker that was killed or
# lost its database: the sweep marks it abandoned (the outbox and inbound rows, not the task, are the truth).
SYNC_TASK_LEASE_SECONDS = env_int("ORDERBRIDGE_SYNC_TASK_LEASE_SECONDS", 15 * 60)
# A CRM's "created" messages waiting together are taken in by one task, in one transaction, up to this many
# (crm_sync.inbound.processing): a burst costs far less per order than one at a time. 1: one at a time.
SYNC_INBOUND_BATCH = max(1, env_int("ORDERBRIDGE_SYNC_INBOUND_BATCH", 25))
# A CRM's new order younger than this waits the rest of it before its task takes it in, so that those arriving
# just behind it join its batch. Off by default: at 50 orders/s it saved 14 % of the CPU per order and tripled
# the p99 latency (README, Benchmarks); a hub short of CPU at a steady rate may trade one for the other.
SYNC_INBOUND_LINGER_MS = env_int("ORDERBRIDGE_SYNC_INBOUND_LINGER_MS", 0)
if not 0 <= SYNC_INBOUND_LINGER_MS <= 5000:
    raise ImproperlyConfigured("ORDERBRIDGE_SYNC_INBOUND_LINGER_MS must be between 0 and 5000.")
SYNC_RECONCILE_SECONDS = env_int("ORDERBRIDGE_SYNC_RECONCILE_SECONDS", 15 * 60)
# The CRM's progress per order (order.progress) is coalesced: at most one event per order per this many
# seconds, carrying the state when it is written (0: one per report). A projected completion that moves by
# more than PROJECTION_SHIFT_HOURS from the one the CRM was last given is sent even when not late.
CRM_PROGRESS_INTERVAL_SECONDS = env_int("ORDERBRIDGE_CRM_PROGRESS_INTERVAL_SECONDS", 60)
if not 0 <= CRM_PROGRESS_INTERVAL_SECONDS <= 24 * 3600:
    raise ImproperlyConfigured("ORDERBRIDGE_CRM_PROGRESS_INTERVAL_SECONDS must be between 0 and 86400.")
PROJECTION_SHIFT_HOURS = env_int("ORDERBRIDGE_PROJECTION_SHIFT_HOURS", 24)
if not 0 <= PROJECTION_SHIFT_HOURS <= 24 * 365:
    raise ImproperlyConfigured("ORDERBRIDGE_PROJECTION_SHIFT_HOURS must be between 0 and 8760.")
# A change to work under way delivered to the MES but not acknowledged within this time is shown on the order
# page and in sync health, and its planner is notified (checked by beat every MES_ACK_CHECK_SECONDS).
MES_ACK_TIMEOUT_SECONDS = env_int("ORDERBRIDGE_MES_ACK_TIMEOUT_SECONDS", 120)
if not 1 <= MES_ACK_TIMEOUT_SECONDS <= 7 * 24 * 3600:
    raise ImproperlyConfigured("ORDERBRIDGE_MES_ACK_TIMEOUT_SECONDS must be between 1 and 604800.")
MES_ACK_CHECK_SECONDS = env_int("ORDERBRIDGE_MES_ACK_CHECK_SECONDS", 30)
# A rework request tells the MES how many rework rounds a work order may have at most.
MES_REWORK_MAX_ROUNDS = env_int("ORDERBRIDGE_MES_REWORK_MAX_ROUNDS", 2)
if not 1 <= MES_REWORK_MAX_ROUNDS <= 20:
    raise ImproperlyConfigured("ORDERBRIDGE_MES_REWORK_MAX_ROUNDS must be between 1 and 20.")
# --- Shop floor (production.floor) ---------------------------------------------------------------------
# A work center without a plant, when there is not exactly one plant: its work goes to the MES or the floor.
PLANT_MODE = env_choice("ORDERBRIDGE_PLANT_MODE", "mes", {"mes", "floor"})
# How long an operator's badge sign-in lasts on a shared device (a shift), in hours.
FLOOR_SESSION_HOURS = env_int("ORDERBRIDGE_FLOOR_SESSION_HOURS", 12)
if not 1 <= FLOOR_SESSION_HOURS <= 24:
    raise ImproperlyConfigured("ORDERBRIDGE_FLOOR_SESSION_HOURS must be between 1 and 24.")
# A device time older than this (offline) or ahead of the server by more than the skew is not believed.
FLOOR_MAX_OFFLINE_HOURS = env_int("ORDERBRIDGE_FLOOR_MAX_OFFLINE_HOURS", 24)
if not 1 <= FLOOR_MAX_OFFLINE_HOURS <= 168:
    raise ImproperlyConfigured("ORDERBRIDGE_FLOOR_MAX_OFFLINE_HOURS must be between 1 and 168.")
FLOOR_CLOCK_SKEW_SECONDS = env_int("ORDERBRIDGE_FLOOR_CLOCK_SKEW_SECONDS", 300)
if not 0 <= FLOOR_CLOCK_SKEW_SECONDS <= 3600:
    raise ImproperlyConfigured("ORDERBRIDGE_FLOOR_CLOCK_SKEW_SECONDS must be between 0 and 3600.")
FLOOR_PHOTO_MAX_BYTES = env_int("ORDERBRIDGE_FLOOR_PHOTO_MAX_BYTES", 1_500_000)
if not 10_000 <= FLOOR_PHOTO_MAX_BYTES <= 1_800_000:
    # Sent base64 in a JSON body, which must stay under DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB).
    raise ImproperlyConfigured("ORDERBRIDGE_FLOOR_PHOTO_MAX_BYTES must be between 10000 and 1800000.")
CELERY_BEAT_SCHEDULE = {
    # Due retries, and pending events whose task was lost with the broker, are picked up here.
    "crm-sync-sweep": {"task": "crm_sync.deliveries_sweep", "schedule": float(SYNC_SWEEP_SECONDS)},
    # Drift between us and the CRM / MES read APIs, listed for the admins.
    "crm-sync-reconcile": {"task": "crm_sync.reconcile", "schedule": float(SYNC_RECONCILE_SECONDS)},
    # Progress events whose countdown task was lost (each normally goes out from its own task, on time).
    "crm-sync-progress": {"task": "crm_sync.progress_sweep", "schedule": float(SYNC_SWEEP_SECONDS)},
    # Changes to work under way the MES has not acknowledged in time: shown, and the planner told.
    "crm-sync-mes-acks": {"task": "crm_sync.mes_acks_overdue", "schedule": float(MES_ACK_CHECK_SECONDS)},
    # Quote holds past their expiry give their material back; shortages follow supply and the plan.
    "supply-holds-expire": {
        "task": "production.supply_holds_expire",
        "schedule": float(SUPPLY_CHECK_SECONDS),
    },
    "supply-shortages": {"task": "production.supply_shortages", "schedule": float(SUPPLY_CHECK_SECONDS)},
}

# --- Customer service: tracking links and notifications ----------------------------------------------
# The public tracking page: requests per minute from one client address, and unknown or tampered tokens
# per hour after which that address is refused for the rest of the hour (guessing gets nowhere).
TRACKING_RATE_PER_MINUTE = env_int("ORDERBRIDGE_TRACKING_RATE_PER_MINUTE", 60)
TRACKING_BAD_TOKENS_PER_HOUR = env_int("ORDERBRIDGE_TRACKING_BAD_TOKENS_PER_HOUR", 20)
# Reverse proxies in front of OrderBridge that append the client's address to X-Forwarded-For (nginx with
# `proxy_add_x_forwarded_for`, a load balancer, ...). 0 trusts no header: REMOTE_ADDR is the client. Rate
# limits, login lock-outs and the security log all read the address through config.client_ip.
TRUSTED_PROXY_COUNT = env_int("ORDERBRIDGE_TRUSTED_PROXY_COUNT", 0)
if not 0 <= TRUSTED_PROXY_COUNT <= 10:
    raise ImproperlyConfigured("ORDERBRIDGE_TRUSTED_PROXY_COUNT must be between 0 and 10.")
# Chat webhooks users may enter: allowed hosts (empty: any) and whether plain http is accepted. Production
# defaults to the public WeCom, DingTalk and Slack endpoints so that a webhook cannot probe the plant LAN.
NOTIFY_WEBHOOK_HOSTS = env_list(
    "ORDERBRIDGE_NOTIFY_WEBHOOK_HOSTS",
    ["qyapi.weixin.qq.com", "oapi.dingtalk.com", "hooks.slack.com"] if PRODUCTION else [],
)
NOTIFY_WEBHOOK_ALLOW_HTTP = env_bool("ORDERBRIDGE_NOTIFY_WEBHOOK_ALLOW_HTTP", not PRODUCTION)
# Email/chat deliveries are retried with exponential backoff, then marked failed after this many attempts.
NOTIFY_MAX_ATTEMPTS = env_int("ORDERBRIDGE_NOTIFY_MAX_ATTEMPTS", 8)
# Where users reach OrderBridge: links in emails and chat messages start with it.
SITE_URL = env_str("ORDERBRIDGE_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Where customers reach the public tracking pages. Empty: the request's scheme and host (wrong behind a
# proxy that rewrites Host, or when staff use an internal name); without a request, SITE_URL.
PUBLIC_URL = env_base_url("ORDERBRIDGE_PUBLIC_URL", "")
# The manufacturer's name on the customers' tracking pages (empty: "OrderBridge").
COMPANY_NAME = env_str("ORDERBRIDGE_COMPANY_NAME", "").strip()
CELERY_BEAT_SCHEDULE["notifications-sweep"] = {"task": "orders.notifications_sweep", "schedule": 60.0}

# --- Transport security (production profile) ----------------------------------------------------------
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
# Sessions stay in the database alone (Django's default), not cached_db: Django's cached_db answers 500 when
# the cache is unreachable (its write-back after a database read, and logout, raise), and a logout during
# a Redis outage would leave the session valid in the cache once Redis is back. A Redis outage costs
# queries here, never a refused request or a session that outlives its logout.
# Read with one hand-written statement (config/sessions.py): the ORM's read was a quarter of a report's CPU.
SESSION_ENGINE = "config.sessions"
X_FRAME_OPTIONS = "DENY"

# --- Logging -----------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "orderbridge.security": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        # runserver's line per request (the simulated MES reports every few seconds) buried the demo's
        # start-up text; errors still show. ACCESS_LOG_LEVEL=INFO brings every request back.
        "django.server": {"level": env_str("ACCESS_LOG_LEVEL", "WARNING")},
        # fpdf2 subsets the travellers' font through fontTools, which logs every table it touches at INFO.
        "fontTools": {"level": "WARNING"},
        # httpx logs every request it sends at INFO: a line per delivery in the worker, which records each
        # attempt as a row anyway (the admin's attempt log). Its warnings and errors still show.
        "httpx": {"level": "WARNING"},
    },
}

TEST_RUNNER = "django.test.runner.DiscoverRunner"
