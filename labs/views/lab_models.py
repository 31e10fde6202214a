"""A lab's model page: the model that classifies the lab's cells, its history with the evaluations side by side,
and (for holders of the adapt-model permission) the buttons to build the lab's own model or go back to the shared
one. Plain form posts answered with a redirect and a message."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from classifier.views.common import error_text
from labs import selectors
from labs.models import ADAPT_MODEL_PERMISSION
from labs.services import lab_models


@login_required
@require_GET
def lab_model(request, slug: str):
    lab = selectors.lab_get(user=request.user, slug=slug)
    changes = list(selectors.lab_model_changes(lab=lab)[:20])
    for change in changes:
        change.comparison = _comparison(change.evaluations)
    return render(
        request,
        "labs/lab_model.html",
        {
            "lab": lab,
            "changes": changes,
            "in_progress": selectors.lab_model_build_in_progress(lab=lab),
            "can_adapt": request.user.has_perm(ADAPT_MODEL_PERMISSION),
        },
    )


@login_required
@require_POST
def lab_model_build(request, slug: str):
    lab = selectors.lab_get(user=request.user, slug=slug)
    try:
        change = lab_models.lab_model_request(lab=lab, user=request.user)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        change.refresh_from_db()
        messages.info(request, f"Lab model build: {change.get_status_display().lower()}.")
    return redirect("labs:lab_model", slug=lab.slug)


@login_required
@require_POST
def lab_model_revert(request, slug: str):
    lab = selectors.lab_get(user=request.user, slug=slug)
    try:
        lab_models.lab_model_revert(lab=lab, user=request.user)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, f"{lab} now uses the shared model again.")
    return redirect("labs:lab_model", slug=lab.slug)


def _comparison(evaluations: dict) -> list[dict]:
    """One row per evaluation set: its size, the current model's accuracy and the lab model's."""
    if not evaluations:
        return []
    current = evaluations["current"]["sets"]
    return [
        {
            "name": name,
            "images": figures["n_images"],
            "current": current[name]["accuracy"],
            "candidate": figures["accuracy"],
        }
        for name, figures in evaluations["candidate"]["sets"].items()
    ]
