"""API fixtures: token-authenticated clients for alice and bob, reviewers, a sample of alice's."""

import pytest

from classifier import services
from tests.factories import reviewer_grant, token_client


@pytest.fixture
def alice_api(user):
    return token_client(user)


@pytest.fixture
def bob_api(other_user):
    return token_client(other_user)


@pytest.fixture
def alice_reviewer_api(user):
    return token_client(reviewer_grant(user))


@pytest.fixture
def bob_reviewer_api(other_user):
    """Bob may review: a 404 for him proves isolation, not a missing permission."""
    return token_client(reviewer_grant(other_user))


@pytest.fixture
def alice_sample(user):
    return services.sample_create(owner=user, identifier="S-001", notes="Routine smear")
