"""Attest settings.

Every value comes from an environment variable with a default that runs on one
machine with nothing else installed: SQLite in the project folder, Celery tasks
run in-process after commit. See the settings table in README.md.
"""

import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import EnvError, env_bool, env_int, env_list, env_str, is_real_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

try:
    DEBUG = env_bool("DEBUG", False)
except EnvError as exc:
    raise ImproperlyConfigured(str(exc)) from None

_DEV_SECRET_KEY = "django-insecure-attest-development-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY") or _DEV_SECRET_KEY
# makemigrations only compares models with migration files; it needs no secret to do so.
_NEEDS_NO_SECRET = sys.argv[1:2] == ["makemigrations"]
if not DEBUG and not is_real_secret_key(SECRET_KEY) and not _NEEDS_NO_SECRET:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters when DEBUG is off "
        "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(64))')."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "core",
    "cases",
    "evidence",
    "config.apps.ProjectConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.api.caching.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "cases.audit.AccessLogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First: refuses sign-ins of a locked-out user or address before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL plus a busy timeout lets the in-process task runner and the dev server share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language and time --------------------------------------------------------
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [("en", "English"), ("uk", "Українська")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True  # stored in UTC
TIME_ZONE = env_str("TIME_ZONE", "Europe/Kyiv")  # shown in this zone

# --- Files ------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
# Evidence files live here; they are served only through permission-checked views.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "media")
# MEDIA_STORAGE=s3 keeps evidence files in an S3-compatible bucket (django-storages; AWS_* below).
# MEDIA_ROOT then holds only temporary files: uploads being hashed, downloads, export builds.
MEDIA_STORAGE = env_str("MEDIA_STORAGE", "local").strip().lower()
if MEDIA_STORAGE not in {"local", "s3"}:
    raise ImproperlyConfigured(f"MEDIA_STORAGE must be local or s3; got {MEDIA_STORAGE!r}")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if MEDIA_STORAGE == "s3":
    STORAGES["default"] = {"BACKEND": "evidence.storage.EvidenceS3Storage"}
    AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
    if not AWS_STORAGE_BUCKET_NAME:
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME")
    AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL") or None  # MinIO, Ceph, ...; empty: AWS
    AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME") or None
    AWS_LOCATION = env_str("AWS_LOCATION")  # a key prefix inside the bucket
    # AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are read from the environment by boto3 itself.
# Runtime state that is neither evidence nor code: beat schedule, development keys.
VAR_DIR = Path(env_str("VAR_DIR") or BASE_DIR / "var")

# Uploads stream to temporary files above 2.5 MB, so memory stays flat for large photos.
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10_485_760)
ATTEST_MAX_UPLOAD_BYTES = env_int("ATTEST_MAX_UPLOAD_BYTES", 2_147_483_648)
ATTEST_MAX_IMAGE_PIXELS = env_int("ATTEST_MAX_IMAGE_PIXELS", 250_000_000)
# Every upload streams to a temporary file beside the evidence store and is hashed on the way in.
FILE_UPLOAD_HANDLERS = ["evidence.filestore.HashingUploadHandler"]
FILE_UPLOAD_PERMISSIONS = 0o444
# In production, nginx serves permission-checked files: the view answers with X-Accel-Redirect
# to this internal location (e.g. /protected/ mapped to MEDIA_ROOT). Empty: the view streams them.
ATTEST_X_ACCEL_REDIRECT_PREFIX = env_str("ATTEST_X_ACCEL_REDIRECT_PREFIX")

# --- Celery -----------------------------------------------------------------
# Without a broker, tasks run in-process; callers enqueue them on commit, so they
# still run after the transaction that created their rows.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = env_bool("CELERY_TASK_EAGER_PROPAGATES", False)
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else None
)
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "attest")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 3600)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A message not acked within the visibility timeout is redelivered. It must outlast the
# longest task, or a slow task would run twice at once.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_TASK_TIME_LIMIT + 600,
    "socket_connect_timeout": 5,
    "socket_timeout": 10,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 5
CELERY_REDIS_SOCKET_TIMEOUT = 10
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

HEALTHZ_TASK_TIMEOUT = env_int("HEALTHZ_TASK_TIMEOUT", 5)

