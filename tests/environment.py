"""What the tests need of the machine: where the project is, and how a test whose tool or data is missing ends."""

import os
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent


def skip_or_fail(reason: str):
    """Skip the test, except in CI (``CI=true``), where everything it needs must be there: fail it."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"In CI, {reason}")
    pytest.skip(reason)
