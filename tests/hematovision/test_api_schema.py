"""The OpenAPI schema is valid, warning-free and served with its interactive docs page."""

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
API_PATHS = {
    "/api/auth/token/",
    "/api/predictions/",
    "/api/predictions/{id}/",
    "/api/predictions/{id}/review/",
    "/api/predictions/{id}/exclude/",
    "/api/predictions/{id}/image/",
    "/api/predictions/{id}/preview/",
    "/api/samples/",
    "/api/samples/{id}/",
    "/api/samples/{id}/images/",
    "/api/samples/{id}/differential/",
    "/api/samples/{id}/verify/",
    "/api/samples/{id}/unverify/",
    "/api/samples/{id}/events/",
    "/api/model/",
    "/api/labs/{slug}/model/",
    "/api/labs/{slug}/model/build/",
    "/api/labs/{slug}/model/revert/",
    "/api/schema/",
}


def test_schema_validates_without_warnings(tmp_path):
    schema_file = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(schema_file))
    schema = yaml.safe_load(schema_file.read_text())
    assert set(schema["paths"]) == API_PATHS


def test_schema_documents_uploads_as_files_and_errors_as_json():
    schema = APIClient().get(reverse("api:schema"), {"format": "json"}).json()
    upload = schema["paths"]["/api/predictions/"]["post"]
    assert set(upload["responses"]) == {"201", "400", "503"}
    request_schema = upload["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert schema["components"]["schemas"][request_schema]["properties"]["images"]["items"]["format"] == "binary"
    filters = {parameter["name"] for parameter in schema["paths"]["/api/predictions/"]["get"]["parameters"]}
    assert filters == {"label", "date_from", "date_to", "needs_review", "sample", "page"}


def test_docs_page_points_at_the_schema_and_needs_no_cdn():
    response = APIClient().get(reverse("api:docs"))
    page = response.content.decode()
    assert response.status_code == 200
    script = APIClient().get(reverse("api:docs") + "?script")  # Swagger UI's start-up, a file for the CSP
    assert reverse("api:schema") in script.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist/" in page and "cdn.jsdelivr" not in page
