from django.urls import path

from classifier.views import exports, history, model, predictions, review, samples

app_name = "classifier"

urlpatterns = [
    path("", predictions.upload, name="upload"),
    path("results/", predictions.results, name="results"),
    path("history/", history.history, name="history"),
    path("history.csv", exports.history_csv, name="history_csv"),
    path("samples/", samples.sample_list, name="samples"),
    path("samples/<int:pk>/", samples.sample_detail, name="sample_detail"),
    path("samples/<int:pk>/upload/", samples.sample_upload, name="sample_upload"),
    path("samples/<int:pk>/cells/", review.sample_review_grid, name="sample_review"),
    path("samples/<int:pk>/cells/<int:prediction_pk>/review/", review.prediction_review, name="prediction_review"),
    path("samples/<int:pk>/verify/", review.sample_verify, name="sample_verify"),
    path("samples/<int:pk>/unverify/", review.sample_unverify, name="sample_unverify"),
    path("samples/<int:pk>/sample.csv", exports.sample_csv, name="sample_csv"),
    path("samples/<int:pk>/report.pdf", exports.sample_pdf, name="sample_pdf"),
    path("samples/<int:pk>/reviewed-dataset.zip", exports.sample_dataset, name="sample_dataset"),
    path("predictions/<int:pk>/", predictions.detail, name="detail"),
    path("predictions/<int:pk>/delete/", predictions.delete, name="delete"),
    path("predictions/<int:pk>/preview/", predictions.image_file, {"variant": "preview"}, name="preview"),
    path("predictions/<int:pk>/original/", predictions.image_file, {"variant": "original"}, name="original"),
    path("predictions/<int:pk>/cell.jpg", predictions.cell_crop, name="cell_crop"),
    path("predictions/<int:pk>/gradcam/", predictions.gradcam, name="gradcam"),
    path("model/", model.model_info, name="model"),
    path("model/confusion.png", model.model_confusion_png, name="confusion"),
]
