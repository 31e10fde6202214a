from django.urls import path

from labs.views import exports, lab_models, review, samples

app_name = "labs"

urlpatterns = [
    path("labs/<slug:slug>/model/", lab_models.lab_model, name="lab_model"),
    path("labs/<slug:slug>/model/build/", lab_models.lab_model_build, name="lab_model_build"),
    path("labs/<slug:slug>/model/revert/", lab_models.lab_model_revert, name="lab_model_revert"),
    path("samples/", samples.sample_list, name="samples"),
    path("samples/<int:pk>/", samples.sample_detail, name="sample_detail"),
    path("samples/<int:pk>/upload/", samples.sample_upload, name="sample_upload"),
    path("samples/<int:pk>/cells/", review.sample_review_grid, name="sample_review"),
    path("samples/<int:pk>/cells/<int:prediction_pk>/review/", review.prediction_review, name="prediction_review"),
    path("samples/<int:pk>/verify/", review.sample_verify, name="sample_verify"),
    path("samples/<int:pk>/unverify/", review.sample_unverify, name="sample_unverify"),
    path("samples/<int:pk>/sample.csv", exports.sample_csv, name="sample_csv"),
    path("samples/<int:pk>/report.pdf", exports.sample_pdf, name="sample_pdf"),
    path("samples/<int:pk>/reports/<int:number>.pdf", exports.sample_revision_pdf, name="sample_revision_pdf"),
    path("samples/<int:pk>/reviewed-dataset.zip", exports.sample_dataset, name="sample_dataset"),
]
