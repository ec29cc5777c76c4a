"""Settings shared by every preset. Values an operator may change are read through `taizhang.env`."""

from __future__ import annotations

import dj_database_url
from django.utils.translation import gettext_lazy as _

from taizhang import env

BASE_DIR = env.BASE_DIR
SECRET_KEY = env.text("SECRET_KEY", "dev-insecure-台账-change-me")
DEBUG = env.flag("DEBUG", False)
ALLOWED_HOSTS = env.items("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env.items("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "core.admin_site.TaizhangAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "treebeard",
    "core",
    "audit",
    "orgs",
    "accounts",
    "projects",
    "forms",
    "rules",
    "workflow",
    "admin_ui",
    "taizhang",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.middleware.ServiceErrorMiddleware",
]

ROOT_URLCONF = "taizhang.urls"
WSGI_APPLICATION = "taizhang.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "rules.context_processors.alert_badge",
                "workflow.context_processors.approval_badge",
                "admin_ui.context_processors.studio_link",
            ],
        },
    },
]

env.VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env.text("DATABASE_URL", f"sqlite:///{env.VAR_DIR / 'taizhang.sqlite3'}"),
        conn_max_age=env.integer("DATABASE_CONN_MAX_AGE", 0),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "platform" / "taizhang" / "locale"]
TIME_ZONE = env.text("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Front-end libraries come from npm (package.json + lockfile) and are served from here, never from a CDN.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [("vendor/htmx", NODE_MODULES / "htmx.org" / "dist")]
MEDIA_ROOT = env.VAR_DIR / "media"
MEDIA_URL = "media/"

SESSION_COOKIE_AGE = env.integer("SESSION_COOKIE_AGE", 8 * 3600)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "core.api.DecimalJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "台账 Taizhang API",
    "DESCRIPTION": "政府项目全生命周期管理平台的开放接口。错误统一返回 {code, message, fields}。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "VersionStatusEnum": "forms.models.FormVersion.Status",
        "SubmissionStatusEnum": "forms.models.Submission.Status",
    },
}

# Celery: the embedded default runs tasks in-process; production points CELERY_BROKER_URL at Redis or RabbitMQ.
CELERY_BROKER_URL = env.text("CELERY_BROKER_URL", "memory://")
CELERY_RESULT_BACKEND = env.text("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_ALWAYS_EAGER = env.flag("CELERY_TASK_ALWAYS_EAGER", CELERY_BROKER_URL.startswith("memory"))
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Broker transport options as JSON, e.g. {"visibility_timeout": 7200}: how long Redis waits before redelivering a task
# whose worker died (tasks are acknowledged late); it must exceed the longest task.
CELERY_BROKER_TRANSPORT_OPTIONS = env.json_value("CELERY_BROKER_TRANSPORT_OPTIONS", {})
# Task modules outside `<app>.tasks`, which autodiscovery would miss.
CELERY_IMPORTS = ["projects.imports.tasks"]

# Rule sweeps and alert escalation run on a schedule (celery beat); `taizhang sweep` runs them by hand.
CELERY_BEAT_SCHEDULE = {
    "rules-sweep": {"task": "rules.tasks.sweep_all", "schedule": env.integer("TAIZHANG_SWEEP_SECONDS", 3600)},
    "alerts-escalate": {
        "task": "rules.tasks.escalate",
        "schedule": env.integer("TAIZHANG_ESCALATE_SECONDS", 900),
    },
    # Approval SLA timers (提醒, 升级, 自动通过, 自动退回): a timer missed while workers were down fires on the next run.
    "workflow-sla-sweep": {
        "task": "workflow.tasks.sla_sweep",
        "schedule": env.integer("TAIZHANG_SLA_SWEEP_SECONDS", 300),
    },
}
# An open alert nobody acknowledged goes up one org level after this many days (a rule may set its own).
TAIZHANG_ALERT_ESCALATE_DAYS = env.integer("TAIZHANG_ALERT_ESCALATE_DAYS", 3)

# Mail for alert notifications: printed to the console unless an operator configures SMTP.
EMAIL_BACKEND = env.text("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.text("EMAIL_HOST", "localhost")
EMAIL_PORT = env.integer("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env.text("DEFAULT_FROM_EMAIL", "台账系统 <noreply@taizhang.local>")

# Policy rule packs: orgs whose subtree accepts only packs signed by a registered key, and the regulators' Ed25519
# public keys (key id → base64 of the raw 32 bytes). See docs/rule-packs.md ("签名").
TAIZHANG_RULEPACK_SIGNING = env.json_value("TAIZHANG_RULEPACK_SIGNING", {"required_for": [], "keys": {}})

# Client addresses: X-Forwarded-For is believed only when the operator says a proxy sets it.
TRUSTED_PROXY_COUNT = env.integer("TRUSTED_PROXY_COUNT", 0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.text("LOG_LEVEL", "INFO")},
}
