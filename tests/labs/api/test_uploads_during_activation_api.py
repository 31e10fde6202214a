"""Uploads into a lab and into another lab while the first lab's model is built and activated, through the real
API on a live server: no request fails, and every prediction names the model that made it."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.core.management import call_command

from accounts.services import token_issue
from classifier.models import Prediction
from labs.models import Lab, LabModelChange
from tests.factories import (
    FAST_LAB_MODEL_BUILD,
    coloured_cell_bytes,
    lab_cells_make,
    lab_make,
    reviewer_make,
    sample_make,
)

AFTER_ACTIVATION = 3  # uploads each client still sends once the lab's model is active


def _upload_until(url: str, token: str, activated: threading.Event) -> list[int]:
    """One image per request until ``AFTER_ACTIVATION`` requests after ``activated``; the status codes."""
    codes, after = [], 0
    with requests.Session() as session:
        session.headers["Authorization"] = f"Token {token}"
        while after < AFTER_ACTIVATION:
            after += activated.is_set()
            image = coloured_cell_bytes("MONOCYTE", seed=len(codes))
            response = session.post(
                url, files={"images": (f"cell-{len(codes)}.jpeg", image, "image/jpeg")}, timeout=120
            )
            codes.append(response.status_code)
    return codes


@pytest.mark.django_db(transaction=True)
def test_no_upload_fails_while_a_lab_model_is_built_and_activated(
    live_server, lab_model_settings, user, django_user_model
):
    reviewer = reviewer_make(django_user_model)
    north, south = lab_make(user, reviewer), lab_make(user, name="Haematology South", slug="haematology-south")
    lab_cells_make(north, user, reviewer, per_class=12)
    in_north, in_south = sample_make(user, "S-NORTH", lab=north), sample_make(user, "S-SOUTH", lab=south)
    token = token_issue(user=user)
    activated = threading.Event()
    with ThreadPoolExecutor(2) as pool:
        clients = [
            pool.submit(_upload_until, f"{live_server.url}/api/samples/{sample.pk}/images/", token, activated)
            for sample in (in_north, in_south)
        ]
        try:
            call_command("adapt_model", "--lab", north.slug, *FAST_LAB_MODEL_BUILD)
        finally:
            activated.set()
        codes = [client.result() for client in clients]

    assert all(code == 201 for client_codes in codes for code in client_codes), codes
    lab_model = Lab.objects.get(pk=north.pk).active_model
    assert LabModelChange.objects.get(lab=north).status == LabModelChange.Status.ACTIVATED
    north_versions = list(in_north.predictions.order_by("created_at").values_list("model_version__name", flat=True))
    assert len(north_versions) == len(codes[0])
    assert set(north_versions) <= {"tiny-shared-model", lab_model.name}
    assert north_versions[-AFTER_ACTIVATION:] == [lab_model.name] * AFTER_ACTIVATION  # sent once it was active
    assert north_versions == sorted(north_versions, key=lambda name: name == lab_model.name)  # never back
    assert set(in_south.predictions.values_list("model_version__name", flat=True)) == {"tiny-shared-model"}
    assert Prediction.objects.count() == sum(len(client_codes) for client_codes in codes) + 48
