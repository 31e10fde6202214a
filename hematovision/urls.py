from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from classifier.views import accounts

urlpatterns = [
    path("favicon.ico", RedirectView.as_view(url=static("img/favicon.svg"), permanent=True)),  # asked for by browsers
    path("admin/", admin.site.urls),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/password_reset/", accounts.password_reset, name="password_reset"),
    path("accounts/password_reset/done/", accounts.password_reset_done, name="password_reset_done"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("classifier.api.urls")),
    path("", include("classifier.urls")),
]

handler400 = "classifier.api.exceptions.bad_request"
handler403 = "classifier.api.exceptions.permission_denied"
handler404 = "classifier.api.exceptions.page_not_found"
handler500 = "classifier.api.exceptions.server_error"
