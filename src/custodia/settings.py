"""Settings, all from the environment (API.md "Environment").

Secrets never live in the repository: the secret key is generated into ``CUSTODIA_VAR_DIR`` on
first use, or given as ``CUSTODIA_SECRET_KEY``.
"""

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("CUSTODIA_VAR_DIR", "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)
(VAR_DIR / "static").mkdir(exist_ok=True)


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "si", "sí"}


def _secret_key() -> str:
    if key := os.environ.get("CUSTODIA_SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_flag("CUSTODIA_DEBUG")
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("CUSTODIA_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CUSTODIA_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",
    "custodia.core",
    "custodia.registry",
    "custodia.notify",
    "custodia.ledger",
    "custodia.lookup",
    "custodia.reports",
    "custodia.conference",
    "custodia.synth",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "custodia.core.middleware.BodySizeLimitMiddleware",
    "custodia.core.middleware.NullCharacterGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "custodia.urls"
WSGI_APPLICATION = "custodia.wsgi.application"

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
                "custodia.core.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'custodia.sqlite3'}",
        conn_max_age=int(os.environ.get("CUSTODIA_CONN_MAX_AGE", "60")),
    )
}
# A read replica (streaming from the primary) for the public search and the reports: see
# custodia/core/replica.py. Tests of the application itself never see it.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=int(os.environ.get("CUSTODIA_CONN_MAX_AGE", "60")),
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["custodia.core.replica.ReplicaRouter"]
# Beyond this lag the replica is skipped and the primary answers (core/replica.py).
CUSTODIA_REPLICA_MAX_LAG_SECONDS = float(os.environ.get("CUSTODIA_REPLICA_MAX_LAG_SECONDS", "30"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while a capture is written; a busy timeout instead of "locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The name-key indexes cover extra columns on PostgreSQL (INCLUDE); SQLite keeps the key columns
# only, which is all it needs. Django warns about that on every command; the warning is known.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_USER_MODEL = "core.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:login"

LANGUAGE_CODE = "es-mx"
LANGUAGES = [("es-mx", "Español (México)"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "America/Mexico_City"

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 60 * 60
SESSION_COOKIE_SECURE = _env_flag("CUSTODIA_SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Request bodies above this size get 413 before anything parses them.
CUSTODIA_MAX_BODY_BYTES = int(os.environ.get("CUSTODIA_MAX_BODY_BYTES", str(256 * 1024)))
# A batch of up to 1000 detentions (POST /api/v1/detentions:batch) gets more room.
CUSTODIA_MAX_BATCH_BODY_BYTES = int(
    os.environ.get("CUSTODIA_MAX_BATCH_BODY_BYTES", str(8 * 1024 * 1024))
)
# The middleware applies the right limit per path before Django reads the body.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(CUSTODIA_MAX_BODY_BYTES, CUSTODIA_MAX_BATCH_BODY_BYTES)

CUSTODIA_RATE_LIMITS = os.environ.get("CUSTODIA_RATE_LIMITS", "on").strip().lower() != "off"
# Per client (IP) on the public consultation and its alerts: "count/period" pairs.
CUSTODIA_PUBLIC_SEARCH_RATES = os.environ.get("CUSTODIA_PUBLIC_SEARCH_RATES", "20/minute,200/hour")
CUSTODIA_PUBLIC_ALERT_RATES = os.environ.get("CUSTODIA_PUBLIC_ALERT_RATES", "5/hour,20/day")
# What the public consultation tells a family to do next when nobody matches (plain text,
# paragraphs separated by blank lines). A file under var/ overrides the default text.
# The address people reach the site at, for links in emails (name-alert confirmation and
# unsubscribe links).
CUSTODIA_PUBLIC_URL = os.environ.get("CUSTODIA_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
# Name alerts: days an alert lives, hours its confirmation link is valid, alerts per address.
CUSTODIA_NAME_ALERTS = {
    "days": int(os.environ.get("CUSTODIA_NAME_ALERT_DAYS", "90")),
    "confirm_hours": int(os.environ.get("CUSTODIA_NAME_ALERT_CONFIRM_HOURS", "48")),
    "per_email": int(os.environ.get("CUSTODIA_NAME_ALERTS_PER_EMAIL", "10")),
}
CUSTODIA_PUBLIC_HELP_FILE = Path(
    os.environ.get("CUSTODIA_PUBLIC_HELP_FILE", str(VAR_DIR / "consulta-ayuda.txt"))
)

# Registry policy (DESIGN.md §3, §4). Thresholds are policy, not law: settings, not constants.
# Monthly report (issue 6): an update by a receiving authority recorded more than this after
# the fact it records counts as late.
CUSTODIA_LATE_UPDATE_MINUTES = int(os.environ.get("CUSTODIA_LATE_UPDATE_MINUTES", "60"))

CUSTODIA_REGISTRY_POLICY = {
    # LNRD published DOF 27-05-2019, in force the next day.
    "registry_start": os.environ.get("CUSTODIA_REGISTRY_START", "2019-05-28T00:00:00-05:00"),
    "future_tolerance_minutes": int(os.environ.get("CUSTODIA_FUTURE_TOLERANCE_MINUTES", "5")),
    "registration_warning_minutes": int(
        os.environ.get("CUSTODIA_REGISTRATION_WARNING_MINUTES", "60")
    ),
    "registration_critical_minutes": int(
        os.environ.get("CUSTODIA_REGISTRATION_CRITICAL_MINUTES", "360")
    ),
}


def _hours(name: str, default: float) -> float:
    return float(os.environ.get(name, str(default)))


# Legal clocks (DESIGN.md §3). Constitutional limits are law; the others are policy.
CUSTODIA_CLOCKS = {
    "handover_warning_hours": _hours("CUSTODIA_HANDOVER_WARNING_HOURS", 4),
    "handover_critical_hours": _hours("CUSTODIA_HANDOVER_CRITICAL_HOURS", 12),
    "prosecutor_hours": _hours("CUSTODIA_PROSECUTOR_HOURS", 48),
    "prosecutor_organized_crime_hours": _hours("CUSTODIA_PROSECUTOR_ORGANIZED_CRIME_HOURS", 96),
    "judge_hours": _hours("CUSTODIA_JUDGE_HOURS", 72),
    "judge_extended_hours": _hours("CUSTODIA_JUDGE_EXTENDED_HOURS", 144),
    "administrative_hours": _hours("CUSTODIA_ADMINISTRATIVE_HOURS", 36),
    "child_handover_hours": _hours("CUSTODIA_CHILD_HANDOVER_HOURS", 4),
    "silent_custody_hours": _hours("CUSTODIA_SILENT_CUSTODY_HOURS", 24),
    "death_alert_days": _hours("CUSTODIA_DEATH_ALERT_DAYS", 30),
}

# Notifications: the outbox worker (`custodia notify`).
CUSTODIA_NOTIFY = {
    "max_attempts": int(os.environ.get("CUSTODIA_NOTIFY_MAX_ATTEMPTS", "8")),
    "backoff_base_seconds": float(os.environ.get("CUSTODIA_NOTIFY_BACKOFF_SECONDS", "30")),
    "backoff_max_seconds": float(os.environ.get("CUSTODIA_NOTIFY_BACKOFF_MAX_SECONDS", "3600")),
    "webhook_timeout_seconds": float(os.environ.get("CUSTODIA_WEBHOOK_TIMEOUT_SECONDS", "10")),
    "lease_seconds": float(os.environ.get("CUSTODIA_NOTIFY_LEASE_SECONDS", "120")),
}
EMAIL_BACKEND = os.environ.get(
    "CUSTODIA_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = os.environ.get("CUSTODIA_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("CUSTODIA_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("CUSTODIA_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("CUSTODIA_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _env_flag("CUSTODIA_EMAIL_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("CUSTODIA_EMAIL_FROM", "Custodia <no-responder@localhost>")

# The tamper-evident log (DESIGN.md §5).
CUSTODIA_LEDGER_KEY_PATH = os.environ.get(
    "CUSTODIA_LEDGER_KEY", str(VAR_DIR / "ledger_ed25519.pem")
)
CUSTODIA_LEDGER_ORIGIN = os.environ.get("CUSTODIA_LEDGER_ORIGIN", "custodia.rnd/registro")
CUSTODIA_CHECKPOINT_INTERVAL_SECONDS = float(
    os.environ.get("CUSTODIA_CHECKPOINT_INTERVAL_SECONDS", "10")
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CUSTODIA_LOG_LEVEL", "WARNING")},
}
