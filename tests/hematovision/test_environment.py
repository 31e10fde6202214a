"""Numbers read from the environment: a bad one is refused by name, with what it must be, and the default stands."""

import pytest

from hematovision.environment import Environment


def read(value: str, **bounds):
    environment = Environment({"SETTING": value})
    return environment.number("SETTING", 7, **bounds), environment.refused


@pytest.mark.parametrize(
    "value, bounds, expected",
    [("12", {}, 12), ("0", {}, 0), ("0.01", {"whole": False}, 0.01), ("1", {"whole": False, "high": 1}, 1.0)],
)
def test_a_number_in_range_is_read(value, bounds, expected):
    assert read(value, **bounds) == (expected, {})


def test_an_unset_or_empty_variable_gives_the_default():
    assert Environment({}).number("SETTING", 7) == 7
    assert read(" ") == (7, {})


@pytest.mark.parametrize(
    "value, bounds, message",
    [
        ("0.5", {}, "SETTING is '0.5'; it must be a whole number from 0."),
        ("-1", {"whole": False}, "SETTING is '-1'; it must be a number from 0."),
        ("ten", {"low": 1}, "SETTING is 'ten'; it must be a whole number from 1."),
        ("nan", {"whole": False}, "SETTING is 'nan'; it must be a number from 0."),
        ("1.5", {"whole": False, "high": 1}, "SETTING is '1.5'; it must be a number from 0 to 1."),
        ("70000", {"low": 1, "high": 65535}, "SETTING is '70000'; it must be a whole number from 1 to 65535."),
    ],
)
def test_a_bad_number_is_refused_with_what_it_must_be_and_the_default_stands(value, bounds, message):
    assert read(value, **bounds) == (7, {"SETTING": message})


def test_bad_json_is_refused_and_the_default_stands():
    environment = Environment({"INTERVALS": "{N: 40"})
    assert environment.json("INTERVALS", '{"N": [40, 70]}') == {"N": [40, 70]}
    assert environment.refused["INTERVALS"].startswith("INTERVALS is not JSON (")
