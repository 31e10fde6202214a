"""API authentication: tokens and sessions let users in; anonymous requests get a JSON refusal."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
TOKEN_URL = reverse("api:token")


def test_token_is_issued_for_valid_credentials_and_opens_the_api(user):
    response = APIClient().post(TOKEN_URL, {"username": "alice", "password": "s3cret-pass-alice"}, format="json")
    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=user).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get(reverse("api:samples")).status_code == 200


def test_wrong_password_gets_a_json_400_and_no_token(user):
    response = APIClient().post(TOKEN_URL, {"username": "alice", "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert "Unable to log in" in response.json()["non_field_errors"][0]
    assert not Token.objects.exists()


def test_unknown_token_is_refused_with_json():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get(reverse("api:predictions"))
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


@pytest.mark.parametrize("method, url", [
    ("get", reverse("api:predictions")),
    ("post", reverse("api:predictions")),
    ("get", reverse("api:prediction", args=[1])),
    ("post", reverse("api:prediction-review", args=[1])),
    ("get", reverse("api:samples")),
    ("post", reverse("api:sample-images", args=[1])),
    ("get", reverse("api:sample-differential", args=[1])),
    ("post", reverse("api:sample-verify", args=[1])),
    ("get", reverse("api:model")),
])
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
