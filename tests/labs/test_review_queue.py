"""The Samples list as a review queue: reviewed/total and where each sample stands (uploading, awaiting review, in
review, verified, amended), "Flagged to review" counts only what is still to do, the filter "awaiting my lab's
review", and the list's queries do not grow with the samples."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from classifier.models import WaitingImage
from labs.models import Sample
from labs.selectors import SampleState, sample_list_with_counts
from labs.services.review import prediction_review
from labs.services.sign_off import sample_unverify, sample_verify
from tests.factories import (
    lab_make,
    prediction_make,
    predictions_make,
    sample_make,
    unverifier_grant,
)

pytestmark = pytest.mark.django_db
LIST_URL = reverse("labs:samples")
QUEUE_URL = f"{LIST_URL}?queue=lab"


@pytest.fixture
def lab(user, reviewer):
    return lab_make(user, reviewer)


def rows(content: str) -> dict[str, dict[str, str]]:
    """Each listed sample's cells by column class (identifier → {reviewed, to-review, state, ...}), tags stripped,
    and ``state-name``, the state's own words."""
    listed = {}
    for row in re.findall(r"<tr data-state=.*?</tr>", content, re.S):
        identifier = re.search(r'class="identifier"><a [^>]+>([^<]+)<', row).group(1)
        cells = dict(re.findall(r'<td class="(?:number )?([\w-]+)"[^>]*>(.*?)</td>', row, re.S))
        listed[identifier] = {key: " ".join(re.sub(r"<[^>]+>", "", value).split()) for key, value in cells.items()}
        listed[identifier]["state-name"] = re.search(r'<span class="state-[\w]+">([^<]+)</span>', row).group(1)
    return listed


def test_each_sample_shows_reviewed_of_total_and_its_state(client, user, reviewer, lab, django_user_model):
    sample_make(user, "S-EMPTY", lab=lab)
    waiting = sample_make(user, "S-WAIT", lab=lab)
    prediction_make(waiting)
    WaitingImage.objects.create(owner=user, sample=waiting, image="predictions/x.jpeg", original_filename="x.jpeg")
    predictions_make(sample_make(user, "S-NEW", lab=lab), {"NEUTROPHIL": 3})
    started = sample_make(user, "S-STARTED", lab=lab)
    first, _ = predictions_make(started, {"NEUTROPHIL": 2})
    prediction_review(prediction=first, reviewer=reviewer, label="NEUTROPHIL")
    done = sample_make(user, "S-DONE", lab=lab)
    for cell in predictions_make(done, {"LYMPHOCYTE": 2}):
        prediction_review(prediction=cell, reviewer=reviewer, label="LYMPHOCYTE")
    sample_verify(sample=done, reviewer=reviewer)
    amended = sample_make(user, "S-AMENDED", lab=lab)
    prediction_review(prediction=prediction_make(amended), reviewer=reviewer, label="NEUTROPHIL")
    sample_verify(sample=amended, reviewer=reviewer)
    sample_unverify(sample=amended, actor=unverifier_grant(reviewer), reason="wrong slide label")
    sample_verify(sample=amended, reviewer=reviewer)

    client.force_login(user)
    listed = rows(client.get(LIST_URL).content.decode())
    assert {name: (row["reviewed"], row["state-name"]) for name, row in listed.items()} == {
        "S-EMPTY": ("0 / 0", "Uploading"),
        "S-WAIT": ("0 / 1", "Uploading"),
        "S-NEW": ("0 / 3", "Awaiting review"),
        "S-STARTED": ("1 / 2", "In review"),
        "S-DONE": ("2 / 2", "Verified"),
        "S-AMENDED": ("1 / 1", "Amended"),
    }
    assert "(1 waiting)" in listed["S-WAIT"]["state"]
    states = dict(sample_list_with_counts(user=user).values_list("identifier", "state"))
    assert states["S-AMENDED"] == SampleState.AMENDED and states["S-DONE"] == SampleState.VERIFIED


