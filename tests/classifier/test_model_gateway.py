"""The gateway's choice of precision: the shared model in HEMATOVISION_RUNTIME_PRECISION, a lab's own in fp32."""

import pytest

from classifier import model_gateway
from tests.factories import artifact_copy


@pytest.fixture(autouse=True)
def fresh_cache(fresh_model_cache):
    return fresh_model_cache


def test_the_shared_model_serves_its_int8_export_when_asked(settings, int8_model_path):
    settings.HEMATOVISION_MODEL_PATH, settings.HEMATOVISION_RUNTIME_PRECISION = int8_model_path, "int8"
    assert "(int8, CPU)" in model_gateway.runtime_name()


def test_the_shared_model_serves_fp32_by_default(settings, int8_model_path):
    settings.HEMATOVISION_MODEL_PATH = int8_model_path
    assert "(f32, CPU)" in model_gateway.runtime_name()


def test_int8_asked_of_a_shared_model_without_it_makes_the_model_unavailable_and_says_why(
    settings, exported_model_path
):
    settings.HEMATOVISION_MODEL_PATH, settings.HEMATOVISION_RUNTIME_PRECISION = exported_model_path, "int8"
    with pytest.raises(model_gateway.ModelUnavailable) as unavailable:
        model_gateway.get_classifier()
    assert "no int8 export that passed its agreement check" in unavailable.value.detail


def test_a_labs_own_model_serves_in_fp32_whatever_the_shared_models_precision(settings, int8_model_path, tmp_path):
    settings.HEMATOVISION_MODEL_PATH, settings.HEMATOVISION_RUNTIME_PRECISION = int8_model_path, "int8"
    lab_model = artifact_copy(int8_model_path, tmp_path / "labs", name="lab.keras")
    assert "(f32, CPU)" in model_gateway.get_classifier(lab_model).runtime
