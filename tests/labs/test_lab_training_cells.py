"""Which cells are a lab's training data: the reviewed, not excluded cells of its verified samples, nothing else."""

import pytest

from labs.selectors import lab_training_cells
from tests.factories import lab_cells_make, lab_make, prediction_make, reviewer_make, sample_make

pytestmark = pytest.mark.django_db


def test_only_reviewed_kept_cells_of_the_labs_verified_samples_count(django_user_model, user):
    reviewer = reviewer_make(django_user_model)
    lab, other_lab = lab_make(user, reviewer), lab_make(user, name="Other", slug="other")
    verified = lab_cells_make(lab, user, reviewer, per_class=1)
    open_sample = sample_make(user, "S-OPEN", lab=lab)
    prediction_make(open_sample, "MONOCYTE", reviewed_label="MONOCYTE", reviewer=reviewer, filename="open.jpeg")
    lab_cells_make(other_lab, user, reviewer, per_class=1, identifier="S-OTHER")
    excluded = prediction_make(
        sample_make(user, "S-EXCLUDED", lab=lab), "LYMPHOCYTE", exclusion_reason="smudge", reviewer=reviewer
    )
    excluded.sample.verified_at, excluded.sample.verified_by = verified.verified_at, reviewer
    excluded.sample.save()

    cells = list(lab_training_cells(lab=lab))

    assert sorted(cell.reviewed_label for cell in cells) == ["EOSINOPHIL", "LYMPHOCYTE", "MONOCYTE", "NEUTROPHIL"]
    assert {cell.sample_id for cell in cells} == {verified.pk}
