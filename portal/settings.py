"""
Vigil's settings: one module, configured only from the environment (django-environ), typed and failing loudly.

Every variable is documented in README.md and `.env.example`.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".data"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

# A throwaway key is allowed only while developing; a deployment with DEBUG off must bring its own.
_DEVELOPMENT_SECRET_KEY = "vigil-development-only-not-secret"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=_DEVELOPMENT_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (see .env.example).")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "guardian",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "portal",
    "incidents",
    "actioncenter",
    "threatanalytics",
    "securescore",
    "policies",
    "permissions",
    "resources",
    "home",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Near the top, so that answers made by the middleware below it (redirects, lockouts) carry the policy too.
    "portal.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Marks request.user verified (or not) by a second factor; the two-factor gate below reads it.
    "django_otp.middleware.OTPMiddleware",
    "portal.middleware.PortalLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the messages so that it can say why someone was signed out.
    "permissions.account.middleware.SessionExpiryMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "permissions.account.middleware.TwoFactorMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
            ],
        },
    },
]

# PostgreSQL is the only database. Without DATABASE_URL the embedded default starts a private server.
if "DATABASE_URL" in env:
    DATABASE_URL = env.str("DATABASE_URL")
else:
    from portal.embedded import postgres_url

    DATABASE_URL = postgres_url(DATA_DIR)
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...).")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis is the Celery broker and the cache. Without REDIS_URL the embedded default starts a private server.
if "REDIS_URL" in env:
    REDIS_URL = env.str("REDIS_URL")
else:
    from portal.embedded import redis_url

    REDIS_URL = redis_url(DATA_DIR)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "vigil",
    }
}

# Celery reads its CELERY_* settings from here (portal/celery.py). kombu spells a unix socket redis+socket://.
CELERY_BROKER_URL = REDIS_URL.replace("unix://", "redis+socket://", 1)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    # Correlates alerts whose correlation message was lost (crashed worker, broker restart).
    "correlate-pending-alerts": {"task": "incidents.correlate_pending", "schedule": 60.0},
}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# Alert ingestion: requests above these limits are answered 413.
INGEST_MAX_BODY_BYTES = env.int("INGEST_MAX_BODY_BYTES", default=10 * 1024 * 1024)
INGEST_MAX_ALERTS = env.int("INGEST_MAX_ALERTS", default=5000)

# Correlation (DESIGN.md, Correlation). An admin UI for these comes with Policies & rules.
CORRELATION_WINDOW = timedelta(hours=env.float("CORRELATION_WINDOW_HOURS", default=24))
# An IP or URL seen in more than this many open incidents within the window no longer glues alerts together.
CORRELATION_NOISY_INCIDENTS = env.int("CORRELATION_NOISY_INCIDENTS", default=10)
CORRELATION_MAX_ALERTS_PER_INCIDENT = env.int("CORRELATION_MAX_ALERTS_PER_INCIDENT", default=1000)
CORRELATION_MAX_ENTITIES_PER_INCIDENT = env.int("CORRELATION_MAX_ENTITIES_PER_INCIDENT", default=1000)
CORRELATION_MERGE_SAME_DEVICE_GROUP_ONLY = env.bool("CORRELATION_MERGE_SAME_DEVICE_GROUP_ONLY", default=False)
# IPs and URLs (canonical form) that never correlate, e.g. a proxy every alert mentions.
CORRELATION_STOP_LIST = env.list("CORRELATION_STOP_LIST", default=[])
# The sweep correlates alerts left uncorrelated for longer than this.
CORRELATION_SWEEP_AFTER = timedelta(seconds=env.int("CORRELATION_SWEEP_AFTER_SECONDS", default=60))

AUTHENTICATION_BACKENDS = [
    # First: refuses a sign-in while its username and address are locked out (django-axes). It checks nothing
    # else: axes' own AxesBackend would also grant permissions through plain group membership.
    "permissions.account.backends.LockoutBackend",
    # Permissions come from role assignments (users and their groups), not from group membership.
    "permissions.backends.RoleAssignmentBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home:home"
LOGOUT_REDIRECT_URL = "login"
# A sign-in lasts SESSION_COOKIE_AGE at most however busy it is, and ends sooner after SESSION_IDLE_TIMEOUT without a
# request (permissions.account.middleware.SessionExpiryMiddleware).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=int(timedelta(hours=12).total_seconds()))
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=int(timedelta(minutes=30).total_seconds()))
if not 0 < SESSION_IDLE_TIMEOUT <= SESSION_COOKIE_AGE:
    raise ImproperlyConfigured("SESSION_IDLE_TIMEOUT must be between 1 and SESSION_COOKIE_AGE seconds.")

# Lockout after repeated failed sign-ins (django-axes). Counted per username and client address together, so that
# someone guessing from one place cannot lock the real person out from theirs; a successful sign-in starts over.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Attempts made while locked out do not push the end of the lockout further, so the lockout page can say when.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "permissions.account.views.locked_out"
AXES_CLIENT_IP_CALLABLE = "permissions.account.network.client_ip"
# Behind reverse proxies, the client address is the one the outermost of this many trusted proxies saw, read from
# X-Forwarded-For; 0 (no proxy) trusts no header, since anyone can send one.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")

# Two-factor sign-in (django-otp, TOTP): optional for everyone, required for holders of a role that says so.
OTP_TOTP_ISSUER = "Vigil"
# guardian: no anonymous user row; every request past the login page is a signed-in person or a token.
ANONYMOUS_USER_NAME = None

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / ".data" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Email (notifications come with Policies & rules); defaults print mail to the console.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="vigil@localhost")

# HTTPS: on by default when DEBUG is off; SECURE_SSL_REDIRECT can be turned off behind a TLS-terminating proxy
# that already redirects. X-Forwarded-Proto says a request came over HTTPS only behind a trusted proxy, which
# overwrites it: without one, any client could send it to pass for secure.
if TRUSTED_PROXY_COUNT > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Preload is an opt-in commitment for the whole domain (hstspreload.org), so its absence is not a deployment defect.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (portal.csp): everything from Vigil itself, nothing inline, so that injected markup cannot
# run script or restyle a page. data: images are Bootstrap's own icons, which its CSS embeds as data: SVGs.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "font-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# /healthz is probed over plain HTTP inside the deployment network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "permissions.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # JSON bodies only (a form-encoded body answers 415), with deep nesting refused as a 400.
    "DEFAULT_PARSER_CLASSES": ["portal.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.ListPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api.errors.native_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Vigil API",
    "DESCRIPTION": "Vigil's REST API: security data, response and settings.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The API description is for signed-in users and token holders, like the API itself.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Both APIs' prefixes, so that tags and operation ids start at the resource ("resources_list", not "api_...").
    "SCHEMA_PATH_PREFIX": r"/(api|v1\.0/security)/",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.openapi.document_error_responses",
        "portal.openapi.document_requests",
        "incidents.graph.openapi.document_graph_bodies",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # The embedded PostgreSQL narrates every process exit at INFO.
    "loggers": {"pgserver": {"level": "WARNING"}},
}
