"""History: the user's own records only, newest first, paginated, filtered by class and date range."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from classifier.models import Prediction
from classifier.services.predictions import prediction_create_many
from tests.factories import upload_file

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
