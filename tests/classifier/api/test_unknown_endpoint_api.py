"""Unknown addresses under /api/ answer in JSON, like every other API error."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_endpoint_is_a_json_404(method):
    response = getattr(APIClient(), method)("/api/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "No API endpoint at /api/no-such-thing/" in response.json()["detail"]


def test_missing_trailing_slash_gets_a_hint():
    response = APIClient().get("/api/predictions")
    assert response.status_code == 404
    assert "Did you mean /api/predictions/" in response.json()["detail"]


def test_unknown_endpoint_without_a_slash_gets_no_false_hint():
    assert "Did you mean" not in APIClient().get("/api/nothing-here").json()["detail"]


def test_known_endpoints_still_answer(user):
    client = APIClient()
    client.force_authenticate(user)
    assert client.get("/api/samples/").status_code == 200
    assert client.get("/api/schema/").status_code == 200
