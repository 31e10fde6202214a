"""Reviewers confirm, correct or exclude each cell of a sample in a keyboard grid, then verify (sign off) the
sample; holders of the un-verify permission open a verified sample again. The grid's script calls the REST API;
these views answer plain form posts (no JavaScript) with a redirect and a message."""

from __future__ import annotations

from typing import NamedTuple

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from classifier.models import LABEL_NAMES, OTHER_KINDS, REASON_MAX_LENGTH, REVIEW_PERMISSION
from classifier.views.common import error_text
from labs import differential, selectors
from labs.services import review, sign_off

EXCLUSION_SUGGESTIONS = ["Blast", "Smudge cell", "Artefact", "Not a white cell", "Two cells"]
# The grid's keys and button text per label: a digit and the initial for the four classes, a letter of its own for
# each other kind (n is the neutrophil's, so the nucleated red cell takes r); 5 and x exclude, j k f move and show.
REVIEW_KEYS = {
    "EOSINOPHIL": ("1", "e"),
    "LYMPHOCYTE": ("2", "l"),
    "MONOCYTE": ("3", "m"),
    "NEUTROPHIL": ("4", "n"),
    "BASOPHIL": ("b",),
    "IMMATURE_GRANULOCYTE": ("i",),
    "ERYTHROBLAST": ("r",),
    "PLATELET": ("p",),
}
REVIEW_BUTTONS = {"BASOPHIL": "Ba", "IMMATURE_GRANULOCYTE": "IG", "ERYTHROBLAST": "NRC", "PLATELET": "Pl"}


class ReviewLabel(NamedTuple):
    """A label the grid offers: its code, name, keys, button text, and whether it is another kind (not counted)."""

    name: str
    label: str
    keys: tuple[str, ...]
    button: str
    other_kind: bool


REVIEW_LABELS = [
    ReviewLabel(name, label, REVIEW_KEYS[name], REVIEW_BUTTONS.get(name, label[0]), name in OTHER_KINDS)
    for name, label in LABEL_NAMES.items()
]


# The grid's card sizes: large shows every button under each crop; standard (crops of 150 px and more) and compact
# (about 30 cards on a 1366 x 900 screen) show them when the pointer is over a card (always on touch screens).
CARD_SIZES = [("large", "Large"), ("standard", "Standard"), ("compact", "Compact")]
DEFAULT_CARD_SIZE = "standard"
CARD_SIZE_SESSION_KEY = "review_card_size"


def _card_size(request) -> str:
    """The card size chosen with ``?size=``, remembered in the session for every sample's grid."""
    sizes = dict(CARD_SIZES)
    chosen = request.GET.get("size")
    if chosen in sizes:
        request.session[CARD_SIZE_SESSION_KEY] = chosen
        return chosen
    remembered = request.session.get(CARD_SIZE_SESSION_KEY)
    return remembered if remembered in sizes else DEFAULT_CARD_SIZE


@login_required
@require_GET
def sample_review_grid(request, pk: int):
    sample = selectors.sample_get_with_counts(user=request.user, pk=pk)
    only_flagged = request.GET.get("needs_review") == "1"
    can_review = request.user.has_perm(REVIEW_PERMISSION) and not sample.is_verified
    return render(
        request,
        "labs/samples/review.html",
        {
            "sample": sample,
            "only_flagged": only_flagged,
            "can_review": can_review,
            "card_size": _card_size(request),
            "verify_refusal": selectors.sample_verify_refusal(sample) if can_review else None,
            "card_sizes": CARD_SIZES,
            "groups": selectors.sample_predictions_by_class(sample=sample, needs_review=True if only_flagged else None),
            "counts": selectors.sample_review_counts(sample),
            "labels": REVIEW_LABELS,
            "reason_max_length": REASON_MAX_LENGTH,
            "reason_suggestions": EXCLUSION_SUGGESTIONS,
            "four_eyes_refusal": selectors.sample_four_eyes_refusal(sample=sample, reviewer=request.user),
        },
    )


@login_required
@require_POST
def prediction_review(request, pk: int, prediction_pk: int):
    """A per-cell form post: ``label`` confirms or corrects, ``exclude`` with a ``reason`` excludes."""
    sample = selectors.sample_get(user=request.user, pk=pk)
    prediction = selectors.sample_prediction_get(sample=sample, pk=prediction_pk)
    try:
        if "exclude" in request.POST:
            review.prediction_exclude(
                prediction=prediction, reviewer=request.user, reason=request.POST.get("reason", "")
            )
            message = f"Excluded {prediction.original_filename}: {prediction.exclusion_reason}."
        else:
            review.prediction_review(prediction=prediction, reviewer=request.user, label=request.POST.get("label", ""))
            message = f"Reviewed {prediction.original_filename}: {prediction.get_reviewed_label_display()}."
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, message)
    return redirect(f"{reverse('labs:sample_review', args=[sample.pk])}#cell-{prediction.pk}")


@login_required
@require_POST
def sample_verify(request, pk: int):
    sample = selectors.sample_get(user=request.user, pk=pk)
    try:
        sign_off.sample_verify(sample=sample, reviewer=request.user)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, f"Sample {sample.identifier} is verified.")
    return redirect("labs:sample_detail", pk=sample.pk)


@login_required
@require_POST
def sample_unverify(request, pk: int):
    """Two steps: the sample page's form sends the reason and is answered with what un-verifying withdraws and a
    confirm button (``confirm=yes``); only that second post un-verifies."""
    sample = selectors.sample_get(user=request.user, pk=pk)
    reason = request.POST.get("reason", "")
    try:
        if request.POST.get("confirm") != "yes":
            reason = sign_off.sample_unverify_check(sample=sample, actor=request.user, reason=reason)
            return render(
                request,
                "labs/samples/unverify_confirm.html",
                {
                    "sample": sample,
                    "reason": reason,
                    "report": differential.sample_report(sample=sample),
                    "four_eyes": settings.HEMATOVISION_UNVERIFY_FOUR_EYES,
                },
            )
        sign_off.sample_unverify(sample=sample, actor=request.user, reason=reason)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(
            request,
            f"Sample {sample.identifier} is open again and its signed report withdrawn; the reason is in its "
            "audit trail.",
        )
    return redirect("labs:sample_detail", pk=sample.pk)
