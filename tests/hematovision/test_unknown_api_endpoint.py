"""Unknown addresses under /api/ answer in JSON, like every other API error; other pages keep HTML."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_endpoint_is_a_json_404(method):
    response = getattr(APIClient(), method)("/api/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "No API endpoint at /api/no-such-thing/" in response.json()["detail"]


def test_missing_trailing_slash_is_redirected_as_django_does():
    response = APIClient().get("/api/predictions")
    assert response.status_code == 301 and response["Location"] == "/api/predictions/"


def test_unknown_page_outside_the_api_stays_html(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_known_endpoints_still_answer(user):
    client = APIClient()
    client.force_authenticate(user)
    assert client.get("/api/samples/").status_code == 200
    assert client.get("/api/schema/").status_code == 200
