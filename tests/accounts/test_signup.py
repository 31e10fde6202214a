"""Sign-up: open by default, switched off by HEMATOVISION_ALLOW_SIGNUP=False (404, and no link to it)."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db
URL = reverse("signup")
PASSWORD = "Lab-bench-2026!"


def test_signup_page_shows_the_form(client):
    response = client.get(URL)
    assert response.status_code == 200
    content = response.content.decode()
    for name in ("username", "password1", "password2"):
        assert f'name="{name}"' in content


def test_signup_creates_the_account_and_logs_in(client):
    response = client.post(URL, {"username": "carol", "password1": PASSWORD, "password2": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("classifier:upload")
    assert "Welcome to HematoVision." in response.content.decode()
    user = get_user_model().objects.get(username="carol")
    assert user.check_password(PASSWORD) and not user.is_staff and not user.is_superuser
    assert response.context["user"] == user
    assert client.get(reverse("classifier:history")).status_code == 200


@pytest.mark.parametrize(
    "data, message",
    [
        ({"username": "carol", "password1": PASSWORD, "password2": PASSWORD + "x"}, "didn’t match"),
        ({"username": "carol", "password1": "12345678", "password2": "12345678"}, "too common"),
        ({"username": "alice", "password1": PASSWORD, "password2": PASSWORD}, "already exists"),
    ],
)
def test_invalid_signup_shows_the_error_and_creates_nothing(client, user, data, message):
    users_before = get_user_model().objects.count()
    response = client.post(URL, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert get_user_model().objects.count() == users_before
    assert "_auth_user_id" not in client.session


def test_nav_and_login_page_link_to_signup_when_enabled(client):
    content = client.get(reverse("login")).content.decode()
    assert f'href="{URL}"' in content


def test_switched_off_signup_is_404_and_the_links_disappear(client, settings):
    settings.HEMATOVISION_ALLOW_SIGNUP = False
    assert client.get(URL).status_code == 404
    response = client.post(URL, {"username": "mallory", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 404
    assert not get_user_model().objects.filter(username="mallory").exists()
    login_page = client.get(reverse("login"))
    assert login_page.status_code == 200
    content = login_page.content.decode()
    assert URL not in content and "Sign up" not in content
