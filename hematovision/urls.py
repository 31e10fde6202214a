from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("favicon.ico", RedirectView.as_view(url=static("img/favicon.svg"), permanent=True)),  # asked for by browsers
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/", include("hematovision.api_urls")),
    path("", include("labs.urls")),
    path("", include("classifier.urls")),
]

handler400 = "hematovision.errors.bad_request"
handler403 = "hematovision.errors.permission_denied"
handler404 = "hematovision.errors.page_not_found"
handler500 = "hematovision.errors.server_error"
