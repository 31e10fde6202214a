"""Samples: made in one of the owner's labs (or theirs alone), deleted with their cells and files."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.services import owner_or_staff_check
from classifier.services.files import FileCleanup, files_delete_on_commit
from labs.models import Sample
from labs.selectors import lab_list, sample_refuse_if_verified


def sample_create(*, owner, identifier: str, notes: str = "", lab=None) -> Sample:
    """A new sample of ``owner``'s, in one of their labs (seen by its members) or, without one, theirs alone."""
    if lab is not None and not lab_list(user=owner).filter(pk=lab.pk).exists():
        raise ValidationError({"lab": "You are not a member of that lab."})
    sample = Sample(owner=owner, lab=lab, identifier=identifier.strip(), notes=notes.strip())
    if Sample.objects.filter(owner=owner, identifier=sample.identifier).exists():
        raise ValidationError(
            {"identifier": f"You already have a sample called {sample.identifier!r}; choose another identifier."}
        )
    if lab is not None and Sample.objects.filter(lab=lab, identifier=sample.identifier).exists():
        raise ValidationError(
            {"identifier": f"{lab.name} already has a sample called {sample.identifier!r}; choose another identifier."}
        )
    sample.full_clean()
    sample.save()
    return sample


@transaction.atomic
def sample_delete(*, sample: Sample, actor=None) -> FileCleanup:
    """Delete a sample, its cells, its withdrawn reports and their files; never a verified one. ``actor`` (None: the
    system) must be its owner or staff."""
    owner_or_staff_check(actor=actor, record=sample, what="this sample")
    sample_refuse_if_verified(sample)
    cleanup = files_delete_on_commit(
        list(sample.predictions.all()),
        list(sample.waiting_images.all()),
        [revision.pdf for revision in sample.revisions.all()],
    )
    sample.delete()
    return cleanup
