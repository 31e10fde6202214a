"""``manage.py adapt_model``: a lab's own model built from its verified cells, activated for that lab only when it
is better on the lab's held-out cells, kept out when not, and reverted; too few cells change nothing."""

import pytest
from django.core.management import CommandError, call_command

from classifier.services.predictions import prediction_create_many
from classifier.services.waiting import sample_images_add
from labs.models import LabModelChange
from registry.models import ModelVersion
from tests.factories import (
    FAST_LAB_MODEL_BUILD,
    coloured_cell_bytes,
    lab_cells_make,
    lab_make,
    sample_make,
    upload_file,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def north(user, reviewer):
    lab = lab_make(user, reviewer)
    lab_cells_make(lab, user, reviewer, per_class=12)
    return lab


def _classify_one(user, sample, name: str = "new.jpeg"):
    """A cell classified into ``sample`` (or the user's own, without one)."""
    uploads = [upload_file(name, coloured_cell_bytes("MONOCYTE", seed=7))]
    if sample is None:
        predictions, failures = prediction_create_many(owner=user, uploads=uploads)
    else:
        added = sample_images_add(owner=user, sample=sample, uploads=uploads)
        predictions, failures = added.predictions, added.failures
    assert failures == []
    return predictions[0]


def test_a_better_lab_model_serves_that_lab_only_until_it_is_reverted(lab_model_settings, user, north, capsys):
    """The generated cells' class is their nucleus colour, which the untrained shared model does not read."""
    south = lab_make(user, name="Haematology South", slug="haematology-south")

    call_command("adapt_model", "--lab", north.slug, *FAST_LAB_MODEL_BUILD)

    output = capsys.readouterr().out
    north.refresh_from_db()
    change = LabModelChange.objects.get(lab=north, kind=LabModelChange.Kind.BUILD)
    assert change.status == LabModelChange.Status.ACTIVATED, change.message
    assert north.active_model == change.candidate and "Activated for the lab in" in output
    assert f"{north.slug} held-out (" in change.message and "(better)" in change.message
    trained, held_out = change.training_cells["trained"], change.training_cells["held_out"]
    assert sum(trained.values()) + sum(held_out.values()) == 48 and set(trained) == {
        "EOSINOPHIL",
        "LYMPHOCYTE",
        "MONOCYTE",
        "NEUTROPHIL",
    }
    assert change.training_cells["samples"] == list(north.samples.values_list("pk", flat=True))
    candidate = change.evaluations["candidate"]["sets"]
    current = change.evaluations["current"]["sets"]
    lab_set = change.evaluations["lab_set"]
    assert candidate[lab_set]["accuracy"] > current[lab_set]["accuracy"]
    assert candidate[lab_set]["n_images"] == sum(held_out.values())
    version = ModelVersion.objects.get(pk=north.active_model_id)
    assert version.metrics["adaptation"]["lab"] == north.slug and "shared held-out" in version.metrics["evaluation"]

    in_north = _classify_one(user, sample_make(user, "S-NORTH", lab=north))
    in_south = _classify_one(user, sample_make(user, "S-SOUTH", lab=south))
    without_lab = _classify_one(user, None)
    assert in_north.model_version == version
    assert in_south.model_version.name == "tiny-shared-model" == without_lab.model_version.name

    call_command("adapt_model", "--lab", north.slug, "--revert")

    north.refresh_from_db()
    revert = LabModelChange.objects.get(lab=north, kind=LabModelChange.Kind.REVERT)
    assert north.active_model is None and revert.previous_model == version
    assert _classify_one(user, sample_make(user, "S-AFTER", lab=north)).model_version.name == "tiny-shared-model"
    with pytest.raises(CommandError, match="already uses the shared model"):
        call_command("adapt_model", "--lab", north.slug, "--revert")


def test_a_candidate_that_is_not_better_is_kept_out(lab_model_settings, user, north, capsys):
    call_command("adapt_model", "--lab", north.slug, "--epochs", "0", "--replay-per-class", "10")  # = the shared model

    north.refresh_from_db()
    change = LabModelChange.objects.get(lab=north)
    assert change.status == LabModelChange.Status.KEPT
    assert north.active_model is None and change.candidate is not None
    assert "not better" in change.message and "Not activated" in capsys.readouterr().out


def test_too_few_verified_cells_is_refused_and_changes_nothing(lab_model_settings, user, reviewer):
    lab = lab_make(user, reviewer)
    lab_cells_make(lab, user, reviewer, per_class=4)

    with pytest.raises(CommandError, match="Refused"):
        call_command("adapt_model", "--lab", lab.slug, *FAST_LAB_MODEL_BUILD)

    change = LabModelChange.objects.get(lab=lab)
    assert change.status == LabModelChange.Status.REFUSED
    assert "at least 5 verified cells of each of the four classes" in change.message
    assert "eosinophil 4" in change.message
    lab.refresh_from_db()
    assert lab.active_model is None and not ModelVersion.objects.filter(name__startswith=lab.slug).exists()
    assert not (lab_model_settings.HEMATOVISION_LAB_MODELS_DIR).exists()


def test_an_unknown_lab_is_a_clear_error(lab_model_settings):
    with pytest.raises(CommandError, match="No lab with the slug 'nowhere'"):
        call_command("adapt_model", "--lab", "nowhere")
