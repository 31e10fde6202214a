"""Reviewers confirm, correct or exclude a sample's cells; each change is written to the sample's audit trail.

The model's own label and probabilities are always kept; a cell of a verified sample is never changed.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from classifier.models import LABEL_CHOICES, REASON_MAX_LENGTH, REVIEW_PERMISSION, Prediction
from labs.models import SampleEvent
from labs.selectors import sample_refuse_if_verified


def reviewer_check(user) -> None:
    if not user.has_perm(REVIEW_PERMISSION):
        raise PermissionDenied("Only reviewers can confirm or correct predictions.")


def reason_checked(reason: str, what: str) -> str:
    """The reason stripped, or a ``ValidationError`` when it is missing or too long."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": f"Give a reason {what}."})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": f"The reason is {len(reason)} characters long; at most {REASON_MAX_LENGTH}."})
    return reason


def _cell_state(prediction: Prediction) -> str:
    """The cell's label as the audit trail records it: its class or kind (the reviewer's, else the model's), or
    'excluded'."""
    return "excluded" if prediction.excluded else prediction.final_label


def _review_save(prediction: Prediction, reviewer, *, kind: str, reason: str = "") -> Prediction:
    """Stamp and save the reviewed prediction, with its audit-trail entry when it belongs to a sample."""
    before = Prediction.objects.get(pk=prediction.pk)
    prediction.reviewed_by = reviewer
    prediction.reviewed_at = timezone.now()
    prediction.full_clean()
    prediction.save(update_fields=["reviewed_label", "reviewed_by", "reviewed_at", "excluded", "exclusion_reason"])
    if prediction.sample_id:
        SampleEvent.objects.create(
            sample_id=prediction.sample_id,
            actor=reviewer,
            kind=kind,
            prediction=prediction,
            cell=prediction.original_filename,
            from_label=_cell_state(before),
            to_label=_cell_state(prediction),
            reason=reason,
            at=prediction.reviewed_at,
        )
    return prediction


@transaction.atomic
def prediction_review(*, prediction: Prediction, reviewer, label: str) -> Prediction:
    """Confirm (same label) or correct a prediction to one of the four classes or another kind (not counted); the
    model's own label and probabilities are kept, and an earlier exclusion is lifted."""
    reviewer_check(reviewer)
    if label not in dict(LABEL_CHOICES):
        raise ValidationError({"label": f"Unknown label {label!r}."})
    sample_refuse_if_verified(prediction.sample if prediction.sample_id else None)
    prediction.reviewed_label = label
    prediction.excluded, prediction.exclusion_reason = False, ""
    kind = SampleEvent.Kind.CONFIRMED if label == prediction.predicted_label else SampleEvent.Kind.CORRECTED
    return _review_save(prediction, reviewer, kind=kind)


@transaction.atomic
def prediction_exclude(*, prediction: Prediction, reviewer, reason: str) -> Prediction:
    """Take a cell out of the differential (none of the four classes: a blast, a smudge cell, an artefact), with
    the reason; confirming or correcting it later brings it back."""
    reviewer_check(reviewer)
    if not prediction.sample_id:
        raise ValidationError("Only a cell of a sample can be excluded from its differential.")
    reason = reason_checked(reason, "for excluding the cell")
    sample_refuse_if_verified(prediction.sample)
    prediction.reviewed_label = ""
    prediction.excluded, prediction.exclusion_reason = True, reason
    return _review_save(prediction, reviewer, kind=SampleEvent.Kind.EXCLUDED, reason=reason)
