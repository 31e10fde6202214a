"""Uploads at the same moment through the real API and a live server: every record stored, no 500."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from accounts.services import token_issue
from classifier.models import Prediction
from labs.models import Sample
from labs.services.samples import sample_create
from registry.models import ModelVersion
from tests.factories import image_bytes, smear_rgb, upload, upload_file

CLIENTS = 8
UPLOADS_PER_CLIENT = 3


def _client_uploads(base_url: str, token: str, client: int) -> list[int]:
    """One API client sending its images one request at a time, as a lab script does; the status codes."""
    codes = []
    with requests.Session() as session:
        session.headers["Authorization"] = f"Token {token}"
        for index in range(UPLOADS_PER_CLIENT):
            data = image_bytes("JPEG", rgb=smear_rgb(seed=client * 100 + index))
            response = session.post(
                f"{base_url}/api/predictions/",
                timeout=120,
                files={"images": (f"c{client}-{index}.jpeg", data, "image/jpeg")},
            )
            codes.append(response.status_code)
    return codes


@pytest.mark.django_db(transaction=True)
def test_eight_clients_uploading_at_once_get_no_error_and_every_record_is_stored(live_server, user, model_path):
    token = token_issue(user=user)
    with ThreadPoolExecutor(CLIENTS) as pool:
        codes = [
            code
            for client_codes in pool.map(lambda client: _client_uploads(live_server.url, token, client), range(CLIENTS))
            for code in client_codes
        ]
    assert codes == [201] * CLIENTS * UPLOADS_PER_CLIENT
    assert Prediction.objects.filter(owner=user).count() == CLIENTS * UPLOADS_PER_CLIENT
    assert ModelVersion.objects.count() == 1


def _read_then_write(owner, writer: int) -> int:
    """Transactions that read, then write: on SQLite's default (deferred) transactions two of them deadlock and
    one fails at once with "database is locked", whatever the busy timeout."""
    try:
        for index in range(10):
            with transaction.atomic():
                Sample.objects.filter(owner=owner).count()
                sample_create(owner=owner, identifier=f"W{writer}-{index}")
        return 10
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_concurrent_transactions_that_read_then_write_all_commit(user):
    with ThreadPoolExecutor(CLIENTS) as pool:
        committed = list(pool.map(lambda writer: _read_then_write(user, writer), range(CLIENTS)))
    assert committed == [10] * CLIENTS
    assert Sample.objects.filter(owner=user).count() == 10 * CLIENTS


@pytest.mark.django_db
def test_an_upload_after_the_first_writes_nothing_to_the_model_versions(alice_api, model_path):
    upload(alice_api, "/api/predictions/", upload_file("first.jpeg"))
    with CaptureQueriesContext(connection) as queries:
        response = upload(alice_api, "/api/predictions/", upload_file("second.jpeg"))
    assert response.status_code == 201
    writes = [query["sql"] for query in queries if query["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes and not [sql for sql in writes if "classifier_modelversion" in sql]
