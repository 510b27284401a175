"""Spiral settings, driven by environment variables.

SPIRAL_ENV selects defaults: ``development`` (the default: DEBUG on, SQLite, console e-mail),
``production`` (DEBUG off, secrets required, secure cookies) or ``test``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # src/spiral
PROJECT_DIR = PACKAGE_DIR.parent.parent  # the repository root


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


SPIRAL_ENV = env_str("SPIRAL_ENV", "development")
if SPIRAL_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured("SPIRAL_ENV must be development, production or test.")
IS_PRODUCTION = SPIRAL_ENV == "production"

DEBUG = env_bool("DEBUG", SPIRAL_ENV == "development")

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if IS_PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when SPIRAL_ENV=production.")
    SECRET_KEY = "insecure-development-key-never-use-in-production"

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if IS_PRODUCTION else ["127.0.0.1", "localhost", "testserver", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

DATA_DIR = Path(env_str("SPIRAL_DATA_DIR", str(PROJECT_DIR / "var")))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",  # serves Swagger UI from its own static files, never a CDN
    "template_partials.apps.SimpleAppConfig",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "spiral.core",
    "spiral.accounts",
    "spiral.grid",
    "spiral.territories",
    "spiral.consultations",
    "spiral.coding",
    "spiral.syntheses",
    "spiral.quality",
    "spiral.indicators",
    "spiral.actions",
    "spiral.carbon",
    "spiral.selfentry",
    "spiral.transfers",
    "spiral.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "spiral.accounts.middleware.preferred_language_middleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "spiral.core.middleware.permissions_policy_middleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Axes must come last: it reads the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "spiral.config.urls"
WSGI_APPLICATION = "spiral.config.wsgi.application"
ASGI_APPLICATION = "spiral.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "spiral.core.context_processors.spiral",
            ],
            "loaders": [
                (
                    "template_partials.loader.Loader",
                    [
                        (
                            "django.template.loaders.cached.Loader",
                            [
                                "django.template.loaders.filesystem.Loader",
                                "django.template.loaders.app_directories.Loader",
                            ],
                        )
                    ],
                )
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
# SQLite is the embedded default; PostgreSQL is selected with DATABASE_URL.
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    }
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(DATA_DIR / "spiral.sqlite3")),
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so concurrent writers wait
                # (busy_timeout) instead of failing with "database is locked" mid-transaction.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=20000;"
                    "PRAGMA cache_size=-32000;"
                ),
            },
            "TEST": {"NAME": env_str("SQLITE_TEST_PATH") or None},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background tasks -----------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# --- Authentication -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "spiral.accounts.backends.UsernameOrEmailBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

# Login attempts are rate-limited per username and address (django-axes).
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = int(env_str("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env_str("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False

# --- E-mail ---------------------------------------------------------------------------------
# Messages go to the console until an SMTP server is named with EMAIL_HOST.
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if env_str("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = int(env_str("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Spiral <no-reply@localhost>")

# --- Languages ------------------------------------------------------------------------------
LANGUAGE_CODE = env_str("SPIRAL_DEFAULT_LANGUAGE", "fr")
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_str("TIME_ZONE", "Europe/Paris")
USE_TZ = True
LANGUAGE_COOKIE_NAME = "spiral_language"
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if IS_PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = not IS_PRODUCTION
if not IS_PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- Security -------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", IS_PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", IS_PRODUCTION)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", IS_PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(env_str("SECURE_HSTS_SECONDS", "31536000" if IS_PRODUCTION else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Sub-domains and the preload list belong to whoever runs the domain: they are opt-in above,
# so the deploy check does not warn about them.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# --- Spiral ---------------------------------------------------------------------------------
# Public views never show a breakdown isolating fewer participants than this.
SPIRAL_SMALL_NUMBERS_THRESHOLD = int(env_str("SPIRAL_SMALL_NUMBERS_THRESHOLD", "5"))
SPIRAL_SITE_NAME = env_str("SPIRAL_SITE_NAME", "Spiral")
# Below this many criteria a synthesis shows counts only: a percentage of 7 criteria misleads.
SPIRAL_MIN_BASE_FOR_SHARES = int(env_str("SPIRAL_MIN_BASE_FOR_SHARES", "20"))

# --- Code suggestions -------------------------------------------------------------------------
# Trained suggestion models (joblib files of the scikit-learn parts), one per SuggestionModel.
SPIRAL_SUGGESTION_MODELS_DIR = Path(
    env_str("SPIRAL_SUGGESTION_MODELS_DIR", str(DATA_DIR / "models"))
)
# A new model is trained in the background after this many codings since the current one.
SPIRAL_RETRAIN_AFTER_CODINGS = int(env_str("SPIRAL_RETRAIN_AFTER_CODINGS", "500"))
# Suggestions below this confidence are not shown; below SPIRAL_SUGGESTION_CONFIDENT, greyed.
SPIRAL_SUGGESTION_MIN_CONFIDENCE = float(env_str("SPIRAL_SUGGESTION_MIN_CONFIDENCE", "0.05"))
SPIRAL_SUGGESTION_CONFIDENT = float(env_str("SPIRAL_SUGGESTION_CONFIDENT", "0.4"))
# Pre-coding a scope with more criteria than this runs as a background task.
SPIRAL_SUGGEST_SYNC_LIMIT = int(env_str("SPIRAL_SUGGEST_SYNC_LIMIT", "2000"))
# BLAS threads of the sentence encoder (one per web process is best on small machines).
SPIRAL_USE_THREADS = int(env_str("SPIRAL_USE_THREADS", "1"))
# Large batches (pre-coding a territory, retraining) run in the task worker: every core.
SPIRAL_USE_BATCH_THREADS = int(env_str("SPIRAL_USE_BATCH_THREADS", str(os.cpu_count() or 1)))

# --- Carbon footprint (spiral.carbon) --------------------------------------------------------
# Results a visitor may pledge against or redo are reached by a signed private link; this salt
# separates those signatures from every other use of SECRET_KEY.
SPIRAL_CARBON_LINK_SALT = "spiral.carbon.result"
# --- Self-entry on phones ---------------------------------------------------------------------
# A post-it is short; the limit keeps a phone from pasting a whole text into one.
SPIRAL_SELFENTRY_MAX_LENGTH = int(env_str("SPIRAL_SELFENTRY_MAX_LENGTH", "500"))
# Per meeting and anonymous phone; a phone sends its outbox in batches, so this is generous.
SPIRAL_SELFENTRY_REQUESTS_PER_MINUTE = int(env_str("SPIRAL_SELFENTRY_REQUESTS_PER_MINUTE", "60"))
# All phones of one meeting together (a room of 12 needs a tiny fraction of this).
SPIRAL_SELFENTRY_MEETING_REQUESTS_PER_MINUTE = int(
    env_str("SPIRAL_SELFENTRY_MEETING_REQUESTS_PER_MINUTE", "3000")
)
SPIRAL_SELFENTRY_MAX_POSTITS_PER_PHONE = int(
    env_str("SPIRAL_SELFENTRY_MAX_POSTITS_PER_PHONE", "300")
)
# Unknown codes tried from one address in 10 minutes before it has to wait (codes are guessable).
SPIRAL_SELFENTRY_BAD_CODES_PER_10_MIN = int(env_str("SPIRAL_SELFENTRY_BAD_CODES_PER_10_MIN", "30"))
# --- Imports and exports (transfers) ----------------------------------------------------------
# Imports of more lines than this are checked and saved by the task worker, with a progress bar.
SPIRAL_IMPORT_SYNC_LIMIT = int(env_str("SPIRAL_IMPORT_SYNC_LIMIT", "5000"))
# Days a refused, failed or never-mapped import keeps its stored file after it finished (or
# was uploaded); `manage.py clean_imports` deletes older files. Saved imports drop it at once.
SPIRAL_IMPORT_RETENTION_DAYS = int(env_str("SPIRAL_IMPORT_RETENTION_DAYS", "30"))
# Largest file accepted for an import (bytes).
SPIRAL_IMPORT_MAX_BYTES = int(env_str("SPIRAL_IMPORT_MAX_BYTES", str(50 * 1024 * 1024)))
