"""OpsIntel settings: one module, driven by environment variables.

Every variable is listed with its default in README.md ("Configuration"). Defaults give the
embedded demo (SQLite under var/, Celery tasks run in-process); production sets DATABASE_URL,
CELERY_BROKER_URL, REDIS_URL, SECRET_KEY and ALLOWED_HOSTS.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


def env_str(name, default=""):
    return os.environ.get(name, default).strip()


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    value = value.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}."
    )


def env_int(name, default):
    value = env_str(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {value!r}.") from None


def env_list(name, default=()):
    value = env_str(name)
    if not value:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def read_env_file(path):
    """Developer convenience: KEY=VALUE lines of a git-ignored `.env` (which `make run` and
    `make test` create with DEBUG=1), so `manage.py` works without exporting anything. Real
    environment variables always win; servers simply have no such file."""
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            os.environ.setdefault(key.strip(), value.strip())


read_env_file(BASE_DIR / ".env")

DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random "
            "string (for example: python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set DEBUG=1 for local development."
        )
    # Only ever used with DEBUG on, on a developer's machine.
    SECRET_KEY = "insecure-development-key-do-not-use-in-production-0123456789"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# The platform's own apps first so their templates override third-party ones.
OPSINTEL_APPS = ["campaigns", "leaderhub", "advocacy", "rcm", "engagement"]

INSTALLED_APPS = [
    "opsintel.apps.OpsIntelConfig",
    "campaigns.apps.CampaignsConfig",
    "leaderhub.apps.LeaderHubConfig",
    "advocacy.apps.AdvocacyConfig",
    "rcm.apps.RcmConfig",
    "engagement.apps.EngagementConfig",
    # django.contrib.admin, with the admin site limited to platform admins (opsintel.security).
    "opsintel.security.OpsIntelAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "import_export",
    "axes",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Ends a session SESSION_MAX_AGE after sign-in, however active (the idle timeout is below).
    "opsintel.security.SessionLifetimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns lockouts raised by the auth backend into responses.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "opsintel.urls"
WSGI_APPLICATION = "opsintel.wsgi.application"

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
                "opsintel.context_processors.navigation",
            ],
        },
    },
]

# Database -------------------------------------------------------------------------------------
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'opsintel.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# A request that fails part-way writes nothing: the whole request is one transaction.
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: Redis when REDIS_URL is set (shared by every web process), else per-process memory.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "opsintel",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Users, login, sessions -----------------------------------------------------------------------
AUTH_USER_MODEL = "opsintel.User"
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out user is refused before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Idle timeout: the session expires SESSION_TIMEOUT_MINUTES after the last request, and when
# the browser closes; absolute timeout: SESSION_MAX_HOURS after sign-in, however active
# (opsintel.security.SessionLifetimeMiddleware).
SESSION_COOKIE_AGE = env_int("SESSION_TIMEOUT_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_MAX_AGE = env_int("SESSION_MAX_HOURS", 8) * 3600

# Lockout (django-axes): LOGIN_FAILURE_LIMIT failed sign-ins for one username (from anywhere)
# or from one address (for any usernames) pause sign-in for that username or address for
# LOGIN_LOCKOUT_MINUTES; failures older than that are forgotten. Attempts are kept in the
# database (shared by every web process; listed and deletable, i.e. unlockable, in the admin).
# The sign-in form and /api/token/ both go through authenticate() (the token view must run
# outside ATOMIC_REQUESTS, or its failure records roll back: docs/security.md).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "opsintel.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "opsintel.security.client_ip"
AXES_VERBOSE = False
# Reverse proxies in front of the app that append to X-Forwarded-For (0: none, REMOTE_ADDR is
# the client). Behind a proxy this MUST be set, or every client shares the proxy's address and
# a few failed sign-ins anywhere lock everyone out.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Security --------------------------------------------------------------------------------------
# Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO so Django
# knows the original request was HTTPS; only do so when the proxy strips that header from clients.
_proxy_header = env_str("SECURE_PROXY_SSL_HEADER")
if _proxy_header:
    SECURE_PROXY_SSL_HEADER = (_proxy_header, "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe health over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts only from our own static files, never inline
# (no <script> blocks, no on*= attributes), so injected markup cannot run script. Styles allow
# 'unsafe-inline': pages set computed widths in style attributes (progress bars) and the admin
# and API docs ship <style> blocks; CSS cannot run script, and every value in a style
# attribute is escaped by the template engine.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# Internationalisation: stored in UTC, shown in TIME_ZONE.
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

# Static files, served by whitenoise from STATIC_ROOT in production.
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Email ------------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
# The site's address, for links in emails ("https://ops.example.org"); unset: paths only.
OPSINTEL_SITE_URL = env_str("OPSINTEL_SITE_URL").rstrip("/")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "OpsIntel <opsintel@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# API --------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Bearer first: its WWW-Authenticate header makes unauthenticated calls answer 401.
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "opsintel.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "opsintel.api.schema.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"token": env_str("API_TOKEN_THROTTLE", "20/min")},
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(hours=env_int("JWT_REFRESH_HOURS", 8)),
    "UPDATE_LAST_LOGIN": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OpsIntel API",
    "DESCRIPTION": "Operations platform for healthcare teams. Authenticate with a session or a "
    "bearer token from /api/token/.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Assets from the sidecar package, so the docs page renders without the internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set where apps reuse a field name ("status") for different sets.
    "ENUM_NAME_OVERRIDES": {
        "CampaignStatusEnum": "campaigns.models.Campaign.Status",
        "InterventionStatusEnum": "campaigns.models.Intervention.Status",
        "ProviderPositionEnum": "leaderhub.models.Provider.Position",
        "ShiftStageEnum": "leaderhub.models.ShiftBreakdown.Stage",
        "CaseStatusEnum": "advocacy.models.Case.Status",
    },
}

# Celery -----------------------------------------------------------------------------------------
# Without a broker, tasks run in-process at .delay() time, so the demo needs no services.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
# At-least-once delivery: a task is acknowledged after it ran, and re-queued if its worker died.
# Every task is written to be idempotent, so a second delivery changes nothing.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis re-delivers an unacknowledged task after the visibility timeout; the hard time limit
# stays well below it so a slow task is never run twice at once.
CELERY_BROKER_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT}
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 1800)
CELERY_TASK_SOFT_TIME_LIMIT = max(CELERY_TASK_TIME_LIMIT - 60, CELERY_TASK_TIME_LIMIT * 9 // 10)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
if CELERY_TASK_TIME_LIMIT >= CELERY_BROKER_VISIBILITY_TIMEOUT:
    raise ImproperlyConfigured(
        "CELERY_TASK_TIME_LIMIT must be below CELERY_VISIBILITY_TIMEOUT, or Redis re-delivers "
        "tasks that are still running."
    )

# Admin import/export: we neutralise spreadsheet formulas ourselves (opsintel.exports), for every
# text cell, not only a leading "=".
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False
IMPORT_EXPORT_USE_TRANSACTIONS = True
# The admin reads an upload whole into memory: files above this many megabytes are refused
# there and go through the app's import management command, which streams them.
IMPORT_MAX_UPLOAD_MB = env_int("IMPORT_MAX_UPLOAD_MB", 20)

# Platform ---------------------------------------------------------------------------------------
OPSINTEL_DEMO_PASSWORD = env_str("DEMO_PASSWORD", "opsintel-demo")

# Campaigns: interventions one coordinator (one FTE) works in a month, and how many finished
# interventions a measure needs before its own closure rate is trusted over the portfolio's.
CAMPAIGN_CAPACITY_PER_FTE_MONTH = env_int("CAMPAIGN_CAPACITY_PER_FTE_MONTH", 50)
CAMPAIGN_MIN_MEASURE_HISTORY = env_int("CAMPAIGN_MIN_MEASURE_HISTORY", 20)

# Advocacy: the SLA in days (per case type overrides), and how much a case of each complexity
# weighs in an advocate's caseload.
ADVOCACY_DEFAULT_SLA_DAYS = env_int("ADVOCACY_SLA_DAYS", 7)
ADVOCACY_SLA_DAYS = {}  # e.g. {"prior_authorization": 10}
ADVOCACY_COMPLEXITY_WEIGHTS = {"low": 1.0, "medium": 1.5, "high": 2.0}
# Stop the SLA clock while a case waits on the patient's documents (pending_docs).
ADVOCACY_SLA_PAUSE_PENDING_DOCS = env_bool("ADVOCACY_SLA_PAUSE_PENDING_DOCS", default=False)
# Operations leaders are alerted (email + in-app notice, once per condition) when more active
# cases than this are stale, or an advocate's utilization passes this ratio.
ADVOCACY_ALERT_STALE_CASES = env_int("ADVOCACY_ALERT_STALE_CASES", 25)
ADVOCACY_ALERT_UTILIZATION = float(env_str("ADVOCACY_ALERT_UTILIZATION", "1.0"))

# AR follow-up (rcm): the filing/appeal window of payers without their own, the share of it
# after which a claim is flagged and jumps the queue, and what one automated task saves.
RCM_FILING_WINDOW_DAYS = env_int("RCM_FILING_WINDOW_DAYS", 180)
RCM_TIMELY_FILING_SHARE = 0.8
RCM_MINUTES_SAVED_PER_TASK = env_int("RCM_MINUTES_SAVED_PER_TASK", 15)
RCM_COST_SAVED_PER_TASK = env_int("RCM_COST_SAVED_PER_TASK", 25)

# Pharmacy engagement: slots start on this grid (minutes), reminders go this long before an
# appointment, never inside the quiet hours (patient's location time), through these backends.
ENGAGEMENT_SLOT_STEP_MINUTES = 15
ENGAGEMENT_REMINDER_OFFSETS_HOURS = (24, 2)
ENGAGEMENT_QUIET_HOURS = ("21:00", "08:00")
ENGAGEMENT_SMS_BACKEND = env_str("ENGAGEMENT_SMS_BACKEND", "engagement.messaging.ConsoleSmsBackend")
ENGAGEMENT_SMS_FILE_PATH = env_str("ENGAGEMENT_SMS_FILE_PATH", str(BASE_DIR / "var" / "sms"))
# Twilio-compatible HTTP API (production): account, token, sender number, base URL.
ENGAGEMENT_SMS_ACCOUNT_SID = env_str("ENGAGEMENT_SMS_ACCOUNT_SID")
ENGAGEMENT_SMS_AUTH_TOKEN = env_str("ENGAGEMENT_SMS_AUTH_TOKEN")
ENGAGEMENT_SMS_FROM = env_str("ENGAGEMENT_SMS_FROM")
ENGAGEMENT_SMS_API_URL = env_str("ENGAGEMENT_SMS_API_URL", "https://api.twilio.com")
# Targets shown on the dashboards (rates are shares 0..1).
ENGAGEMENT_TARGETS = {
    "completion_rate": {"min": 0.95},
    "satisfaction": {"min": 4.5},
    "follow_ups_on_time": {"min": 0.90},
    "utilization": {"min": 0.75, "max": 0.85},
    "no_show_rate": {"max": 0.10},
}

# Leader Hub: goals the market cards are coloured against (rates in %, on-scene in minutes).
LEADERHUB_GOALS = {
    "on_scene_time": 45.0,
    "survey_capture_rate": 60.0,
    "chart_closure_rate": 90.0,
    "net_promoter_score": 70.0,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
