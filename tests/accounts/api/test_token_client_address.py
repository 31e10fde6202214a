"""The token endpoint's throttle and lock-outs key on the real client's address: a client-sent X-Forwarded-For
never buys a fresh allowance, and behind the proxy only the address the proxy appended counts."""

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

pytestmark = pytest.mark.django_db
TOKEN_URL = reverse("api:token")
PROXY_APPENDED = "203.0.113.7"


def ask_token(username="alice", password="wrong", forwarded_for=None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    return APIClient().post(TOKEN_URL, {"username": username, "password": password}, format="json", **headers)


@pytest.fixture
def behind_one_proxy(settings):
    """What the settings derive from DJANGO_BEHIND_HTTPS_PROXY=true (tests/hematovision/test_settings.py)."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    settings.AXES_IPWARE_PROXY_COUNT = 0


@pytest.fixture
def lenient_throttle(monkeypatch):
    """Only the lock-out refuses: DRF reads the rates once, when the throttle class is defined."""
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"token": "1000/minute"})


def test_thirty_forwarded_addresses_share_one_allowance_and_end_in_429(user):
    answers = [ask_token(f"user{n}", forwarded_for=f"198.51.100.{n}").status_code for n in range(30)]
    assert answers == [400] * 10 + [429] * 20
    assert ask_token(password="s3cret-pass-alice", forwarded_for="192.0.2.1").status_code == 429


def test_behind_the_proxy_the_throttle_keys_on_the_address_it_appended(user, behind_one_proxy):
    answers = [ask_token(f"user{n}", forwarded_for=f"198.51.100.{n}, {PROXY_APPENDED}").status_code for n in range(30)]
    assert answers == [400] * 10 + [429] * 20
    assert ask_token(forwarded_for=f"{PROXY_APPENDED}, 192.0.2.1").status_code == 400  # another client


def test_forwarded_addresses_do_not_escape_the_lock_out(user, settings, lenient_throttle):
    for n in range(settings.AXES_FAILURE_LIMIT):
        ask_token(forwarded_for=f"198.51.100.{n}")
    response = ask_token(password="s3cret-pass-alice", forwarded_for="192.0.2.1")
    assert response.status_code == 429
    assert response.json()["detail"].startswith("Too many failed log-ins for this account")


def test_behind_the_proxy_the_lock_out_is_per_username_and_appended_address(
    user, settings, behind_one_proxy, lenient_throttle
):
    for n in range(settings.AXES_FAILURE_LIMIT):
        ask_token(forwarded_for=f"198.51.100.{n}, {PROXY_APPENDED}")
    assert ask_token(password="s3cret-pass-alice", forwarded_for=PROXY_APPENDED).status_code == 429
    assert AccessAttempt.objects.get().ip_address == PROXY_APPENDED
    assert ask_token(password="s3cret-pass-alice", forwarded_for="192.0.2.1").status_code == 200  # the owner


def test_a_failed_try_during_the_lock_out_does_not_extend_it(user, settings, lenient_throttle):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        ask_token()
    locked = AccessAttempt.objects.get()
    assert ask_token().status_code == 429
    assert AccessAttempt.objects.get().attempt_time == locked.attempt_time
