"""Sign-off: a reviewer verifies a sample once every cell is handled, and from then on it is frozen; holders of
the un-verify permission open it again, with a reason. Both are written to the sample's audit trail."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from labs.models import UNVERIFY_PERMISSION, Sample, SampleEvent
from labs.selectors import sample_refuse_if_verified, sample_verify_refusal
from labs.services.review import reason_checked, reviewer_check


@transaction.atomic
def sample_verify(*, sample: Sample, reviewer) -> Sample:
    """Sign the sample off once every cell is confirmed, corrected or excluded; from then on it is frozen."""
    reviewer_check(reviewer)
    sample_refuse_if_verified(sample)
    refusal = sample_verify_refusal(sample)
    if refusal:
        raise refusal
    sample.verified_at = timezone.now()
    sample.verified_by = reviewer
    sample.save(update_fields=["verified_at", "verified_by"])
    SampleEvent.objects.create(sample=sample, actor=reviewer, kind=SampleEvent.Kind.VERIFIED, at=sample.verified_at)
    return sample


@transaction.atomic
def sample_unverify(*, sample: Sample, actor, reason: str) -> Sample:
    """Open a verified sample again (a separate permission from reviewing); who, when and why are recorded."""
    if not actor.has_perm(UNVERIFY_PERMISSION):
        raise PermissionDenied("Only people allowed to un-verify samples can do this; ask an administrator.")
    reason = reason_checked(reason, "for un-verifying the sample")
    if not Sample.objects.select_for_update().filter(Sample.IN_A_VERIFIED_SAMPLE, pk=sample.pk).exists():
        raise ValidationError("This sample is not verified.")
    sample.verified_at, sample.verified_by = None, None
    sample.save(update_fields=["verified_at", "verified_by"])
    SampleEvent.objects.create(sample=sample, actor=actor, kind=SampleEvent.Kind.UNVERIFIED, reason=reason)
    return sample
