from django.urls import path

from classifier import views

app_name = "classifier"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("results/", views.results, name="results"),
    path("history/", views.history, name="history"),
    path("predictions/<int:pk>/", views.detail, name="detail"),
    path("predictions/<int:pk>/delete/", views.delete, name="delete"),
    path("predictions/<int:pk>/preview/", views.image_file, {"variant": "preview"}, name="preview"),
    path("predictions/<int:pk>/original/", views.image_file, {"variant": "original"}, name="original"),
    path("model/", views.model_info, name="model"),
    path("model/confusion.png", views.model_confusion_png, name="confusion"),
]
