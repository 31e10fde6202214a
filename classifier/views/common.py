"""What several view modules share: how errors become one message."""

from django.core.exceptions import ValidationError


def error_text(error: ValidationError) -> str:
    return " ".join(error.messages)
