from django.conf import settings


def hematovision(request):
    """Settings the navigation needs on every page."""
    return {
        "signup_enabled": settings.HEMATOVISION_ALLOW_SIGNUP,
        "password_reset_enabled": settings.HEMATOVISION_PASSWORD_RESET,
    }
