"""Settings read from the environment: a shared deployment needs its own secret key, and the documented
production settings (README, Deployment) pass ``manage.py check --deploy`` without a warning."""

import os
import subprocess
import sys

from tests.environment import PROJECT_DIR

PRODUCTION = {  # the README's Deployment section
    "DJANGO_SECRET_KEY": "k7Vb2Qx9-RtL4mZp8sYw1NcE6hJd3GuA0fKoXiT5vBnMqWeRy_Hs3dPa9LzC4",  # as token_urlsafe(50)
    "DJANGO_ALLOWED_HOSTS": "hematovision.example.org",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://hematovision.example.org",
    "DJANGO_BEHIND_HTTPS_PROXY": "true",
    "DJANGO_SECURE_SSL_REDIRECT": "true",
    "DJANGO_SECURE_COOKIES": "true",
    "DJANGO_HSTS_SECONDS": "31536000",
    "DJANGO_HSTS_INCLUDE_SUBDOMAINS": "true",
    "DJANGO_HSTS_PRELOAD": "true",
}


def manage(*args, **environment) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env={**clean, **environment},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_documented_production_settings_pass_the_deploy_check_without_a_warning():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_public_hosts_without_a_secret_key_refuse_to_start():
    result = manage("check", **{**PRODUCTION, "DJANGO_SECRET_KEY": ""})
    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is not set" in result.stderr


def test_a_local_only_site_runs_with_the_built_in_key():
    result = manage("check", DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost,[::1]")
    assert result.returncode == 0, result.stderr


TOKEN_TTL = "from django.conf import settings; print(settings.HEMATOVISION_TOKEN_TTL_HOURS)"
CLIENT_ADDRESS = (
    "from django.conf import settings as s; "
    "print(s.REST_FRAMEWORK['NUM_PROXIES'], s.AXES_IPWARE_PROXY_COUNT, ','.join(s.AXES_IPWARE_META_PRECEDENCE_ORDER))"
)


def test_behind_the_proxy_one_proxy_is_trusted_for_the_client_address():
    result = manage("shell", "--no-imports", "-c", CLIENT_ADDRESS, DJANGO_BEHIND_HTTPS_PROXY="true")
    assert result.stdout.split() == ["1", "0", "HTTP_X_FORWARDED_FOR,REMOTE_ADDR"], result.stderr


def test_without_a_proxy_forwarded_headers_are_not_read():
    assert manage("shell", "--no-imports", "-c", CLIENT_ADDRESS).stdout.split() == ["0", "None", "REMOTE_ADDR"]


def test_the_number_of_trusted_proxies_can_be_set():
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        CLIENT_ADDRESS,
        DJANGO_BEHIND_HTTPS_PROXY="true",
        HEMATOVISION_TRUSTED_PROXIES="2",
    )
    assert result.stdout.split()[:2] == ["2", "1"], result.stderr


def test_a_negative_token_lifetime_is_refused_by_the_check_without_a_traceback():
    result = manage("check", HEMATOVISION_TOKEN_TTL_HOURS="-1")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "hematovision.E003) HEMATOVISION_TOKEN_TTL_HOURS is '-1'; it must be a number from 0." in result.stderr


def test_a_fractional_token_lifetime_is_read():
    result = manage("shell", "--no-imports", "-c", TOKEN_TTL, HEMATOVISION_TOKEN_TTL_HOURS="0.01")
    assert result.stdout.split() == ["0.01"], result.stderr


FOUR_EYES = "from django.conf import settings; print(settings.HEMATOVISION_UNVERIFY_FOUR_EYES)"


def test_the_four_eyes_rule_is_off_unless_switched_on():
    assert manage("shell", "--no-imports", "-c", FOUR_EYES).stdout.split() == ["False"]
    result = manage("shell", "--no-imports", "-c", FOUR_EYES, HEMATOVISION_UNVERIFY_FOUR_EYES="true")
    assert result.stdout.split() == ["True"], result.stderr
