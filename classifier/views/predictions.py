"""The upload page, its results, one prediction, its images and its Grad-CAM heatmap."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from classifier import exports, model_gateway, selectors
from classifier.forms import UploadForm
from classifier.services.predictions import prediction_create_many, prediction_delete, prediction_explain
from classifier.views.common import error_text


@login_required
@require_http_methods(["GET", "POST"])
def upload(request):
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    if form.is_bound and form.is_valid():
        try:
            predictions, failures = prediction_create_many(owner=request.user, uploads=form.cleaned_data["images"])
        except model_gateway.ModelUnavailable as error:
            messages.error(request, f"The classifier is not available: {error}")
            return render(request, "classifier/upload.html", {"form": form}, status=503)
        except ValidationError as error:
            messages.error(request, error_text(error))
            return render(request, "classifier/upload.html", {"form": UploadForm()}, status=400)
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
def detail(request, pk: int):
    """The cell page: its owner's, and the cells of their labs' samples for every member (reviewers reach the cells
    they reviewed from their history)."""
    prediction = selectors.prediction_get_visible(user=request.user, pk=pk)
    can_delete = selectors.prediction_deletable(user=request.user, prediction=prediction)
    return render(request, "classifier/detail.html", {"prediction": prediction, "can_delete": can_delete})


@login_required
@require_POST
def delete(request, pk: int):
    prediction = selectors.prediction_get(user=request.user, pk=pk)
    name = prediction.original_filename
    try:
        cleanup = prediction_delete(prediction=prediction, actor=request.user)
    except ValidationError as error:
        messages.error(request, error_text(error))
        return redirect("classifier:detail", pk=pk)
    if cleanup.left:
        messages.warning(
            request,
            f"Deleted the prediction for {name}, but the storage would not remove its image "
            "files; they are no longer shown anywhere, and an administrator has been told.",
        )
    else:
        messages.success(request, f"Deleted the prediction for {name}.")
    return redirect("classifier:history")


@login_required
def image_file(request, pk: int, variant: str):
    """Staff may open any image: the admin shows thumbnails."""
    return exports.prediction_file_response(selectors.prediction_get_visible(user=request.user, pk=pk), variant)


@login_required
@require_http_methods(["GET", "POST"])
def gradcam(request, pk: int):
    """POST computes the heatmap (once) and returns to the prediction; GET serves it, privately, to whoever may see
    the prediction."""
    prediction = selectors.prediction_get_visible(user=request.user, pk=pk)
    if request.method == "POST":
        try:
            prediction_explain(prediction=prediction)
        except (model_gateway.ModelUnavailable, model_gateway.ImageError) as error:
            messages.error(request, f"The heatmap could not be computed: {error}")
        return redirect("classifier:detail", pk=pk)
    if not prediction.gradcam:
        raise Http404("No heatmap has been computed for this prediction yet.")
    return exports.private_file_response(prediction.gradcam, content_type="image/png")


@login_required
def cell_crop(request, pk: int):
    """The crop around the located cell that reviewers judge; whoever may see the prediction may see it."""
    prediction = selectors.prediction_get_visible(user=request.user, pk=pk)
    response = HttpResponse(exports.cell_crop_jpeg(prediction), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response
