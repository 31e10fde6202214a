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


@pytest.mark.parametrize("threshold", [-0.1, 1.01, "0.7"])
def test_review_threshold_outside_zero_to_one_fails(settings, threshold):
    settings.HEMATOVISION_CONFIDENCE_THRESHOLD = threshold
    output = check_output()
    assert "hematovision.E002" in output and "HEMATOVISION_CONFIDENCE_THRESHOLD" in output


@pytest.mark.parametrize(
    "name",
    [
        "HEMATOVISION_MAX_UPLOAD_BYTES",
        "HEMATOVISION_MAX_IMAGE_PIXELS",
        "HEMATOVISION_MAX_FILES_PER_UPLOAD",
        "HEMATOVISION_MAX_REQUEST_PIXELS",
        "PAGINATE_BY",
        "HEMATOVISION_REPORT_MIN_CELLS",
    ],
)
def test_limits_that_are_not_positive_fail(settings, name):
    setattr(settings, name, 0)
    output = check_output()
    assert "hematovision.E003" in output and f"{name} is 0" in output


def test_an_unknown_runtime_fails(settings):
    settings.HEMATOVISION_RUNTIME = "tflite"
    output = check_output()
    assert "hematovision.E004" in output and "'tflite'; it must be one of auto, openvino, keras" in output
