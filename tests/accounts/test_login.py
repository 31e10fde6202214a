"""The web log-in and the admin's: django-axes locks a username out after repeated failures (reset with
``axes_reset``), failed log-ins are logged, and a success resets the count."""

import logging

import pytest
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db
LOGIN_URL = reverse("login")
ADMIN_LOGIN_URL = reverse("admin:login")


def log_in(client, password, url=LOGIN_URL, username="alice"):
    return client.post(url, {"username": username, "password": password})


def fail(client, times, url=LOGIN_URL):
    for _ in range(times):
        assert log_in(client, "wrong", url).status_code == 200  # the form again, with its error


def test_the_right_password_logs_in(client, user):
    assert log_in(client, "s3cret-pass-alice").status_code == 302


def test_too_many_failures_lock_the_username_out_even_with_the_right_password(client, user, settings):
    fail(client, settings.AXES_FAILURE_LIMIT - 1)
    response = log_in(client, "wrong")
    assert response.status_code == 429
    assert "Too many failed log-ins for this account: try again in 15 minutes" in response.content.decode()
    assert log_in(client, "s3cret-pass-alice").status_code == 429
    assert "_auth_user_id" not in client.session


def test_axes_reset_lifts_the_lock_out(client, user, settings):
    fail(client, settings.AXES_FAILURE_LIMIT - 1)
    assert log_in(client, "wrong").status_code == 429
    call_command("axes_reset", verbosity=0)
    assert log_in(client, "s3cret-pass-alice").status_code == 302


def test_a_success_resets_the_failure_count(client, user, settings):
    fail(client, settings.AXES_FAILURE_LIMIT - 1)
    assert log_in(client, "s3cret-pass-alice").status_code == 302
    client.logout()
    fail(client, settings.AXES_FAILURE_LIMIT - 1)
    assert log_in(client, "s3cret-pass-alice").status_code == 302


def test_the_admin_log_in_is_locked_out_too(client, django_user_model, settings):
    django_user_model.objects.create_superuser(username="root", password="Adm1n-pass-2026")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "wrong", ADMIN_LOGIN_URL, username="root")
    response = log_in(client, "Adm1n-pass-2026", ADMIN_LOGIN_URL, username="root")
    assert response.status_code == 429


def test_a_failed_log_in_is_logged_without_the_password(client, user, caplog):
    with caplog.at_level(logging.WARNING, logger="hematovision.security"):
        log_in(client, "wrong-secret")
    [record] = [r for r in caplog.records if r.name == "hematovision.security"]
    assert "Failed log-in for 'alice' from 127.0.0.1 at /accounts/login/" == record.getMessage()
    assert "wrong-secret" not in caplog.text
