"""``manage.py check`` refuses bad HematoVision settings with a message naming the setting."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

GOOD_INTERVALS = {"NEUTROPHIL": [40, 70], "LYMPHOCYTE": [20, 40], "MONOCYTE": [2, 8], "EOSINOPHIL": [1, 6]}


def check_output() -> str:
    """What ``manage.py check`` says; empty when it passes."""
    try:
        call_command("check")
    except SystemCheckError as error:
        return str(error)
    return ""


def test_the_defaults_pass():
    assert check_output() == ""


@pytest.mark.parametrize(
    "intervals, message",
    [
        ({**GOOD_INTERVALS, "EOSINOPHIL": None}, "must be a pair of numbers"),
        ({key: value for key, value in GOOD_INTERVALS.items() if key != "MONOCYTE"}, "no interval for MONOCYTE"),
        ({**GOOD_INTERVALS, "BASOPHIL": [0, 1]}, "'BASOPHIL', which is not a class"),
        ({**GOOD_INTERVALS, "NEUTROPHIL": [70, 40]}, "[70, 40]; it must satisfy 0 <= low <= high <= 100"),
        ({**GOOD_INTERVALS, "LYMPHOCYTE": [20, 140]}, "[20, 140]; it must satisfy"),
        ({**GOOD_INTERVALS, "MONOCYTE": [-1, 8]}, "[-1, 8]; it must satisfy"),
        ({**GOOD_INTERVALS, "MONOCYTE": ["2", "8"]}, "must be a pair of numbers"),
        ([40, 70], "must be an object by class"),
    ],
)
def test_bad_reference_intervals_fail_with_a_message(settings, intervals, message):
    settings.HEMATOVISION_REFERENCE_INTERVALS = intervals
    output = check_output()
    assert "hematovision.E001" in output and message in output


def test_a_refused_environment_variable_fails_by_name(settings):
    settings.HEMATOVISION_REFUSED_SETTINGS = {"HEMATOVISION_MAX_UPLOAD_MB": "HEMATOVISION_MAX_UPLOAD_MB is 'ten'; ..."}
    output = check_output()
    assert "hematovision.E003" in output and "HEMATOVISION_MAX_UPLOAD_MB is 'ten'" in output


def test_an_unknown_runtime_fails(settings):
    settings.HEMATOVISION_RUNTIME = "tflite"
    output = check_output()
    assert "hematovision.E004" in output and "'tflite'; it must be one of auto, openvino, keras" in output


def test_an_unknown_precision_fails(settings):
    settings.HEMATOVISION_RUNTIME_PRECISION = "int4"
    output = check_output()
    assert "hematovision.E004" in output and "'int4'; it must be one of fp32, int8, auto" in output


def test_int8_on_the_keras_runtime_fails(settings):
    settings.HEMATOVISION_RUNTIME, settings.HEMATOVISION_RUNTIME_PRECISION = "keras", "int8"
    output = check_output()
    assert "hematovision.E004" in output and "int8, which runs on OpenVINO, but HEMATOVISION_RUNTIME is keras" in output
