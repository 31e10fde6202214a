"""Staff see the API tokens in the admin by their prefix alone: no page holds a key (the database has none) or its
digest; a token can be ended there, not made or changed."""

import pytest
from django.urls import reverse

from accounts.models import ApiToken, token_digest
from accounts.services import token_issue

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:accounts_apitoken_changelist")


@pytest.fixture
def admin_page(admin_client):
    def page(url: str) -> str:
        response = admin_client.get(url)
        assert response.status_code == 200
        return response.content.decode()

    return page


@pytest.fixture
def key(user) -> str:
    return token_issue(user=user)


def test_the_token_list_shows_the_prefix_and_owner_never_the_key_or_its_digest(admin_page, key):
    page = admin_page(CHANGELIST)
    assert f"{key[:8]}…" in page and "alice" in page
    assert key not in page and token_digest(key) not in page


def test_the_token_page_shows_no_key_and_cannot_be_edited(admin_page, admin_client, key):
    token = ApiToken.objects.get()
    page = admin_page(reverse("admin:accounts_apitoken_change", args=[token.pk]))
    assert f"{key[:8]}…" in page and key not in page and token_digest(key) not in page
    assert 'name="_save"' not in page
    assert admin_client.get(reverse("admin:accounts_apitoken_add")).status_code == 403


def test_searching_by_prefix_finds_the_token(admin_client, key, other_user):
    token_issue(user=other_user)
    response = admin_client.get(CHANGELIST, {"q": key[:8]})
    assert [token.user.username for token in response.context["cl"].result_list] == ["alice"]


def test_staff_end_a_token_by_deleting_it(admin_client, key):
    token = ApiToken.objects.get()
    response = admin_client.post(reverse("admin:accounts_apitoken_delete", args=[token.pk]), {"post": "yes"})
    assert response.status_code == 302 and not ApiToken.objects.exists()
