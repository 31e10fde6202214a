"""API authentication: tokens (kept only as a hash) and sessions let users in; anonymous requests get a JSON
refusal."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from accounts.models import ApiToken, token_digest
from accounts.services import MAX_TOKENS_PER_USER, token_issue

pytestmark = pytest.mark.django_db
TOKEN_URL = reverse("api:token")


def test_token_is_issued_for_valid_credentials_and_opens_the_api(user):
    response = APIClient().post(TOKEN_URL, {"username": "alice", "password": "s3cret-pass-alice"}, format="json")
    assert response.status_code == 200
    key = response.json()["token"]
    stored = ApiToken.objects.get(user=user)
    assert (stored.prefix, stored.digest) == (key[:8], token_digest(key))  # the key itself is nowhere
    assert token_api(key).get(reverse("api:samples")).status_code == 200


def test_each_request_for_a_token_gives_another_and_all_of_them_work(user):
    first, second = ask_token().json()["token"], ask_token().json()["token"]
    assert first != second and ApiToken.objects.filter(user=user).count() == 2
    assert token_api(first).get(reverse("api:samples")).status_code == 200
    assert token_api(second).get(reverse("api:samples")).status_code == 200


def test_wrong_password_gets_a_json_400_and_no_token(user):
    response = APIClient().post(TOKEN_URL, {"username": "alice", "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert "Unable to log in" in response.json()["non_field_errors"][0]
    assert not ApiToken.objects.exists()


def test_unknown_token_is_refused_with_json():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get(reverse("api:predictions"))
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


@pytest.mark.parametrize(
    "method, url",
    [
        ("get", reverse("api:predictions")),
        ("post", reverse("api:predictions")),
        ("get", reverse("api:prediction", args=[1])),
        ("post", reverse("api:prediction-review", args=[1])),
        ("get", reverse("api:samples")),
        ("post", reverse("api:sample-images", args=[1])),
        ("get", reverse("api:sample-differential", args=[1])),
        ("post", reverse("api:sample-verify", args=[1])),
        ("get", reverse("api:model")),
    ],
)
def test_anonymous_request_is_refused_with_json(method, url):
    response = getattr(APIClient(), method)(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_session_login_also_opens_the_api(user, alice_sample):
    client = APIClient()
    client.force_login(user)
    response = client.get(reverse("api:samples"))
    assert response.status_code == 200
    assert [sample["identifier"] for sample in response.json()["results"]] == ["S-001"]


def ask_token(password="s3cret-pass-alice", client=None):
    return (client or APIClient()).post(TOKEN_URL, {"username": "alice", "password": password}, format="json")


def token_rate(monkeypatch, rate: str) -> None:
    """DRF reads the rates once, when the throttle class is defined."""
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"token": rate})


def test_the_token_endpoint_is_throttled_with_a_json_429(user, monkeypatch):
    token_rate(monkeypatch, "3/minute")
    client = APIClient()
    assert [ask_token("wrong", client).status_code for _ in range(3)] == [400, 400, 400]
    response = ask_token(client=client)
    assert response.status_code == 429
    assert response.json()["detail"].startswith("Request was throttled.")


def test_repeated_failures_lock_the_username_out_of_the_token_endpoint(user, settings, monkeypatch):
    token_rate(monkeypatch, "100/minute")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        ask_token("wrong")
    response = ask_token()
    assert response.status_code == 429
    assert response.json()["detail"].startswith("Too many failed log-ins for this account")
    assert not ApiToken.objects.exists()


def token_api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def created_ago(key: str, **ago) -> None:
    ApiToken.objects.filter(digest=token_digest(key)).update(created=timezone.now() - datetime.timedelta(**ago))


def test_an_expired_token_is_refused_with_a_json_401_and_ended(user, settings):
    settings.HEMATOVISION_TOKEN_TTL_HOURS = 24
    key = token_issue(user=user)
    created_ago(key, hours=25)
    response = token_api(key).get(reverse("api:samples"))
    assert response.status_code == 401
    assert response.json() == {"detail": "The token has expired: ask for a new one at /api/auth/token/."}
    assert not ApiToken.objects.exists()


def test_asking_again_after_expiry_gives_a_new_token(user, settings):
    settings.HEMATOVISION_TOKEN_TTL_HOURS = 24
    old = token_issue(user=user)
    created_ago(old, hours=25)
    new = ask_token().json()["token"]
    assert new != old and token_api(new).get(reverse("api:samples")).status_code == 200
    assert ApiToken.objects.get().digest == token_digest(new)  # the expired one went as the new one was issued


def test_a_token_within_its_lifetime_works_and_ttl_zero_never_expires(user, settings):
    key = token_issue(user=user)
    created_ago(key, hours=23)
    assert token_api(key).get(reverse("api:samples")).status_code == 200
    created_ago(key, days=3650)
    settings.HEMATOVISION_TOKEN_TTL_HOURS = 0
    assert token_api(key).get(reverse("api:samples")).status_code == 200


def test_web_log_out_ends_every_token_of_the_user(client, user):
    keys = [token_issue(user=user), token_issue(user=user)]
    client.force_login(user)
    client.post(reverse("logout"))
    assert [token_api(key).get(reverse("api:samples")).status_code for key in keys] == [401, 401]


def test_a_password_change_ends_the_token(client, user):
    key = token_issue(user=user)
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "s3cret-pass-alice",
            "new_password1": "N3w-pass-alice-2026",
            "new_password2": "N3w-pass-alice-2026",
        },
    )
    assert response.status_code == 302
    assert token_api(key).get(reverse("api:samples")).status_code == 401


def test_other_saves_of_the_user_keep_the_token(user):
    key = token_issue(user=user)
    user.first_name = "Alice"
    user.save()
    assert token_api(key).get(reverse("api:samples")).status_code == 200


def test_delete_on_the_token_endpoint_ends_that_token_only(user):
    ended, kept = token_issue(user=user), token_issue(user=user)
    assert token_api(ended).delete(TOKEN_URL).status_code == 204
    assert token_api(ended).get(reverse("api:samples")).status_code == 401
    assert token_api(kept).get(reverse("api:samples")).status_code == 200
    assert APIClient().delete(TOKEN_URL).status_code == 401


def test_a_user_holds_a_bounded_number_of_tokens_asking_for_more_ends_the_oldest(user):
    keys = [token_issue(user=user) for _ in range(MAX_TOKENS_PER_USER + 1)]
    assert ApiToken.objects.filter(user=user).count() == MAX_TOKENS_PER_USER
    assert token_api(keys[0]).get(reverse("api:samples")).status_code == 401
    assert token_api(keys[-1]).get(reverse("api:samples")).status_code == 200