def test_flagged_counts_what_is_still_to_review_and_is_no_flag_once_verified(client, user, reviewer, lab):
    sample = sample_make(user, "S-FLAGS", lab=lab)
    flagged = [prediction_make(sample, needs_review=True, filename=f"f{index}.jpeg") for index in range(6)]
    client.force_login(user)
    cell = rows(client.get(LIST_URL).content.decode())["S-FLAGS"]["to-review"]
    assert cell == "6 of 6"
    content = client.get(LIST_URL).content.decode()
    assert '<span class="flag">6</span>' in content
    for prediction in flagged[:4]:
        prediction_review(prediction=prediction, reviewer=reviewer, label="NEUTROPHIL")
    assert rows(client.get(LIST_URL).content.decode())["S-FLAGS"]["to-review"] == "2 of 6"
    for prediction in flagged[4:]:
        prediction_review(prediction=prediction, reviewer=reviewer, label="MONOCYTE")
    sample_verify(sample=sample, reviewer=reviewer)
    content = client.get(LIST_URL).content.decode()
    assert rows(content)["S-FLAGS"]["to-review"] == "0 of 6"
    assert 'class="flag"' not in content.split('class="samples')[1]  # nothing orange: nothing left to do


def test_the_queue_lists_the_samples_of_my_labs_awaiting_review_oldest_first(
    client, user, reviewer, lab, django_user_model
):
    first = sample_make(user, "S-FIRST", lab=lab)
    predictions_make(first, {"NEUTROPHIL": 2})
    reviewed = sample_make(user, "S-TO-SIGN", lab=lab)  # every cell reviewed, the sign-off still to give
    prediction_review(prediction=prediction_make(reviewed), reviewer=reviewer, label="NEUTROPHIL")
    sample_make(user, "S-EMPTY", lab=lab)  # nothing to review yet
    signed = sample_make(user, "S-SIGNED", lab=lab)
    prediction_review(prediction=prediction_make(signed), reviewer=reviewer, label="NEUTROPHIL")
    sample_verify(sample=signed, reviewer=reviewer)
    predictions_make(sample_make(reviewer, "S-MINE-NO-LAB"), {"NEUTROPHIL": 1})  # her own, in no lab
    elsewhere = lab_make(django_user_model.objects.create_user("otto"), name="South", slug="south")
    predictions_make(sample_make(elsewhere.members.get(), "S-SOUTH", lab=elsewhere), {"NEUTROPHIL": 1})

    client.force_login(reviewer)
    content = client.get(QUEUE_URL).content.decode()
    assert list(rows(content)) == ["S-FIRST", "S-TO-SIGN"]
    assert 'id="review-queue">Awaiting my lab\'s review <span class="count">2</span>' in content
    everything = rows(client.get(LIST_URL).content.decode())
    assert set(everything) == {"S-FIRST", "S-TO-SIGN", "S-EMPTY", "S-SIGNED", "S-MINE-NO-LAB"}


def test_the_queue_says_when_nothing_awaits(client, user, lab):
    client.force_login(user)
    assert "Nothing awaits your labs' review." in client.get(QUEUE_URL).content.decode()


def test_someone_in_no_lab_gets_no_queue_filter(alice_client, user):
    sample_make(user, "S-SOLO")
    assert 'id="review-queue"' not in alice_client.get(LIST_URL).content.decode()


def samples_add(owner, lab, reviewer, count: int) -> None:
    """``count`` more lab samples, each with a reviewed flagged cell and an unreviewed one."""
    for _ in range(count):
        sample = sample_make(owner, f"S-{Sample.objects.count()}", lab=lab)
        prediction_review(prediction=prediction_make(sample, needs_review=True), reviewer=reviewer, label="MONOCYTE")
        prediction_make(sample)


def both_lists(client) -> None:
    for url in (LIST_URL, QUEUE_URL):
        assert client.get(url).status_code == 200


def test_the_list_reads_in_a_fixed_number_of_queries(client, user, reviewer, lab, django_assert_max_num_queries):
    client.force_login(reviewer)
    samples_add(user, lab, reviewer, 2)
    with CaptureQueriesContext(connection) as few:
        both_lists(client)
    samples_add(user, lab, reviewer, 25)
    with django_assert_max_num_queries(len(few)):  # no query per sample
        both_lists(client)
