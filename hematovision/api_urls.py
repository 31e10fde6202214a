"""The REST API, one namespace (``api``) over every app's API views."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.api import views as accounts
from classifier.api import views as classifier
from labs.api import views as labs

app_name = "api"

urlpatterns = [
    path("auth/token/", accounts.TokenApi.as_view(), name="token"),
    path("predictions/", classifier.PredictionListApi.as_view(), name="predictions"),
    path("predictions/<int:pk>/", classifier.PredictionDetailApi.as_view(), name="prediction"),
    path(
        "predictions/<int:pk>/image/", classifier.PredictionFileApi.as_view(variant="original"), name="prediction-image"
    ),
    path(
        "predictions/<int:pk>/preview/",
        classifier.PredictionFileApi.as_view(variant="preview"),
        name="prediction-preview",
    ),
    path("predictions/<int:pk>/review/", labs.PredictionReviewApi.as_view(), name="prediction-review"),
    path("predictions/<int:pk>/exclude/", labs.PredictionExcludeApi.as_view(), name="prediction-exclude"),
    path("samples/", labs.SampleListApi.as_view(), name="samples"),
    path("samples/<int:pk>/", labs.SampleDetailApi.as_view(), name="sample"),
    path("samples/<int:pk>/images/", labs.SampleImagesApi.as_view(), name="sample-images"),
    path("samples/<int:pk>/differential/", labs.SampleDifferentialApi.as_view(), name="sample-differential"),
    path("samples/<int:pk>/verify/", labs.SampleVerifyApi.as_view(), name="sample-verify"),
    path("samples/<int:pk>/unverify/", labs.SampleUnverifyApi.as_view(), name="sample-unverify"),
    path("samples/<int:pk>/events/", labs.SampleEventsApi.as_view(), name="sample-events"),
    path("model/", classifier.ModelVersionApi.as_view(), name="model"),
    path("labs/<slug:slug>/model/", labs.LabModelApi.as_view(), name="lab-model"),
    path("labs/<slug:slug>/model/build/", labs.LabModelBuildApi.as_view(), name="lab-model-build"),
    path("labs/<slug:slug>/model/revert/", labs.LabModelRevertApi.as_view(), name="lab-model-revert"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the Content-Security-Policy allows no inline one.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
