"""Podium settings, read from the environment (12-factor); see DESIGN.md, Configuration."""

import datetime as dt
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=1 for a demo)."
        )
    SECRET_KEY = "django-insecure-demo-only-key-never-use-in-production-0123456789"  # noqa: S105 (DEBUG only)

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # Before the admin, as django-modeltranslation asks: <field>_zh_hans / <field>_en.
    "modeltranslation",
    # The admin, for operators (superusers) only: config.admin.PodiumAdminSite.
    "config.apps.PodiumAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    # Registers config.security's deployment check.
    "config.security.SecurityConfig",
    "notifications",
    "events",
    "awards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.security.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # The database down or restarting: 503 with Retry-After, not 500 (config.health).
    "config.health.DatabaseUnavailableMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

# Database: PostgreSQL in production, SQLite for the one-command demo.
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'podium.sqlite3'}"
    ),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's web server, worker and scheduler share one file: wait for the
    # lock instead of failing, write through a journal that lets readers in.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DATABASE_PREPARED_STATEMENTS", default=True
):
    # config.prepared: the registration request's own statements are prepared on
    # a connection once they have run five times (psycopg's default). Off behind a
    # pooler in transaction mode that does not keep them (PgBouncer before 1.22, or
    # with max_prepared_statements = 0, its default before 1.24).
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache (and with it the rate limits): Redis when REDIS_URL is set, else local memory.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis host that drops packets must not hang requests: the callers
            # (rate limits, the dispatcher kick) fail open after these seconds.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# Organisers and judges sign in on one page and land in the console.
LOGIN_REDIRECT_URL = "console:home"
LOGOUT_REDIRECT_URL = "events:event_list"

# Password guessing (django-axes): after SIGN_IN_FAILURE_LIMIT failed sign-ins for
# one account, or from one client, that account or client waits; the sign-in page
# says so in the reader's language (config.security.lockout_response). Both the
# console's sign-in page and the admin's are covered.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("SIGN_IN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("SIGN_IN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "config.security.client_ip"
AXES_USERNAME_CALLABLE = "config.security.axes_username"
AXES_LOCKOUT_CALLABLE = "config.security.lockout_response"
# Failed attempts are kept for the lock-outs; successful sign-ins (with address and
# browser) are not logged at all: personal data nobody needs.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# Password reset mail goes through the outbox; requests are limited per client
# address and, silently (the answer is the same), per email address.
PASSWORD_RESET_RATE_LIMIT_PER_CLIENT = (
    env.str("PASSWORD_RESET_RATE_LIMIT_PER_CLIENT", default="10/hour") or None
)
PASSWORD_RESET_RATE_LIMIT_PER_ADDRESS = (
    env.str("PASSWORD_RESET_RATE_LIMIT_PER_ADDRESS", default="3/hour") or None
)

# Internationalisation: English and Simplified Chinese, chosen from the browser or a
# switcher. Times are stored in UTC and shown in each event's own time zone.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True
# Dates said the local way: "2021年12月14日" and "14 December 2021" (config/formats).
FORMAT_MODULE_PATH = ["config.formats"]

# Content organisers write holds both languages (django-modeltranslation): each
# translated field has <field>_en and <field>_zh_hans columns; reading <field> gives
# the reader's language and falls back to the other one.
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_LANGUAGES = ("en", "zh-hans")
MODELTRANSLATION_FALLBACK_LANGUAGES = {"default": ("en",), "en": ("zh-hans",)}
MODELTRANSLATION_AUTO_POPULATE = False

