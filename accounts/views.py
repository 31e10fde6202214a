"""Self-service sign-up, password reset only where e-mail is set up, and django-axes' lock-out answer; log-in,
log-out and password change are Django's own views."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.forms import SignupForm


@require_http_methods(["GET", "POST"])
def signup(request):
    if not settings.HEMATOVISION_ALLOW_SIGNUP:
        raise Http404("Sign-up is switched off; ask an administrator for an account.")
    form = SignupForm(request.POST) if request.method == "POST" else SignupForm()
    if form.is_bound and form.is_valid():
        login(request, form.save(), backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome to HematoVision.")
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "registration/signup.html", {"form": form})


def _with_email(view):
    """Django's password-reset view, or 404 where no mail server is configured (it would claim to have sent)."""

    def gated(request, *args, **kwargs):
        if not settings.HEMATOVISION_PASSWORD_RESET:
            raise Http404("Password reset by e-mail is not set up here; ask an administrator for a new password.")
        return view(request, *args, **kwargs)

    return gated


password_reset = _with_email(auth_views.PasswordResetView.as_view())
password_reset_done = _with_email(auth_views.PasswordResetDoneView.as_view())


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer once a username is locked out (``AXES_LOCKOUT_CALLABLE``): JSON for the API, the
    styled page for the web log-in and the admin."""
    minutes = round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    message = (
        f"Too many failed log-ins for this account: try again in {minutes} minutes, or ask an "
        "administrator to lift the lock-out."
    )
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    return render(request, "registration/locked_out.html", {"message": message}, status=429)
