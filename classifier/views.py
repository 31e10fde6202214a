"""Thin views: parse the request, call a service or selector, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from classifier import model_service, selectors, services
from classifier.forms import SignupForm, UploadForm


@login_required
@require_http_methods(["GET", "POST"])
def upload(request):
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    if form.is_bound and form.is_valid():
        try:
            predictions, failures = services.prediction_create_many(owner=request.user,
                                                                    uploads=form.cleaned_data["images"])
        except model_service.ModelUnavailable as error:
            messages.error(request, f"The classifier is not available: {error}")
            return render(request, "classifier/upload.html", {"form": form}, status=503)
        for failure in failures:
            messages.error(request, f"Not classified: {failure.reason}")
        if predictions:
            ids = ",".join(str(prediction.pk) for prediction in predictions)
            return redirect(f"{reverse('classifier:results')}?ids={ids}")
        return render(request, "classifier/upload.html", {"form": UploadForm()}, status=400)
    status = 400 if request.method == "POST" else 200
    return render(request, "classifier/upload.html", {"form": form}, status=status)


@login_required
def results(request):
    """The predictions of one upload, in the order the files were sent."""
    try:
        ids = [int(value) for value in request.GET.get("ids", "").split(",") if value]
    except ValueError:
        raise Http404("Malformed result list.") from None
    by_id = selectors.prediction_list(user=request.user).in_bulk(ids)
    predictions = [by_id[pk] for pk in ids if pk in by_id]
    return render(request, "classifier/results.html", {"predictions": predictions})


@login_required
def history(request):
    prediction_filter = selectors.prediction_filter(user=request.user, params=request.GET)
    page = Paginator(prediction_filter.qs, settings.PAGINATE_BY).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "classifier/history.html",
                  {"filter": prediction_filter, "page": page, "query": query.urlencode()})


@login_required
def detail(request, pk: int):
    return render(request, "classifier/detail.html",
                  {"prediction": selectors.prediction_get(user=request.user, pk=pk)})


@login_required
@require_POST
def delete(request, pk: int):
    prediction = selectors.prediction_get(user=request.user, pk=pk)
    name = prediction.original_filename
    services.prediction_delete(prediction=prediction)
    messages.success(request, f"Deleted the prediction for {name}.")
    return redirect("classifier:history")


@login_required
def image_file(request, pk: int, variant: str):
    return prediction_file_response(selectors.prediction_get_for_file(user=request.user, pk=pk), variant)


def prediction_file_response(prediction, variant: str) -> FileResponse:
    """Uploaded images are private: served only to their owner (and staff), never from a public URL."""
    field = prediction.preview if variant == "preview" else prediction.image
    response = FileResponse(field.open("rb"), as_attachment=variant == "original",
                            filename=prediction.original_filename if variant == "original" else None)
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def gradcam(request, pk: int):
    """POST computes the heatmap (once) and returns to the prediction; GET serves it, privately."""
    prediction = selectors.prediction_get(user=request.user, pk=pk)
    if request.method == "POST":
        try:
            services.prediction_explain(prediction=prediction)
        except (model_service.ModelUnavailable, model_service.ImageError) as error:
            messages.error(request, f"The heatmap could not be computed: {error}")
        return redirect("classifier:detail", pk=pk)
    if not prediction.gradcam:
        raise Http404("No heatmap has been computed for this prediction yet.")
    response = FileResponse(prediction.gradcam.open("rb"), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_http_methods(["GET", "POST"])
def signup(request):
    if not settings.HEMATOVISION_ALLOW_SIGNUP:
        raise Http404("Sign-up is switched off; ask an administrator for an account.")
    form = SignupForm(request.POST) if request.method == "POST" else SignupForm()
    if form.is_bound and form.is_valid():
        login(request, form.save())
        messages.success(request, "Welcome to HematoVision.")
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "registration/signup.html", {"form": form})


@login_required
def model_info(request):
    return render(request, "classifier/model.html", {"version": selectors.model_version_active()})


@login_required
def model_confusion_png(request):
    version = selectors.model_version_active()
    evaluation = version.metrics.get("evaluation", {}).get("TEST") if version else None
    if not evaluation:
        raise Http404("The active model has no TEST evaluation yet.")
    return HttpResponse(model_service.confusion_png(evaluation), content_type="image/png")
