"""The differential count of a sample: reviewer labels win, shares add up to 100, edges of intervals are inside."""

import pytest

from labs.differential import sample_count, sample_differential
from tests.factories import prediction_make, predictions_make, reviewer_make, sample_make

pytestmark = pytest.mark.django_db


def by_class(differential):
    return {row.class_name: row for row in differential}


def test_reviewed_label_wins_over_the_prediction(user):
    sample = sample_make(user)
    predictions_make(sample, {"NEUTROPHIL": 3})
    prediction_make(sample, "NEUTROPHIL", reviewed_label="MONOCYTE")
    rows = by_class(sample_differential(sample=sample))
    assert rows["NEUTROPHIL"].count == 3
    assert rows["MONOCYTE"].count == 1
    assert rows["MONOCYTE"].percent == pytest.approx(25.0)


def test_confirmed_prediction_counts_once(user):
    sample = sample_make(user)
    prediction_make(sample, "EOSINOPHIL", reviewed_label="EOSINOPHIL")
    rows = by_class(sample_differential(sample=sample))
    assert [row.count for row in rows.values()] == [1, 0, 0, 0]


@pytest.mark.parametrize(
    "counts",
    [
        {"NEUTROPHIL": 1, "LYMPHOCYTE": 1, "MONOCYTE": 1},
        {"NEUTROPHIL": 2, "LYMPHOCYTE": 1, "MONOCYTE": 1, "EOSINOPHIL": 3},
        {"NEUTROPHIL": 5, "LYMPHOCYTE": 1},
    ],
)
def test_percentages_add_up_to_100(user, counts):
    sample = sample_make(user)
    predictions_make(sample, counts)
    differential = sample_differential(sample=sample)
    assert sum(row.percent for row in differential) == pytest.approx(100.0)
    assert sum(row.count for row in differential) == sum(counts.values())
    for row in differential:
        exact = 100 * counts.get(row.class_name, 0) / sum(counts.values())
        assert row.percent == pytest.approx(exact, abs=0.1)


def test_empty_sample_has_zero_everywhere_and_no_error(user):
    differential = sample_differential(sample=sample_make(user))
    assert [(row.count, row.percent) for row in differential] == [(0, 0.0)] * 4


@pytest.fixture
def intervals(settings):
    settings.HEMATOVISION_REFERENCE_INTERVALS = {
        "NEUTROPHIL": [40, 70],
        "LYMPHOCYTE": [20, 40],
        "MONOCYTE": [0, 10],
        "EOSINOPHIL": [0, 10],
    }


@pytest.mark.parametrize("neutrophils, flag", [(3, "low"), (4, ""), (7, ""), (8, "high")])
def test_flags_outside_the_interval_and_edges_count_as_inside(user, intervals, neutrophils, flag):
    """10 cells: 4 neutrophils is exactly the low edge (40%), 7 exactly the high edge (70%)."""
    sample = sample_make(user)
    predictions_make(sample, {"NEUTROPHIL": neutrophils, "LYMPHOCYTE": 10 - neutrophils})
    rows = by_class(sample_differential(sample=sample))
    assert rows["NEUTROPHIL"].percent == pytest.approx(neutrophils * 10.0)
    assert rows["NEUTROPHIL"].flag == flag


def test_lymphocyte_edges_and_reference_values_come_from_settings(user, intervals):
    sample = sample_make(user)
    predictions_make(sample, {"NEUTROPHIL": 6, "LYMPHOCYTE": 4})
    rows = by_class(sample_differential(sample=sample))
    assert (rows["LYMPHOCYTE"].percent, rows["LYMPHOCYTE"].flag) == (pytest.approx(40.0), "")
    assert (rows["LYMPHOCYTE"].reference_low, rows["LYMPHOCYTE"].reference_high) == (20.0, 40.0)
    assert rows["MONOCYTE"].flag == "" and rows["MONOCYTE"].percent == 0.0


@pytest.mark.parametrize(
    "cell, counting",
    [
        ({"label": "NEUTROPHIL"}, "counted"),
        ({"label": "BASOPHIL", "review_reasons": ["other_kind"]}, "other"),
        ({"label": "NEUTROPHIL", "reviewed_label": "PLATELET"}, "other"),
        ({"label": "BASOPHIL", "reviewed_label": "MONOCYTE"}, "counted"),
        ({"label": "MONOCYTE", "review_reasons": ["blank"]}, "not_recognised"),
        ({"label": "BASOPHIL", "review_reasons": ["unlike_training_images", "other_kind"]}, "not_recognised"),
        ({"label": "MONOCYTE", "review_reasons": ["no_nucleus"], "reviewed_label": "MONOCYTE"}, "counted"),
        ({"label": "MONOCYTE", "review_reasons": ["low_confidence"]}, "counted"),
        ({"label": "NEUTROPHIL", "exclusion_reason": "Smudge cell"}, "excluded"),
    ],
)
def test_the_counting_rule(user, django_user_model, cell, counting):
    """Counted: not excluded, one of the four, and recognised or labelled by a reviewer."""
    reviewer = reviewer_make(django_user_model) if "reviewed_label" in cell or "exclusion_reason" in cell else None
    prediction = prediction_make(sample_make(user), **cell, reviewer=reviewer)
    assert prediction.counting == counting
    assert prediction.counted == (counting == "counted")


def test_other_kinds_and_unrecognised_images_are_counted_apart_and_the_shares_stay_over_the_four(user):
    sample = sample_make(user)
    predictions_make(sample, {"NEUTROPHIL": 3, "LYMPHOCYTE": 1, "IMMATURE_GRANULOCYTE": 2, "ERYTHROBLAST": 1})
    prediction_make(sample, "LYMPHOCYTE", review_reasons=["blank"])
    count = sample_count(sample=sample)
    assert count.counted == {"EOSINOPHIL": 0, "LYMPHOCYTE": 1, "MONOCYTE": 0, "NEUTROPHIL": 3}
    assert count.other == {"BASOPHIL": 0, "IMMATURE_GRANULOCYTE": 2, "ERYTHROBLAST": 1, "PLATELET": 0}
    assert count.not_recognised == 1
    assert by_class(sample_differential(sample=sample))["NEUTROPHIL"].percent == 75.0
