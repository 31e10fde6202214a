"""Headers and markup every page carries: a Content-Security-Policy the templates can pass (no inline script,
style or event handler anywhere), ``Cache-Control: private, no-store`` on pages and downloads with sample or
prediction data, and the password-reset link only where e-mail is configured."""

import re

import pytest
from django.urls import reverse

from tests.environment import PROJECT_DIR
from tests.factories import prediction_make, reviewer_make, sample_make, token_client

pytestmark = pytest.mark.django_db
TEMPLATES = sorted((PROJECT_DIR / "templates").rglob("*.html"))
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=|\son[a-z]+=", re.IGNORECASE)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(PROJECT_DIR)))
def test_no_template_has_inline_script_style_or_event_handler(template):
    text = template.read_text()
    assert not INLINE_SCRIPT.search(text) and not INLINE_STYLE.search(text)


def test_pages_carry_a_policy_without_inline_code(alice_client):
    policy = alice_client.get(reverse("classifier:upload"))["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy


def test_the_api_docs_load_their_script_from_a_file(alice_client):
    page = alice_client.get(reverse("api:docs")).content.decode()
    assert not INLINE_SCRIPT.search(page) and "<style" not in page
    assert alice_client.get(reverse("api:docs") + "?script").status_code == 200


@pytest.fixture
def data_urls(django_user_model):
    reviewer = reviewer_make(django_user_model)
    sample = sample_make(reviewer, "S-CACHE")
    prediction = prediction_make(sample, "NEUTROPHIL")
    return reviewer, [
        reverse("classifier:history"),
        reverse("classifier:history_csv"),
        reverse("labs:samples"),
        reverse("labs:sample_detail", args=[sample.pk]),
        reverse("labs:sample_csv", args=[sample.pk]),
        reverse("labs:sample_pdf", args=[sample.pk]),
        reverse("labs:sample_dataset", args=[sample.pk]),
        reverse("labs:sample_review", args=[sample.pk]),
        reverse("classifier:detail", args=[prediction.pk]),
        reverse("classifier:preview", args=[prediction.pk]),
        reverse("classifier:original", args=[prediction.pk]),
    ]


def test_pages_and_downloads_with_data_are_never_stored_by_caches(client, data_urls):
    reviewer, urls = data_urls
    client.force_login(reviewer)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        directives = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= directives, url


def test_api_answers_are_never_stored_by_caches(user):
    response = token_client(user).get(reverse("api:samples"))
    assert {"private", "no-store"} <= {part.strip() for part in response["Cache-Control"].split(",")}


def test_without_email_there_is_no_password_reset(client, settings):
    settings.HEMATOVISION_PASSWORD_RESET = False
    assert "Forgot your password?" not in client.get(reverse("login")).content.decode()
    response = client.get(reverse("password_reset"))
    assert response.status_code == 404
    assert client.post(reverse("password_reset"), {"email": "alice@example.org"}).status_code == 404


def test_with_email_configured_the_reset_link_and_page_are_there(client, settings):
    settings.HEMATOVISION_PASSWORD_RESET = True
    assert "Forgot your password?" in client.get(reverse("login")).content.decode()
    assert client.get(reverse("password_reset")).status_code == 200
