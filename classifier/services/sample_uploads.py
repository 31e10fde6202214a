"""A sample's uploads as their senders declared them: begun (or continued) by each request, counted as files
arrive, and marked as receiving only while a request runs, so one cut short shows as interrupted."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone

from classifier.models import SampleUpload

# gunicorn.conf.py's timeout: a request still marked as running after this long was killed (tests check both agree).
UPLOAD_REQUEST_LIMIT = timedelta(seconds=300)


def sample_upload_begin(
    *, sender, sample, files: int, expected_count: int | None = None, upload_id=None
) -> SampleUpload:
    """The upload this request's ``files`` (a ZIP counts as one) belong to, marked as receiving: the one it goes on
    with (``upload_id``, the sender's own upload to this sample) or a new one of ``expected_count`` files (without
    it, the request's own files are the whole upload). A request that would take the upload past what it declared
    is refused whole."""
    receiving_until = timezone.now() + UPLOAD_REQUEST_LIMIT
    if upload_id is None:
        upload = SampleUpload(sample=sample, sender=sender, expected_count=expected_count or files)
    else:
        upload = SampleUpload.objects.filter(pk=upload_id, sample=sample, sender=sender).first()
        if upload is None:
            raise ValidationError(
                {"upload": f"No upload {upload_id} of yours to this sample; leave it out to begin one."}
            )
    if upload.received_count + files > upload.expected_count:
        before = f"{upload.received_count} arrived before and " if upload.received_count else ""
        raise ValidationError(
            {
                "expected_count": f"The upload declared {upload.expected_count} file(s); {before}this request sends "
                f"{files}. Declare every file the upload sends."
            }
        )
    if upload.pk is None:
        upload.receiving_until = receiving_until
        upload.save()
    else:  # an update, not a save: another request of the upload may be counting its files at this moment
        SampleUpload.objects.filter(pk=upload.pk).update(receiving_until=receiving_until)
    return upload


class Arrivals:
    """Counts a request's files (a ZIP counts as one) as received in its upload, each once every image of it is
    handled: stored (its row committed), refused with a reason, or found in the sample already. A request killed
    midway leaves counted exactly the files that are complete."""

    def __init__(self, upload: SampleUpload, images_per_file: list[int]):
        self.upload = upload
        self._left = list(images_per_file)
        self._receive(sum(1 for images in images_per_file if not images))  # archives refused or empty: handled

    def handled(self, items) -> None:
        """``items`` (checked uploads or failures, by their ``origin``) are handled; one without an origin (an
        archive refused whole, a member that is no image) was counted with its archive."""
        complete = 0
        for item in items:
            if item.origin is not None:
                self._left[item.origin] -= 1
                complete += not self._left[item.origin]
        self._receive(complete)

    def _receive(self, files: int) -> None:
        if files:
            SampleUpload.objects.filter(pk=self.upload.pk).update(received_count=F("received_count") + files)


def sample_upload_end(*, upload: SampleUpload) -> SampleUpload:
    """The request is over: the upload is no longer receiving (interrupted, if fewer files arrived than it
    declared, until another upload completes). The upload, read afresh."""
    SampleUpload.objects.filter(pk=upload.pk).update(receiving_until=None)
    upload.refresh_from_db()
    return upload