STATIC_URL = "static/"
STATIC_ROOT = env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded logos and seals go through Django's storage API: the filesystem under
# DJANGO_MEDIA_ROOT by default, any backend (e.g. S3 through django-storages) by
# naming its class in DJANGO_STORAGE_BACKEND. They are served by Podium's own view
# (events.views.event_image), never from a directory the web server executes.
STORAGES = {
    "default": {
        "BACKEND": env.str(
            "DJANGO_STORAGE_BACKEND",
            default="django.core.files.storage.FileSystemStorage",
        )
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = env.str("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "media/"

# Security. TLS is expected to end at the load balancer, which redirects plain HTTP;
# set DJANGO_SECURE_SSL_REDIRECT=true where gunicorn faces the internet directly.
# Cookies are Secure when SITE_URL is https: a browser never sends a Secure cookie
# over plain HTTP, so on an http:// site every form would fail its CSRF check.
# `check --deploy` warns about plain HTTP outside development (podium.W001).
SESSION_COOKIE_SECURE = env.bool(
    "DJANGO_SECURE_COOKIES", default=SITE_URL.startswith("https://")
)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int(
    "DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True
)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SILENCED_SYSTEM_CHECKS = [] if SECURE_SSL_REDIRECT else ["security.W008"]
# No inline script or style anywhere: pages load Podium's own static files only.
# QR codes are data: images; the API docs page loads its script from a URL
# (SpectacularSwaggerSplitView). A view that needs more says so with django-csp's
# decorators. Permissions-Policy: config.security.PermissionsPolicyMiddleware.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Email. EMAIL_URL names an SMTP server (smtp://host:port); without it mail is
# written to var/mail/ and announced on the console, as the demo wants.
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "notifications.backends.FileAndConsoleBackend"
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Podium <no-reply@podium.local>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: JSON messages that carry ids only; mail on its own queue.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://localhost:6379/0")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    (_broker_dir / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        # Broadcasts (worker remote control) as files here, not in ./control/.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # kombu's Redis transport with a fix that keeps the worker alive when Redis
    # restarts (see config.celery.RedisChannel).
    CELERY_BROKER_TRANSPORT = "config.celery:RedisTransport"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "celery"
# Mail has its own queue, so that a slow SMTP server never holds up other work.
CELERY_TASK_ROUTES = {"notifications.tasks.deliver_notifications": {"queue": "mail"}}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_ON_FAILURE_OR_TIMEOUT = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BEAT_SCHEDULE = {
    "dispatch-notifications": {
        "task": "notifications.tasks.dispatch_notifications",
        "schedule": env.float("NOTIFICATIONS_DISPATCH_INTERVAL", default=30),
        # A run that could not start in time is replaced by the next one.
        "options": {
            "expires": env.float("NOTIFICATIONS_DISPATCH_INTERVAL", default=30)
        },
    },
    # Idempotency-Key rows older than 24 hours answer nothing any more.
    "delete-expired-idempotency-keys": {
        "task": "events.tasks.idempotency_keys_delete_expired",
        "schedule": 3600,
        "options": {"expires": 3600},
    },
    # Personal data of events past their retention period (events.Event
    # .retention_days) is anonymised; running twice anonymises once.
    "anonymise-expired-personal-data": {
        "task": "events.tasks.anonymise_expired_personal_data",
        "schedule": 24 * 3600,
        "options": {"expires": 3600},
    },
}

# A font file that writes Chinese, for certificate PDFs; found among Debian's CJK
# fonts when unset (awards.certificates.FONT_CANDIDATES).
CERTIFICATE_FONT = env.str("CERTIFICATE_FONT", default="")
CERTIFICATE_FONT_INDEX = env.int("CERTIFICATE_FONT_INDEX", default=0)

NOTIFICATIONS_DISPATCH_INTERVAL = env.float(
    "NOTIFICATIONS_DISPATCH_INTERVAL", default=30
)
# Seconds before a queued delivery whose task message got lost is queued again, and
# before a row a dead worker left in "sending" is due again.
NOTIFICATIONS_REQUEUE_AFTER = env.int("NOTIFICATIONS_REQUEUE_AFTER", default=60)
NOTIFICATIONS_STALE_AFTER = env.int("NOTIFICATIONS_STALE_AFTER", default=300)
# First retry delay of a temporary SMTP failure, doubled on every attempt.
NOTIFICATIONS_RETRY_BASE = env.int("NOTIFICATIONS_RETRY_BASE", default=30)
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=8)
NOTIFICATIONS_BATCH_SIZE = env.int("NOTIFICATIONS_BATCH_SIZE", default=50)
# Seconds the oldest due email may wait before /healthz and the console call mail
# stalled (no worker, no beat, or a broker that lost the queue for good).
NOTIFICATIONS_STALLED_AFTER = env.int("NOTIFICATIONS_STALLED_AFTER", default=600)
# Seconds an unsubscribe link keeps working after its email was written (a year).
NOTIFICATIONS_UNSUBSCRIBE_MAX_AGE = env.int(
    "NOTIFICATIONS_UNSUBSCRIBE_MAX_AGE", default=366 * 86400
)
REGISTRATION_RATE_LIMIT = env.str("REGISTRATION_RATE_LIMIT", default="20/min") or None
# Seconds between the console dashboard's refreshes of its numbers while it is open.
CONSOLE_DASHBOARD_REFRESH_SECONDS = env.int(
    "CONSOLE_DASHBOARD_REFRESH_SECONDS", default=15
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.PagePagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.problems.problem_exception_handler",
    "DEFAULT_THROTTLE_RATES": {"registrations": REGISTRATION_RATE_LIMIT},
    # Only REMOTE_ADDR identifies a client unless a trusted proxy count is given:
    # X-Forwarded-For from the client itself is not to be believed.
    "NUM_PROXIES": env.int("DJANGO_NUM_PROXIES", default=0),
    "PAGE_SIZE": 50,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Podium API",
    "DESCRIPTION": "Event registration and awards ceremony planner.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs page's scripts are served by Podium itself, not fetched from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "EventStatusEnum": "events.models.Event.Status",
        "SessionStatusEnum": "events.models.Session.Status",
        "RegistrationStatusEnum": "events.models.Registration.Status",
        "LanguageEnum": "config.settings.LANGUAGES",
        "SessionKindEnum": "events.models.Session.Kind",
        "RecipientKindEnum": "awards.models.AwardCategory.RecipientKind",
        "AwardBatchStatusEnum": "awards.models.AwardBatch.Status",
        "NominationStatusEnum": "awards.models.Nomination.Status",
        "CertificateStatusEnum": "awards.models.Certificate.Status",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "fontTools": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
