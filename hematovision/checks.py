"""System checks of HematoVision's own settings: a bad value fails ``manage.py check`` (and start-up) with a
message, instead of a traceback, a ``KeyError`` or a nonsense flag on some later request. Numbers are checked as
they are read (hematovision/environment.py); this reports what was refused."""

from __future__ import annotations

from numbers import Real

from django.conf import settings
from django.core.checks import Error, register

from classifier.model_gateway import RUNTIME_PRECISIONS, RUNTIMES
from classifier.models import CLASS_NAMES


def _is_number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _interval_errors(name: str, interval) -> list[str]:
    if not isinstance(interval, (list, tuple)) or len(interval) != 2 or not all(map(_is_number, interval)):
        return [f"{name} must be a pair of numbers [low, high], not {interval!r}."]
    low, high = interval
    if not 0 <= low <= high <= 100:
        return [f"{name} is [{low}, {high}]; it must satisfy 0 <= low <= high <= 100 (percent)."]
    return []


@register()
def reference_intervals_check(app_configs, **kwargs) -> list[Error]:
    intervals = settings.HEMATOVISION_REFERENCE_INTERVALS
    hint = (
        'Set HEMATOVISION_REFERENCE_INTERVALS to JSON such as {"NEUTROPHIL": [40, 70], "LYMPHOCYTE": [20, 40], '
        '"MONOCYTE": [2, 8], "EOSINOPHIL": [1, 6]}.'
    )
    if not isinstance(intervals, dict):
        return [
            Error(
                f"HEMATOVISION_REFERENCE_INTERVALS must be an object by class, not {intervals!r}.",
                hint=hint,
                id="hematovision.E001",
            )
        ]
    messages = [
        f"HEMATOVISION_REFERENCE_INTERVALS has no interval for {name}." for name in CLASS_NAMES if name not in intervals
    ]
    messages += [
        f"HEMATOVISION_REFERENCE_INTERVALS names {name!r}, which is not a class ({', '.join(CLASS_NAMES)})."
        for name in intervals
        if name not in CLASS_NAMES
    ]
    for name in CLASS_NAMES:
        if name in intervals:
            messages += _interval_errors(f"HEMATOVISION_REFERENCE_INTERVALS[{name!r}]", intervals[name])
    return [Error(message, hint=hint, id="hematovision.E001") for message in messages]


@register()
def environment_check(app_configs, **kwargs) -> list[Error]:
    """Every variable the settings refused (hematovision/environment.py), by name: its default stands meanwhile."""
    return [Error(message, id="hematovision.E003") for message in settings.HEMATOVISION_REFUSED_SETTINGS.values()]


@register()
def runtime_check(app_configs, **kwargs) -> list[Error]:
    runtime, precision = settings.HEMATOVISION_RUNTIME, settings.HEMATOVISION_RUNTIME_PRECISION
    errors = []
    if runtime not in RUNTIMES:
        errors.append(f"HEMATOVISION_RUNTIME is {runtime!r}; it must be one of {', '.join(RUNTIMES)}.")
    if precision not in RUNTIME_PRECISIONS:
        errors.append(
            f"HEMATOVISION_RUNTIME_PRECISION is {precision!r}; it must be one of {', '.join(RUNTIME_PRECISIONS)}."
        )
    if runtime == "keras" and precision == "int8":
        errors.append(
            "HEMATOVISION_RUNTIME_PRECISION is int8, which runs on OpenVINO, but HEMATOVISION_RUNTIME is keras."
        )
    return [Error(message, id="hematovision.E004") for message in errors]
