"""History: the user's own records and the cells they reviewed in their labs' samples, newest first, paginated,
filtered by class, date range and whose; each with its sample."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from classifier.models import Prediction
from classifier.services.predictions import prediction_create_many
from labs.services.review import prediction_exclude, prediction_review
from tests.factories import lab_make, prediction_make, reviewer_make, sample_make, upload_file

pytestmark = pytest.mark.django_db
URL = reverse("classifier:history")
DAY = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def make_predictions(owner, names):
    """Real predictions (one batched model call), dated one day apart in the order given: the last is newest."""
    predictions, failures = prediction_create_many(owner=owner, uploads=[upload_file(n) for n in names])
    assert not failures
    for offset, prediction in enumerate(predictions):
        Prediction.objects.filter(pk=prediction.pk).update(created_at=DAY + timedelta(days=offset))
    return predictions


def listed_names(response):
    return [prediction.original_filename for prediction in response.context["page"]]


def test_lists_only_own_records_newest_first(alice_client, user, other_user, model_path):
    make_predictions(user, ["old.jpeg", "middle.jpeg", "new.jpeg"])
    make_predictions(other_user, ["bobs-secret.jpeg"])
    response = alice_client.get(URL)
    assert response.status_code == 200
    assert listed_names(response) == ["new.jpeg", "middle.jpeg", "old.jpeg"]
    content = response.content.decode()
    assert "bobs-secret.jpeg" not in content
    assert "3 predictions" in content
    assert content.index("new.jpeg") < content.index("middle.jpeg") < content.index("old.jpeg")


def test_empty_history_says_so(alice_client):
    response = alice_client.get(URL)
    assert response.status_code == 200
    assert "No predictions match." in response.content.decode()


def test_pagination_splits_pages_and_keeps_the_filter(alice_client, user, model_path, settings):
    settings.PAGINATE_BY = 2
    make_predictions(user, [f"cell-{i}.jpeg" for i in range(5)])
    Prediction.objects.update(predicted_label="MONOCYTE")
    first = alice_client.get(URL, {"label": "MONOCYTE"})
    assert listed_names(first) == ["cell-4.jpeg", "cell-3.jpeg"]
    content = first.content.decode()
    assert "Page 1 of 3" in content
    assert "?label=MONOCYTE&amp;page=2" in content  # the next-page link keeps the filter
    assert listed_names(alice_client.get(URL, {"label": "MONOCYTE", "page": 2})) == ["cell-2.jpeg", "cell-1.jpeg"]
    assert listed_names(alice_client.get(URL, {"label": "MONOCYTE", "page": 3})) == ["cell-0.jpeg"]
    # Out-of-range and nonsense page numbers fall back to a real page instead of failing.
    assert listed_names(alice_client.get(URL, {"page": 99})) == ["cell-0.jpeg"]
    assert alice_client.get(URL, {"page": "abc"}).status_code == 200


def test_filter_by_class(alice_client, user, model_path):
    eosinophil, lymphocyte, neutrophil = make_predictions(user, ["e.jpeg", "l.jpeg", "n.jpeg"])
    for prediction, label in ((eosinophil, "EOSINOPHIL"), (lymphocyte, "LYMPHOCYTE"), (neutrophil, "NEUTROPHIL")):
        Prediction.objects.filter(pk=prediction.pk).update(predicted_label=label)
    assert listed_names(alice_client.get(URL, {"label": "LYMPHOCYTE"})) == ["l.jpeg"]
    assert listed_names(alice_client.get(URL, {"label": "MONOCYTE"})) == []
    assert listed_names(alice_client.get(URL, {"label": ""})) == ["n.jpeg", "l.jpeg", "e.jpeg"]


def test_filter_by_date_range(alice_client, user, model_path):
    make_predictions(user, ["day0.jpeg", "day1.jpeg", "day2.jpeg", "day3.jpeg"])  # 10 to 13 March
    assert listed_names(alice_client.get(URL, {"date_from": "2026-03-11", "date_to": "2026-03-12"})) == [
        "day2.jpeg",
        "day1.jpeg",
    ]
    assert listed_names(alice_client.get(URL, {"date_from": "2026-03-13"})) == ["day3.jpeg"]
    assert listed_names(alice_client.get(URL, {"date_to": "2026-03-10"})) == ["day0.jpeg"]
    assert listed_names(alice_client.get(URL, {"date_from": "2026-04-01"})) == []


@pytest.mark.parametrize("params", [{"date_from": "not-a-date"}, {"date_to": "2026-13-45"}, {"label": "BLAST"}])
def test_bad_filter_shows_a_message_not_a_crash(alice_client, user, model_path, params):
    make_predictions(user, ["kept.jpeg"])
    response = alice_client.get(URL, params)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Some filters were not understood" in content
    assert "kept.jpeg" in content


def test_anonymous_user_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.fixture
def reviewer(django_user_model):
    return reviewer_make(django_user_model)


def column(content: str, name: str) -> list[str]:
    """The text of one column (``td.name``) in every row, tags stripped."""
    cells = re.findall(rf'<td class="{name}"[^>]*>(.*?)</td>', content, re.S)
    return [" ".join(re.sub(r"<[^>]+>", "", cell).split()) for cell in cells]


def test_a_reviewer_who_uploaded_nothing_finds_the_cells_they_reviewed(client, user, reviewer):
    lab = lab_make(user, reviewer)
    sample = sample_make(user, "S-LAB", lab=lab)
    corrected = prediction_make(sample, "EOSINOPHIL", filename="corrected.jpeg")
    excluded = prediction_make(sample, "LYMPHOCYTE", filename="excluded.jpeg")
    prediction_make(sample, "NEUTROPHIL", filename="untouched.jpeg")  # in her lab, but not her work
    prediction_review(prediction=corrected, reviewer=reviewer, label="NEUTROPHIL")
    prediction_exclude(prediction=excluded, reviewer=reviewer, reason="smudge cell")
    client.force_login(reviewer)
    response = client.get(URL)
    assert sorted(listed_names(response)) == ["corrected.jpeg", "excluded.jpeg"]
    content = response.content.decode()
    assert column(content, "sample") == ["S-LAB", "S-LAB"]
    assert f'href="{reverse("labs:sample_detail", args=[sample.pk])}"' in content
    assert sorted(column(content, "review")) == ["Corrected to Neutrophil by you", "Excluded: smudge cell by you"]
    assert client.get(reverse("classifier:detail", args=[corrected.pk])).status_code == 200  # its cell page opens
    lab.members.remove(reviewer)  # left the lab: its cells are no longer hers to see
    assert listed_names(client.get(URL)) == []


def test_whose_filter_splits_uploads_from_reviews(client, user, reviewer):
    sample = sample_make(user, "S-LAB", lab=lab_make(user, reviewer))
    reviewed = prediction_make(sample, filename="reviewed.jpeg")
    prediction_review(prediction=reviewed, reviewer=reviewer, label="NEUTROPHIL")
    prediction_make(None, owner=reviewer, filename="her-own.jpeg")
    client.force_login(reviewer)
    assert sorted(listed_names(client.get(URL))) == ["her-own.jpeg", "reviewed.jpeg"]
    assert listed_names(client.get(URL, {"whose": "uploaded"})) == ["her-own.jpeg"]
    assert listed_names(client.get(URL, {"whose": "reviewed"})) == ["reviewed.jpeg"]
    assert (
        '<option value="reviewed" selected>Reviewed by me</option>'
        in client.get(URL, {"whose": "reviewed"}).content.decode()
    )
    client.force_login(user)  # the owner sees who reviewed her cell, and the sample column
    content = client.get(URL).content.decode()
    assert column(content, "review") == ["Confirmed by rita"] and column(content, "sample") == ["S-LAB"]
    csv = client.get(reverse("classifier:history_csv"), {"whose": "reviewed"}).content.decode()
    assert "reviewed.jpeg" not in csv  # alice reviewed nothing: the CSV takes the same filters


def test_the_history_reads_in_a_fixed_number_of_queries(client, user, reviewer, django_assert_max_num_queries):
    sample = sample_make(user, "S-LAB", lab=lab_make(user, reviewer))

    def add(count: int) -> None:
        for _ in range(count):
            prediction_review(prediction=prediction_make(sample), reviewer=reviewer, label="MONOCYTE")

    client.force_login(reviewer)
    add(2)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    add(15)
    with django_assert_max_num_queries(len(few)):  # no query per row: sample, reviewer and model come joined
        client.get(URL)