# --- REST API ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "cases.api.authentication.CaseTokenAuthentication",
        "core.api.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PagePagination",
    # DRF's two, with JSON encoded by orjson where the document is the same.
    "DEFAULT_RENDERER_CLASSES": [
        "core.api.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # DRF's three, with a JSON parser that refuses deeply nested bodies (a RecursionError otherwise)
    # and a multipart parser that refuses a body none of whose parts has a name (see core.api.parsers).
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "core.api.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": [
        "core.api.filters.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "SEARCH_PARAM": "q",
    "DEFAULT_THROTTLE_CLASSES": ["core.api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "token": env_str("API_THROTTLE_RATE", "1200/min"),
        # POST /cases/{id}/verify/ re-hashes every file of a case: a few per hour per user.
        "fixity_check": env_str("API_FIXITY_CHECK_RATE", "4/hour"),
        # Values that are no API token, per client address (IPv6: per /64), each an access-log row;
        # past it, 429 and no row. An expired or revoked token is always refused and recorded.
        "refused_token": env_str("API_REFUSED_TOKEN_RATE", "30/min"),
    },
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# Lists count exactly up to this many rows, then say "at least" (count_exact: false) instead of
# counting a whole table on every page.
API_EXACT_COUNT_LIMIT = env_int("API_EXACT_COUNT_LIMIT", 1_000)

SPECTACULAR_SETTINGS = {
    "TITLE": "Attest API",
    "DESCRIPTION": "Cases, incidents, evidence and its chain of custody. Every endpoint needs a token.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema describes every route and field: for signed-in users (session or token), not for anyone.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.document_errors",
        "core.api.request_schema.state_request_rules",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "cases.choices.CaseStatus",
        "RoleEnum": "cases.choices.Role",
        "IncidentKindEnum": "cases.choices.IncidentKind",
        "OutcomeEnum": "cases.choices.Outcome",
        "IdentificationBasisEnum": "cases.choices.IdentificationBasis",
        "EntityKindEnum": "cases.choices.EntityKind",
        "ItemKindEnum": "evidence.choices.ItemKind",
        "ItemStatusEnum": "evidence.choices.ItemStatus",
        "PhotoStatusEnum": "evidence.choices.PhotoStatus",
        "PhotoFormatEnum": "evidence.choices.PhotoFormat",
        "ExportStatusEnum": "evidence.choices.ExportStatus",
        "ExportKindEnum": "evidence.choices.ExportKind",
        "ManufacturePrecisionEnum": "evidence.choices.ManufacturePrecision",
        "SourceKindEnum": "evidence.choices.SourceKind",
        "AccessActionEnum": "cases.choices.AccessAction",
    },
}

# The default cache, shared by every server process: Redis at CACHE_URL, else the broker's Redis (keys
# under "attest:", beside Celery's; nothing may call cache.clear() on it, which empties the whole
# database), else a table of the database (made by `migrate`). The API throttle counts in this Redis,
# or without one in its own table (core.api.throttling): DRF's cache-based throttle cost six
# statements a request on the database cache.
CACHE_URL = env_str("CACHE_URL") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else ""
)
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "attest",
            # An unreachable Redis must not hang requests.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "attest_cache",
            # Past this many keys, some are dropped.
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }

