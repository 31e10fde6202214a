"""API fixtures: token-authenticated clients for alice and bob, reviewers, a sample of alice's."""

import io
import zipfile

import pytest
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from classifier import services
from classifier.apps import REVIEWERS_GROUP


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def make_reviewer(user):
    user.groups.add(Group.objects.get(name=REVIEWERS_GROUP))
    return user


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def upload(client, url, *files):
    return client.post(url, {"images": list(files)}, format="multipart")


@pytest.fixture
def alice_api(user):
    return token_client(user)


@pytest.fixture
def bob_api(other_user):
    return token_client(other_user)


@pytest.fixture
def alice_reviewer_api(user):
    return token_client(make_reviewer(user))


@pytest.fixture
def bob_reviewer_api(other_user):
    """Bob may review: a 404 for him proves isolation, not a missing permission."""
    return token_client(make_reviewer(other_user))


@pytest.fixture
def alice_sample(user):
    return services.sample_create(owner=user, identifier="S-001", notes="Routine smear")
