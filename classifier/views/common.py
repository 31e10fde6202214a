"""What several view modules share: how a request asks for JSON and how errors become one message."""

from django.core.exceptions import ValidationError


def wants_json(request) -> bool:
    """The JS uploader and review grid ask for JSON; plain form posts (no JS) get pages."""
    return request.headers.get("Accept", "").startswith("application/json")


def error_text(error: ValidationError) -> str:
    return " ".join(error.messages)
