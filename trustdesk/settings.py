"""Trustdesk settings: one module, read from environment variables (documented in README.md).

Every variable has a safe local default so a checkout runs as is: SQLite under ``./var``,
the in-memory channel layer, the database task backend.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    """Read ``NAME`` or, for secrets, the contents of the file named by ``NAME_FILE``."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text().strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name, "1" if default else "0").strip().lower()
    return value in {"1", "true", "yes", "on"}


DATA_DIR = Path(env("TRUSTDESK_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    key = env("TRUSTDESK_SECRET_KEY")
    if key:
        return key
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("TRUSTDESK_DEBUG")
ALLOWED_HOSTS = [
    h.strip() for h in env("TRUSTDESK_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in env("TRUSTDESK_CSRF_TRUSTED_ORIGINS").split(",") if o.strip()
]
SITE_URL = env("TRUSTDESK_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_tasks_db",
    "ninja",
    "channels",
    "trustdesk.core",
    "trustdesk.accounts",
    "trustdesk.customers",
    "trustdesk.tickets",
    "trustdesk.search",
    "trustdesk.demo",
    "trustdesk.mail",
    "trustdesk.api",
    "trustdesk.workspace",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "trustdesk.urls"
ASGI_APPLICATION = "trustdesk.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env("TRUSTDESK_DATABASE_URL", f"sqlite:///{DATA_DIR / 'trustdesk.sqlite3'}")
_db: dict[str, Any] = dict(dj_database_url.parse(DATABASE_URL, conn_max_age=0))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    name = str(_db["NAME"])
    if name and name != ":memory:" and not Path(name).is_absolute():
        _db["NAME"] = str(BASE_DIR / name)
    _db["OPTIONS"] = {
        # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock up front so
        # concurrent writers queue on busy_timeout instead of failing with "database is locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            "PRAGMA busy_timeout=20000; PRAGMA cache_size=-64000; PRAGMA temp_store=MEMORY;"
        ),
    }
else:
    _db["CONN_HEALTH_CHECKS"] = True
    _db.setdefault("TEST", {})["NAME"] = env("TRUSTDESK_TEST_DATABASE_NAME") or None
# Keep connections between requests (a new SQLite connection costs ~4 ms and its page cache).
_db["CONN_MAX_AGE"] = int(env("TRUSTDESK_DB_CONN_MAX_AGE", "60"))
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, channels -----------------------------------------------------------------
REDIS_URL = env("TRUSTDESK_REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Background tasks -----------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.Agent"
LOGIN_URL = "workspace:login"
LOGIN_REDIRECT_URL = "workspace:inbox"
LOGOUT_REDIRECT_URL = "workspace:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool(
    "TRUSTDESK_SECURE_COOKIES", default=SITE_URL.startswith("https://")
)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- Security headers -----------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "connect-src": [CSP.SELF],
}
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRUSTDESK_BEHIND_PROXY") else None
)

# --- I18n and time --------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "trustdesk" / "locale"]
TIME_ZONE = env("TRUSTDESK_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Files ----------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(env("TRUSTDESK_MEDIA_ROOT", str(DATA_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
TRUSTDESK_MAX_ATTACHMENT_BYTES = int(env("TRUSTDESK_MAX_ATTACHMENT_BYTES", str(10 * 1024 * 1024)))
# An API request carries attachments base64-encoded (4/3 of their size) inside JSON.
DATA_UPLOAD_MAX_MEMORY_SIZE = TRUSTDESK_MAX_ATTACHMENT_BYTES * 4 // 3 + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("TRUSTDESK_LOG_LEVEL", "WARNING")},
}

# --- Outbound email (Django 6.1 MAILERS) ----------------------------------------------------
DEFAULT_FROM_EMAIL = env("TRUSTDESK_FROM_EMAIL", "support@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
MAILERS = {
    "default": {
        "BACKEND": env("TRUSTDESK_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"),
        "OPTIONS": {
            "host": env("TRUSTDESK_SMTP_HOST", "127.0.0.1"),
            "port": int(env("TRUSTDESK_SMTP_PORT", "25")),
            "username": env("TRUSTDESK_SMTP_USER") or None,
            "password": env("TRUSTDESK_SMTP_PASSWORD") or None,
            "use_tls": env_bool("TRUSTDESK_SMTP_STARTTLS"),
            "timeout": 30,
        }
        if env("TRUSTDESK_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend").endswith(
            "smtp.EmailBackend"
        )
        else {},
    }
}

# Outbound replies (trustdesk.mail): attempts before a reply is marked failed, the first retry
# delay in seconds (then x4 per attempt, at most 6 hours), and the domain of our Message-IDs.
TRUSTDESK_MAIL_MAX_ATTEMPTS = int(env("TRUSTDESK_MAIL_MAX_ATTEMPTS", "5"))
TRUSTDESK_MAIL_RETRY_SECONDS = int(env("TRUSTDESK_MAIL_RETRY_SECONDS", "60"))
TRUSTDESK_MAIL_DOMAIN = env("TRUSTDESK_MAIL_DOMAIN") or (
    DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
)
# A reply left in "sending" this long (a worker died mid-send) is queued again by the sweep; keep
# it far above the SMTP timeout. Automatic acknowledgements promise a reply within this many
# hours until the team has 5 answered tickets in 30 days to measure instead.
TRUSTDESK_MAIL_SENDING_TIMEOUT_SECONDS = int(env("TRUSTDESK_MAIL_SENDING_TIMEOUT_SECONDS", "600"))
TRUSTDESK_DEFAULT_REPLY_HOURS = int(env("TRUSTDESK_DEFAULT_REPLY_HOURS", "24"))

# Ways in (trustdesk.mail.receiver, trustdesk.mail.imap): addresses the SMTP/LMTP receiver
# accepts besides mailbox and team addresses (comma-separated), and seconds between IMAP polls.
TRUSTDESK_INBOUND_ADDRESSES = [
    a.strip() for a in env("TRUSTDESK_INBOUND_ADDRESSES").split(",") if a.strip()
]
TRUSTDESK_IMAP_POLL_SECONDS = int(env("TRUSTDESK_IMAP_POLL_SECONDS", "60"))

# Intake (trustdesk.mail.intake): the largest raw message accepted by any way in (bytes), and
# the authserv-ids of relays whose Authentication-Results header is believed (comma-separated;
# empty: none is, and every message is "not checked").
TRUSTDESK_MAX_EMAIL_BYTES = int(env("TRUSTDESK_MAX_EMAIL_BYTES", str(25 * 1024 * 1024)))
TRUSTDESK_TRUSTED_AUTHSERV_IDS = [
    a.strip().lower() for a in env("TRUSTDESK_TRUSTED_AUTHSERV_IDS").split(",") if a.strip()
]

# --- Demo data (trustdesk.demo) ---------------------------------------------------------------
# Password of the demo agent demo@trustdesk.local that `trustdesk setup` creates on a fresh
# database. For local demo data only: never use a demo database for real customers.
TRUSTDESK_DEMO_PASSWORD = env("TRUSTDESK_DEMO_PASSWORD", "trustdesk-demo")

# Email claimed by a worker for longer than this is taken back by the sweep (its worker died).
TRUSTDESK_INTAKE_CLAIM_TIMEOUT_SECONDS = float(env("TRUSTDESK_INTAKE_CLAIM_TIMEOUT_SECONDS", "300"))
