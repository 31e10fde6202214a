"""``manage.py benchmark_adaptation``: a stand-in lab made through the app (uploaded, reviewed, verified), then its
own model built by ``adapt_model``; refused on a database that has the lab already."""

import io

import pytest
from django.core.management import CommandError, call_command

from labs.models import Lab, LabModelChange
from tests.factories import FAST_LAB_MODEL_BUILD, coloured_cells_folder

pytestmark = pytest.mark.django_db


def test_a_stand_in_lab_is_made_through_the_app_and_gets_its_model(lab_model_settings, tmp_path):
    source = coloured_cells_folder(tmp_path / "standin", 10, first_seed=70_000)
    output = io.StringIO()
    arguments = ["benchmark_adaptation", "--lab-source", f"standin={source}", "--cells-per-class", "6"]

    call_command(*arguments, "--", *FAST_LAB_MODEL_BUILD, stdout=output)

    lab = Lab.objects.get(slug="standin-6-per-class")
    sample = lab.samples.get()
    assert sample.is_verified and sample.predictions.count() == 24
    assert sorted(set(sample.predictions.values_list("reviewed_label", flat=True))) == [
        "EOSINOPHIL",
        "LYMPHOCYTE",
        "MONOCYTE",
        "NEUTROPHIL",
    ]
    change = LabModelChange.objects.get(lab=lab)
    assert change.status in {LabModelChange.Status.ACTIVATED, LabModelChange.Status.KEPT}, change.message
    assert "Stand-in lab standin-6-per-class: cells uploaded, reviewed and verified" in output.getvalue()
    with pytest.raises(CommandError, match="exists already"):
        call_command(*arguments)
