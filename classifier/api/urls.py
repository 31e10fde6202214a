from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from classifier.api import views

app_name = "api"

urlpatterns = [
    path("auth/token/", views.TokenApi.as_view(), name="token"),
    path("predictions/", views.PredictionListApi.as_view(), name="predictions"),
    path("predictions/<int:pk>/", views.PredictionDetailApi.as_view(), name="prediction"),
    path("predictions/<int:pk>/image/", views.PredictionFileApi.as_view(variant="original"), name="prediction-image"),
    path("predictions/<int:pk>/preview/", views.PredictionFileApi.as_view(variant="preview"),
         name="prediction-preview"),
    path("predictions/<int:pk>/review/", views.PredictionReviewApi.as_view(), name="prediction-review"),
    path("predictions/<int:pk>/exclude/", views.PredictionExcludeApi.as_view(), name="prediction-exclude"),
    path("samples/", views.SampleListApi.as_view(), name="samples"),
    path("samples/<int:pk>/", views.SampleDetailApi.as_view(), name="sample"),
    path("samples/<int:pk>/images/", views.SampleImagesApi.as_view(), name="sample-images"),
    path("samples/<int:pk>/differential/", views.SampleDifferentialApi.as_view(), name="sample-differential"),
    path("samples/<int:pk>/verify/", views.SampleVerifyApi.as_view(), name="sample-verify"),
    path("samples/<int:pk>/unverify/", views.SampleUnverifyApi.as_view(), name="sample-unverify"),
    path("samples/<int:pk>/events/", views.SampleEventsApi.as_view(), name="sample-events"),
    path("model/", views.ModelVersionApi.as_view(), name="model"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the Content-Security-Policy allows no inline one.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
