"""Settings read from the environment without ever failing the import: a value that is not what its setting needs
is noted in ``refused`` (hematovision/checks.py reports each by the variable's name) and the default is used, so
a typo is a message from ``manage.py check``, not a traceback."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping


class Environment:
    def __init__(self, environ: Mapping[str, str] = os.environ):
        self.environ = environ
        self.refused: dict[str, str] = {}  # variable -> why

    def flag(self, name: str, default: bool) -> bool:
        return self.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}

    def items(self, name: str, default: str) -> list[str]:
        """A comma-separated list."""
        return [item.strip() for item in self.environ.get(name, default).split(",") if item.strip()]

    def number(self, name: str, default: float, *, whole: bool = True, low: float = 0, high: float = math.inf):
        """A whole number (or, with ``whole=False``, any finite number such as 0.01) from ``low`` to ``high``."""
        text = self.environ.get(name, "").strip()
        if not text:
            return default
        try:
            value = int(text) if whole else float(text)
        except ValueError:
            value = math.nan
        if not low <= value <= high:  # false for nan, as for anything out of range
            kind = "a whole number" if whole else "a number"
            bounds = f"from {low:g}" + ("" if high == math.inf else f" to {high:g}")
            self.refused[name] = f"{name} is {text!r}; it must be {kind} {bounds}."
            return default
        return value

    def json(self, name: str, default: str):
        try:
            return json.loads(self.environ.get(name, default))
        except ValueError as error:
            self.refused[name] = f"{name} is not JSON ({error})."
            return json.loads(default)
