from django.urls import path

from classifier import sample_views, views

app_name = "classifier"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("results/", views.results, name="results"),
    path("history/", views.history, name="history"),
    path("history.csv", sample_views.history_csv, name="history_csv"),
    path("samples/", sample_views.sample_list, name="samples"),
    path("samples/<int:pk>/", sample_views.sample_detail, name="sample_detail"),
    path("samples/<int:pk>/upload/", sample_views.sample_upload, name="sample_upload"),
    path("samples/<int:pk>/cells/", sample_views.sample_review_grid, name="sample_review"),
    path("samples/<int:pk>/cells/<int:prediction_pk>/review/", sample_views.prediction_review,
         name="prediction_review"),
    path("samples/<int:pk>/verify/", sample_views.sample_verify, name="sample_verify"),
    path("samples/<int:pk>/sample.csv", sample_views.sample_csv, name="sample_csv"),
    path("samples/<int:pk>/report.pdf", sample_views.sample_pdf, name="sample_pdf"),
    path("samples/<int:pk>/reviewed-dataset.zip", sample_views.sample_dataset, name="sample_dataset"),
    path("predictions/<int:pk>/", views.detail, name="detail"),
    path("predictions/<int:pk>/delete/", views.delete, name="delete"),
    path("predictions/<int:pk>/preview/", views.image_file, {"variant": "preview"}, name="preview"),
    path("predictions/<int:pk>/original/", views.image_file, {"variant": "original"}, name="original"),
    path("predictions/<int:pk>/gradcam/", views.gradcam, name="gradcam"),
    path("model/", views.model_info, name="model"),
    path("model/confusion.png", views.model_confusion_png, name="confusion"),
]
