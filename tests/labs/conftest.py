import pytest

from tests.factories import coloured_cells_folder, reviewer_make


@pytest.fixture
def lab_model_settings(settings, tmp_path, adaptable_model_path):
    """The tiny ImageNet-weighted model is the shared one; a small generated source is what lab builds replay and
    are evaluated on; lab models are written under the test's folder."""
    settings.HEMATOVISION_MODEL_PATH = adaptable_model_path
    settings.HEMATOVISION_LAB_MODELS_DIR = tmp_path / "lab-models"
    settings.HEMATOVISION_TRAINING_SOURCES = f"shared={coloured_cells_folder(tmp_path / 'shared-cells', 10)}"
    return settings


@pytest.fixture
def reviewer(django_user_model):
    """Rita, in the Reviewers group."""
    return reviewer_make(django_user_model)