# --- Security ----------------------------------------------------------------
# The production defaults (DEBUG off) pass `manage.py check --deploy --fail-level WARNING`.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)  # a working day
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
# How many proxies of ours append to X-Forwarded-For (nginx's $proxy_add_x_forwarded_for does). The
# client's address is the entry the outermost of them added; entries left of it are the client's
# own, forgeable claims. The access log, django-axes and the throttle all read it (core.net.client_ip).
ATTEST_TRUSTED_PROXY_COUNT = env_int("ATTEST_TRUSTED_PROXY_COUNT", 1 if BEHIND_PROXY else 0)
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy on every response. Scripts only from this site (the admin and the
# region editor need no inline script); inline style attributes stay allowed for the admin.
# Files served as downloads carry their own, stricter policy ("default-src 'none'; sandbox").
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# The case overview's map draws Natural Earth borders shipped as a static file, so it works offline. Where a
# tile server may be reached, ATTEST_MAP_TILE_URL (e.g. https://{s}.tile.example.org/{z}/{x}/{y}.png) adds a
# base map, and only then is its origin allowed as an image source.
ATTEST_MAP_TILE_URL = env_str("ATTEST_MAP_TILE_URL")
if ATTEST_MAP_TILE_URL:
    _tiles = urlsplit(ATTEST_MAP_TILE_URL.replace("{s}", "*"))
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"].append(f"{_tiles.scheme}://{_tiles.netloc}")

# Sign-in: lockout after repeated failures (django-axes), and TOTP for the admin (django-otp).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Lockouts are per user name and client address, the address taken as the access log takes it. (Not
# AXES_IPWARE_*: django-ipware is not installed, and without it axes would see the proxy's address, so
# a lockout would be by user name alone and anyone could lock anyone out.)
AXES_CLIENT_IP_CALLABLE = "core.net.client_ip"
# Staff must confirm a TOTP code to use the admin, and API tokens are issued only after that.
# On in production; off for the development server so that `make run` logins just work.
ATTEST_REQUIRE_2FA = env_bool("ATTEST_REQUIRE_2FA", not DEBUG)
OTP_TOTP_ISSUER = "Attest"

# --- Logging ------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- Attest ------------------------------------------------------------------

ATTEST_CASE_REFERENCE_PREFIX = env_str("ATTEST_CASE_REFERENCE_PREFIX", "PGO")
ATTEST_API_TOKEN_LIFETIME = timedelta(days=env_int("ATTEST_API_TOKEN_DAYS", 90))
ATTEST_API_TOKEN_MAX_LIFETIME = timedelta(days=365)

# The Ed25519 key that signs ledger checkpoints. Kept outside the database on purpose: someone
# with database access alone cannot forge a checkpoint. `make run` creates a development key.
ATTEST_SIGNING_KEY_PATH = Path(env_str("ATTEST_SIGNING_KEY_PATH") or VAR_DIR / "keys" / "ledger-signing-key.pem")
# Public keys (PEM files) of retired signing keys, whose old checkpoints must still verify.
ATTEST_TRUSTED_PUBLIC_KEYS = env_list("ATTEST_TRUSTED_PUBLIC_KEYS")
# RFC 3161 Time-Stamp Authorities that timestamp checkpoints (docs/custody-format.md, 8a), comma-separated
# URLs. Empty: no timestamps. An unreachable TSA never blocks work; beat retries every RETRY_MINUTES.
ATTEST_TSA_URLS = env_list("ATTEST_TSA_URLS")
ATTEST_TSA_TIMEOUT = env_int("ATTEST_TSA_TIMEOUT", 10)
ATTEST_TSA_RETRY_MINUTES = env_int("ATTEST_TSA_RETRY_MINUTES", 10)
# How often beat signs a checkpoint of every ledger that grew, and when the daily fixity check runs.
ATTEST_CHECKPOINT_INTERVAL_MINUTES = env_int("ATTEST_CHECKPOINT_INTERVAL_MINUTES", 60)
ATTEST_FIXITY_CHECK_HOUR = env_int("ATTEST_FIXITY_CHECK_HOUR", 3)
# Trace requests: days a recipient is given to answer (the default of each request), after which
# the daily check (at ATTEST_FIXITY_CHECK_HOUR:30) marks an unanswered one NO_ANSWER.
ATTEST_TRACE_DEADLINE_DAYS = env_int("ATTEST_TRACE_DEADLINE_DAYS", 28)
# Photos: near-duplicate distance (bits of 64), and when the sweeper re-queues or gives up.
ATTEST_NEAR_DUPLICATE_DISTANCE = env_int("ATTEST_NEAR_DUPLICATE_DISTANCE", 8)
ATTEST_PHOTO_STUCK_MINUTES = env_int("ATTEST_PHOTO_STUCK_MINUTES", 15)
ATTEST_PHOTO_MAX_ATTEMPTS = env_int("ATTEST_PHOTO_MAX_ATTEMPTS", 5)
# Exports: a build with no sign of progress for this long is stuck; the sweeper queues it again, up
# to this many attempts in all, then fails it with the reason.
ATTEST_EXPORT_STUCK_MINUTES = env_int("ATTEST_EXPORT_STUCK_MINUTES", 15)
ATTEST_EXPORT_MAX_ATTEMPTS = env_int("ATTEST_EXPORT_MAX_ATTEMPTS", 2)
# Without a broker, exports are built on this many threads of the web process, after the request
# that asked has answered (0: in the request itself, as Celery's eager mode would).
ATTEST_EMBEDDED_WORKERS = env_int("ATTEST_EMBEDDED_WORKERS", 1)
# A POST retried with the same Idempotency-Key within this many hours gets the first response;
# beat deletes older records (core.tasks.expire_idempotency_records), so a key may then be used anew.
ATTEST_IDEMPOTENCY_HOURS = env_int("ATTEST_IDEMPOTENCY_HOURS", 24)
# Fault injection for the redelivery test: seconds a photo task waits before working. Leave at 0.
ATTEST_PHOTO_PROCESSING_DELAY = env_int("ATTEST_PHOTO_PROCESSING_DELAY", 0)

from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE = {
    "sign-ledger-checkpoints": {
        "task": "evidence.tasks.sign_checkpoints",
        "schedule": timedelta(minutes=ATTEST_CHECKPOINT_INTERVAL_MINUTES),
    },
    "timestamp-checkpoints": {
        "task": "evidence.tasks.timestamp_checkpoints",
        "schedule": timedelta(minutes=ATTEST_TSA_RETRY_MINUTES),
    },
    "sweep-stuck-photos": {"task": "evidence.tasks.sweep_photos", "schedule": timedelta(minutes=5)},
    "sweep-stuck-exports": {"task": "evidence.tasks.sweep_exports", "schedule": timedelta(minutes=5)},
    "daily-fixity-check": {
        "task": "evidence.tasks.verify_all_cases",
        "schedule": crontab(hour=ATTEST_FIXITY_CHECK_HOUR, minute=15),
    },
    "expire-idempotency-records": {"task": "core.tasks.expire_idempotency_records", "schedule": timedelta(hours=1)},
    "forget-throttle-counters": {"task": "core.tasks.forget_throttle_counters", "schedule": timedelta(hours=6)},
    "mark-overdue-trace-requests": {
        "task": "evidence.tasks.mark_overdue_trace_requests",
        "schedule": crontab(hour=ATTEST_FIXITY_CHECK_HOUR, minute=30),
    },
}
