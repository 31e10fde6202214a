from django.urls import path

from classifier.views import exports, history, model, predictions

app_name = "classifier"

urlpatterns = [
    path("", predictions.upload, name="upload"),
    path("results/", predictions.results, name="results"),
    path("history/", history.history, name="history"),
    path("history.csv", exports.history_csv, name="history_csv"),
    path("predictions/<int:pk>/", predictions.detail, name="detail"),
    path("predictions/<int:pk>/delete/", predictions.delete, name="delete"),
    path("predictions/<int:pk>/preview/", predictions.image_file, {"variant": "preview"}, name="preview"),
    path("predictions/<int:pk>/original/", predictions.image_file, {"variant": "original"}, name="original"),
    path("predictions/<int:pk>/cell.jpg", predictions.cell_crop, name="cell_crop"),
    path("predictions/<int:pk>/gradcam/", predictions.gradcam, name="gradcam"),
    path("model/", model.model_info, name="model"),
    path("model/confusion.png", model.model_confusion_png, name="confusion"),
]
