"""HematoVision settings, read from the environment (12-factor) with safe local defaults.

Every HEMATOVISION_* / DJANGO_* variable is documented in README.md, the production set under Deployment.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from hematovision.environment import Environment

BASE_DIR = Path(__file__).resolve().parent.parent
env = Environment()
HEMATOVISION_REFUSED_SETTINGS = env.refused  # `manage.py check` names each (hematovision/checks.py)

DEBUG = env.flag("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env.items("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env.items("DJANGO_CSRF_TRUSTED_ORIGINS", "")
CSRF_FAILURE_VIEW = "hematovision.errors.csrf_failure"  # the styled 403 page
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]"}
# A built-in key suits only a site nobody else can reach: DEBUG, or served to this machine alone.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and not set(ALLOWED_HOSTS) <= LOCAL_HOSTS:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY is not set, but DJANGO_ALLOWED_HOSTS ({', '.join(ALLOWED_HOSTS)}) is not only "
            "this machine: set DJANGO_SECRET_KEY to a long random string (README, Deployment)."
        )
    SECRET_KEY = "insecure-local-key-set-DJANGO_SECRET_KEY-for-any-deployment"

INSTALLED_APPS = [
    "accounts",  # before the admin: its registration/ templates (log-in, password change) are the ones shown
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "hematovision",
    "registry",
    "classifier",
    "labs",  # after classifier: its post_migrate gives the Reviewers group classifier's review permission
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "hematovision.middleware.PrivateCacheMiddleware",
    "hematovision.middleware.BackendUnavailableMiddleware",  # a page's database or storage failure: the 503 page
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: it answers for locked-out logins
]

# Content-Security-Policy (django-csp): scripts, styles and images from this site only, no inline code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # Swagger UI draws its icons from data: URLs
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

ROOT_URLCONF = "hematovision.urls"
WSGI_APPLICATION = "hematovision.wsgi.application"
ASGI_APPLICATION = "hematovision.asgi.application"

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
                "hematovision.context_processors.hematovision",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers (gunicorn threads, Celery workers) queue for the write lock instead of answering
    # "database is locked": writes take it at BEGIN, wait up to 20 s for it, and WAL lets reads go on meanwhile.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        **DATABASES["default"].get("OPTIONS", {}),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Brute-force protection (django-axes) of every authenticate(): the web log-in, the admin and the token endpoint.
# A username is locked out from an address after this many failures in a row, for the cool-off time; a success
# resets the count; `python manage.py axes_reset` (or `axes_reset_username NAME`) lifts lock-outs at once. The
# address is the real client's (HEMATOVISION_TRUSTED_PROXIES, below), so a stranger who knows a username cannot lock
# its owner out, and a failed try during a lock-out does not make it last longer.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.number("HEMATOVISION_LOGIN_FAILURE_LIMIT", 5, low=1)
AXES_COOLOFF_TIME = timedelta(minutes=env.number("HEMATOVISION_LOGIN_LOCKOUT_MINUTES", 15, low=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "classifier:upload"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")  # the lab's: pages and reports show times in it
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["hematovision.formats"]  # one way to show a moment, "1 Dec 2026, 18:05 CET", admin included

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("HEMATOVISION_MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": os.environ.get("HEMATOVISION_FILE_STORAGE", "django.core.files.storage.FileSystemStorage")},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if os.environ.get("HEMATOVISION_S3_BUCKET"):  # object storage through django-storages (docs/deployment.md)
    STORAGES["default"]["OPTIONS"] = {  # credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, read by boto3
        "bucket_name": os.environ["HEMATOVISION_S3_BUCKET"],
        "endpoint_url": os.environ.get("HEMATOVISION_S3_ENDPOINT_URL") or None,  # any S3-compatible service
        "region_name": os.environ.get("HEMATOVISION_S3_REGION") or None,
        "default_acl": None,
        "querystring_auth": True,
        "file_overwrite": False,  # private objects, no overwrite
    }

# Uploads: the limit per file is ours; Django's own limits are raised so that ours is the one users meet.
HEMATOVISION_MAX_UPLOAD_BYTES = env.number("HEMATOVISION_MAX_UPLOAD_MB", 20, low=1) * 1024 * 1024
HEMATOVISION_MAX_IMAGE_PIXELS = env.number("HEMATOVISION_MAX_IMAGE_PIXELS", 40_000_000, low=1)
HEMATOVISION_MAX_FILES_PER_UPLOAD = env.number("HEMATOVISION_MAX_FILES_PER_UPLOAD", 500, low=1)
# Pixels one request may decode in all (12 images at the per-image limit): bounds a request's CPU time.
HEMATOVISION_MAX_REQUEST_PIXELS = env.number("HEMATOVISION_MAX_REQUEST_PIXELS", 500_000_000, low=1)
DATA_UPLOAD_MAX_NUMBER_FILES = HEMATOVISION_MAX_FILES_PER_UPLOAD
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# The model: labelled sources and ImageNet base for training, and where the trained artifact lives.
SHARED_DATA_DIR = BASE_DIR.parent / "shared" / "data"  # the workplace layout: ../shared beside the project
# Comma-separated NAME=PATH (or NAME:N=PATH, N training images per class) sources that train_model trains on
# and evaluate_model evaluates on: Kaggle's split layout (TRAIN trains, TEST evaluates) or class folders
# (a fixed fifth held out by file-name hash evaluates, the rest trains). See ml/sources.py.
HEMATOVISION_TRAINING_SOURCES = os.environ.get(
    "HEMATOVISION_TRAINING_SOURCES",
    f"kaggle={SHARED_DATA_DIR / 'blood-cells' / 'dataset2-master'},"
    f"pbc={SHARED_DATA_DIR / 'pbc' / 'PBC_dataset_normal_DIB'}",
)
# The Kaggle dataset folder, for the full-size check (its dataset-master originals sit beside it).
HEMATOVISION_DATASET_DIR = os.environ.get("HEMATOVISION_DATASET_DIR", "")
HEMATOVISION_BASE_WEIGHTS = os.environ.get("HEMATOVISION_BASE_WEIGHTS", "imagenet")
HEMATOVISION_MODEL_PATH = Path(
    os.environ.get("HEMATOVISION_MODEL_PATH", BASE_DIR / "var" / "model" / "hematovision.keras")
)
# Which runtime computes predictions: auto (the model's OpenVINO export when present and intact, else Keras),
# openvino (that export, or the model is unavailable) or keras. See ml/runtime.py.
HEMATOVISION_RUNTIME = os.environ.get("HEMATOVISION_RUNTIME", "auto")
# Which OpenVINO export of the shared model serves: fp32; int8 (its int8 export, recorded only when it agreed with
# fp32 at export, or the model is unavailable); auto (int8 when recorded, else fp32). A lab's own model has no int8
# export and serves in fp32. See ml/quantisation.py; docs/model-card.md ("Runtime") has int8's figures.
HEMATOVISION_RUNTIME_PRECISION = os.environ.get("HEMATOVISION_RUNTIME_PRECISION", "fp32")
# Labs' own models (``adapt_model``) are written here, one artifact per build, never over one that serves.
HEMATOVISION_LAB_MODELS_DIR = Path(
    os.environ.get("HEMATOVISION_LAB_MODELS_DIR", HEMATOVISION_MODEL_PATH.parent / "labs")
)
# How many models each web or worker process keeps loaded (the shared one and the labs' most recently used); each
# costs the memory docs/benchmark.md gives ("Memory per served model").
HEMATOVISION_SERVED_MODELS = env.number("HEMATOVISION_SERVED_MODELS", 4, low=1)
HEMATOVISION_ALLOW_SIGNUP = env.flag("HEMATOVISION_ALLOW_SIGNUP", True)

PAGINATE_BY = 20

# E-mail, for password reset only: the "Forgot your password?" link and pages exist only once a host is set.
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "")
EMAIL_PORT = env.number("DJANGO_EMAIL_PORT", 587, low=1, high=65535)
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.flag("DJANGO_EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "hematovision@localhost")
HEMATOVISION_PASSWORD_RESET = bool(EMAIL_HOST)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [  # token first: an unauthenticated call gets 401 with WWW-Authenticate
        "accounts.api.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": PAGINATE_BY,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "hematovision.errors.json_exception_handler",
    # The token endpoint is throttled per client address (on top of django-axes' lock-out per username).
    "DEFAULT_THROTTLE_RATES": {"token": os.environ.get("HEMATOVISION_TOKEN_RATE", "10/minute")},
}
# API tokens end on log-out and on a password change, and after this many hours (0: only then).
HEMATOVISION_TOKEN_TTL_HOURS = env.number("HEMATOVISION_TOKEN_TTL_HOURS", 720, whole=False)
SPECTACULAR_SETTINGS = {
    # Swagger UI and Redoc served from this site (drf-spectacular-sidecar): no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "TITLE": "HematoVision API",
    "DESCRIPTION": "White-blood-cell image classification: predictions, samples and model metrics.",
    "VERSION": "1.0.0",
    "ENUM_NAME_OVERRIDES": {
        "CellClassEnum": "classifier.models.CLASS_CHOICES",
        "CellLabelEnum": "classifier.models.LABEL_CHOICES",
    },
    "COMPONENT_SPLIT_REQUEST": True,  # request bodies get their own components: uploads show as binary files
}

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    X_FRAME_OPTIONS = "DENY"
    SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_SSL_REDIRECT = env.flag("DJANGO_SECURE_SSL_REDIRECT", False)
BEHIND_HTTPS_PROXY = env.flag("DJANGO_BEHIND_HTTPS_PROXY", False)
if BEHIND_HTTPS_PROXY:  # the proxy ends TLS and says so; else the redirect loops
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The client's address, for the token throttle and the lock-outs: each trusted proxy appends the address it was
# reached from to X-Forwarded-For, so the client is the entry this many from the end; whatever the client sent
# before it is ignored, and with no proxy trusted the header is not read at all (the socket's address counts).
HEMATOVISION_TRUSTED_PROXIES = env.number("HEMATOVISION_TRUSTED_PROXIES", int(BEHIND_HTTPS_PROXY))
REST_FRAMEWORK["NUM_PROXIES"] = HEMATOVISION_TRUSTED_PROXIES
# django-axes reads it through django-ipware, which counts only the proxies named inside the header (the nearest
# one is REMOTE_ADDR), hence one less; not strict: a client may send X-Forwarded-For entries of its own.
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if HEMATOVISION_TRUSTED_PROXIES else ("REMOTE_ADDR",)
)
AXES_IPWARE_PROXY_COUNT = HEMATOVISION_TRUSTED_PROXIES - 1 if HEMATOVISION_TRUSTED_PROXIES else None
IPWARE_STRICT = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.flag("DJANGO_SECURE_COOKIES", False)
SECURE_HSTS_SECONDS = env.number("DJANGO_HSTS_SECONDS", 0)  # set only once HTTPS is permanent
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.flag("DJANGO_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env.flag("DJANGO_HSTS_PRELOAD", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}

# Lab workflow; hematovision/checks.py checks both values at start-up. A prediction below this top probability
# is flagged for review: how the default was chosen and what it trades is the experiment "Review threshold"
# in docs/experiments.md (`make calibrate` prints the trade-off for your model). Reference intervals are adult
# WBC differential percentages: the defaults are the widely printed textbook ranges that the product issue
# names (neutrophils 40-70, lymphocytes 20-40, monocytes 2-8, eosinophils 1-6). Sources differ (MedlinePlus,
# for one, prints neutrophils 40-60 and eosinophils 1-4), so every laboratory must set its own through
# HEMATOVISION_REFERENCE_INTERVALS.
# Chosen for a laboratory the model has never seen: the lowest threshold that leaves at most 5% of each left-out
# lab's training images wrong and unflagged (`make leave-one-lab-out`; docs/model-card.md).
HEMATOVISION_CONFIDENCE_THRESHOLD = env.number("HEMATOVISION_CONFIDENCE_THRESHOLD", 0.79, whole=False, high=1)
# The sample report: the laboratory's name at its head (a sample's own lab, where it has one, comes first), and
# the count under which it warns that the percentages are imprecise (a manual differential counts 100 cells).
HEMATOVISION_LAB_NAME = os.environ.get("HEMATOVISION_LAB_NAME", "Haematology laboratory")
HEMATOVISION_REPORT_MIN_CELLS = env.number("HEMATOVISION_REPORT_MIN_CELLS", 100, low=1)
HEMATOVISION_REFERENCE_INTERVALS = env.json(
    "HEMATOVISION_REFERENCE_INTERVALS",
    '{"NEUTROPHIL": [40, 70], "LYMPHOCYTE": [20, 40], "MONOCYTE": [2, 8], "EOSINOPHIL": [1, 6]}',
)
# Four eyes on amendments: whoever un-verified a sample (withdrew its signed report) may not verify it again.
HEMATOVISION_UNVERIFY_FOUR_EYES = env.flag("HEMATOVISION_UNVERIFY_FOUR_EYES", False)

# Background classification (docs/deployment.md). Without a broker, tasks run in the process that sends them and
# sample uploads are classified inside the request, as ever; with one, sample uploads are stored, answered at once
# and classified by `celery -A hematovision worker` processes.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a batch leaves the queue only once done: a killed worker's batch is delivered again
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # a worker holds one batch at a time; the others wait for a free worker
CELERY_TASK_IGNORE_RESULT = True
# How long an unfinished batch stays with a worker that vanished before Redis gives it to another one.
_VISIBILITY_TIMEOUT = env.number("CELERY_VISIBILITY_TIMEOUT", 3600, low=1)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _VISIBILITY_TIMEOUT,
    # A killed worker's batch is handed on soon after its visibility timeout: kombu sweeps for such batches every
    # 10 s (not every 100 s by default), and a worker killed during a sweep holds the sweep's lock only as long as
    # one timeout, not kombu's 5 minutes.
    "unacked_restore_interval": min(10, _VISIBILITY_TIMEOUT),
    "unacked_restore_throttle": 1,
    "unacked_mutex_expire": min(300, _VISIBILITY_TIMEOUT),
}
# An image still waiting this long after its batch was sent may have lost its message (the broker was down, or a
# worker died between taking it and recording it): a starting worker, and beat once per timeout, send it again.
HEMATOVISION_RESEND_AFTER = _VISIBILITY_TIMEOUT
CELERY_BEAT_SCHEDULE = {
    "send-waiting-again": {
        "task": "classifier.tasks.send_waiting_again",
        "schedule": HEMATOVISION_RESEND_AFTER,
        "options": {"expires": HEMATOVISION_RESEND_AFTER},
    },  # the next one supersedes it
    # Daily, at night: the stored files no row points to, and the rows whose files are missing, logged (a dry run).
    "sweep-media-daily": {
        "task": "classifier.tasks.sweep_media",
        "schedule": crontab(minute=30, hour=3),
        "options": {"expires": 23 * 3600},  # a run beat could not deliver gives way to the next day's
    },
}
HEMATOVISION_CLASSIFY_IN_BACKGROUND = bool(CELERY_BROKER_URL)
HEMATOVISION_CLASSIFY_BATCH = env.number("HEMATOVISION_CLASSIFY_BATCH", 16, low=1)  # images per task
