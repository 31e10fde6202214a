"""Sign-off: a reviewer verifies a sample once every cell is handled, which signs the next revision of its report
(rendered then and stored, its sha256 in the audit trail), and from then on the sample is frozen; holders of the
un-verify permission open it again with a reason, which withdraws that revision. Both are written to the sample's
audit trail."""

from __future__ import annotations

import hashlib

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from labs import differential, report_pdf
from labs.models import UNVERIFY_PERMISSION, ReportRevision, Sample, SampleEvent
from labs.selectors import sample_four_eyes_refusal, sample_refuse_if_verified, sample_verify_refusal
from labs.services.review import reason_checked, reviewer_check


def _revision_sign(sample: Sample) -> ReportRevision:
    """The sample's next report revision: its PDF rendered from the sample as verified (not saved yet, so nothing
    is written while it renders) and stored as it is signed, to be given out again byte for byte."""
    report = differential.sample_report(sample=sample)
    pdf = report_pdf.sample_pdf_render(report=report, generated_at=sample.verified_at)
    revision = ReportRevision(
        sample=sample,
        number=report.revision,
        sha256=hashlib.sha256(pdf).hexdigest(),
        verified_by=sample.verified_by,
        verified_at=sample.verified_at,
    )
    revision.pdf.save("report.pdf", ContentFile(pdf), save=False)  # named by report_upload_to
    revision.save()
    return revision


@transaction.atomic
def sample_verify(*, sample: Sample, reviewer) -> Sample:
    """Sign the sample off once every cell is confirmed, corrected or excluded: its report's next revision is
    stored, and from then on the sample is frozen."""
    reviewer_check(reviewer)
    sample_refuse_if_verified(sample)
    refusal = sample_verify_refusal(sample)
    if refusal:
        raise refusal
    four_eyes = sample_four_eyes_refusal(sample=sample, reviewer=reviewer)
    if four_eyes:
        raise ValidationError(four_eyes, code="four_eyes")
    sample.verified_at = timezone.now()
    sample.verified_by = reviewer
    revision = _revision_sign(sample)
    sample.save(update_fields=["verified_at", "verified_by"])
    SampleEvent.objects.create(
        sample=sample,
        actor=reviewer,
        kind=SampleEvent.Kind.VERIFIED,
        report_sha256=revision.sha256,
        at=sample.verified_at,
    )
    return sample


def sample_unverify_check(*, sample: Sample, actor, reason: str) -> str:
    """The reason, stripped, once ``actor`` may un-verify ``sample`` with it; the page asks for confirmation after
    this check and before ``sample_unverify``."""
    if not actor.has_perm(UNVERIFY_PERMISSION):
        raise PermissionDenied("Only people allowed to un-verify samples can do this; ask an administrator.")
    reason = reason_checked(reason, "for un-verifying the sample")
    if not sample.is_verified:
        raise ValidationError("This sample is not verified.")
    return reason


@transaction.atomic
def sample_unverify(*, sample: Sample, actor, reason: str) -> Sample:
    """Open a verified sample again (a separate permission from reviewing), withdrawing its signed report; who,
    when and why are recorded on the revision and in the audit trail."""
    locked = Sample.objects.select_for_update().get(pk=sample.pk)  # read afresh: two un-verifies cannot both pass
    reason = sample_unverify_check(sample=locked, actor=actor, reason=reason)
    now = timezone.now()
    sample.revisions.filter(withdrawn_at__isnull=True).update(
        withdrawn_by=actor, withdrawn_at=now, withdrawal_reason=reason
    )
    sample.verified_at, sample.verified_by = None, None
    sample.save(update_fields=["verified_at", "verified_by"])
    SampleEvent.objects.create(sample=sample, actor=actor, kind=SampleEvent.Kind.UNVERIFIED, reason=reason, at=now)
    return sample
