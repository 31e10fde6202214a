"""Reviewers confirm or correct each cell of a sample in a keyboard grid, then verify (sign off) the sample."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from classifier import selectors, services
from classifier.models import CLASS_CHOICES, REVIEW_PERMISSION
from classifier.views.common import error_text, wants_json


@login_required
@require_GET
def sample_review_grid(request, pk: int):
    sample = selectors.sample_get_with_counts(user=request.user, pk=pk)
    only_flagged = request.GET.get("needs_review") == "1"
    predictions = selectors.sample_predictions(sample=sample, needs_review=True if only_flagged else None)
    can_review = request.user.has_perm(REVIEW_PERMISSION) and not sample.is_verified
    return render(request, "classifier/samples/review.html", {
        "sample": sample, "predictions": predictions, "only_flagged": only_flagged, "can_review": can_review,
        "classes": [(index, name, label) for index, (name, label) in enumerate(CLASS_CHOICES, start=1)],
    })


def _review_state(prediction) -> dict:
    return {
        "id": prediction.pk,
        "reviewed_label": prediction.reviewed_label,
        "reviewed_label_display": prediction.get_reviewed_label_display(),
        "final_label": prediction.final_label,
        "reviewed_by": prediction.reviewed_by.get_username() if prediction.reviewed_by_id else "",
        "reviewed_at": prediction.reviewed_at.isoformat() if prediction.reviewed_at else "",
    }


@login_required
@require_POST
def prediction_review(request, pk: int, prediction_pk: int):
    sample = selectors.sample_get(user=request.user, pk=pk)
    prediction = selectors.sample_prediction_get(sample=sample, pk=prediction_pk)
    try:
        services.prediction_review(prediction=prediction, reviewer=request.user, label=request.POST.get("label", ""))
    except PermissionDenied as error:
        status, message = 403, str(error)
    except ValidationError as error:
        status, message = 400, error_text(error)
    else:
        status, message = 200, f"Reviewed {prediction.original_filename}: {prediction.get_reviewed_label_display()}."
    if wants_json(request):
        pending = selectors.sample_get_with_counts(user=request.user, pk=pk).pending_count
        return JsonResponse({**_review_state(prediction), "message": message, "pending_count": pending},
                            status=status)
    (messages.success if status == 200 else messages.error)(request, message)
    return redirect(f"{reverse('classifier:sample_review', args=[sample.pk])}#cell-{prediction.pk}")


@login_required
@require_POST
def sample_verify(request, pk: int):
    sample = selectors.sample_get(user=request.user, pk=pk)
    try:
        services.sample_verify(sample=sample, reviewer=request.user)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, f"Sample {sample.identifier} is verified.")
    return redirect("classifier:sample_detail", pk=sample.pk)
