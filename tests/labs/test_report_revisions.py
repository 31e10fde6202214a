"""Report revisions: each verification signs the next revision of the sample's report, its PDF stored as signed and
its sha256 in the audit trail; un-verifying withdraws it; the re-signed report says "Amended" with the earlier
sign-off, who withdrew it, when and why; every revision downloads again byte for byte, for the lab only."""

import hashlib

import pytest
from django.urls import reverse

from classifier.templatetags.hematovision import lab_time
from labs.differential import sample_report_number
from labs.models import ReportRevision, SampleEvent
from labs.services.samples import sample_delete
from labs.services.sign_off import sample_unverify, sample_verify
from tests.factories import (
    lab_make,
    media_files,
    pdf_text,
    prediction_make,
    reviewer_make,
    sample_make,
    senior_reviewer_make,
    token_client,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def rita(django_user_model):
    rita = reviewer_make(django_user_model, "rita")
    rita.first_name, rita.last_name = "Rita", "Levi"
    rita.save()
    return rita


@pytest.fixture
def vera(django_user_model):
    return senior_reviewer_make(django_user_model, "vera", "Vera", "Voss")


@pytest.fixture
def lab(user, rita, vera):
    return lab_make(user, rita, vera)


@pytest.fixture
def sample(user, rita, lab):
    """Three neutrophils confirmed by Rita, ready to verify."""
    sample = sample_make(user, "S-AMEND", lab=lab)
    for index in range(3):
        prediction_make(sample, reviewed_label="NEUTROPHIL", reviewer=rita, filename=f"cell-{index}.jpeg")
    return sample


def as_user(client, user):
    client.force_login(user)
    return client


def verify(client, reviewer, sample):
    return as_user(client, reviewer).post(reverse("labs:sample_verify", args=[sample.pk]), follow=True)


def unverify(client, actor, sample, reason):
    """Both steps of the page: the reason, then the confirmation."""
    url = reverse("labs:sample_unverify", args=[sample.pk])
    as_user(client, actor).post(url, {"reason": reason})
    return client.post(url, {"reason": reason, "confirm": "yes"}, follow=True)


def download(client, sample, number=None):
    """A signed revision's PDF bytes (the report in force without ``number``)."""
    if number is None:
        url = reverse("labs:sample_pdf", args=[sample.pk])
    else:
        url = reverse("labs:sample_revision_pdf", args=[sample.pk, number])
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    return response.getvalue()


def verification_sha256s(sample) -> list[str]:
    """The sha256 each verification wrote into the audit trail, the first first."""
    return list(sample.events.filter(kind="verified").order_by("at", "id").values_list("report_sha256", flat=True))


@pytest.fixture
def amended(client, sample, rita, vera):
    """Rita verifies; Vera withdraws the report, corrects a cell and verifies again."""
    verify(client, rita, sample)
    unverify(client, vera, sample, "Wrong smear scanned")
    cell = sample.predictions.first()
    client.post(reverse("labs:prediction_review", args=[sample.pk, cell.pk]), {"label": "MONOCYTE"})
    verify(client, vera, sample)
    sample.refresh_from_db()
    return sample


def test_verifying_signs_revision_1_stored_with_its_sha256_in_the_audit_trail(client, sample, rita):
    assert "is verified" in verify(client, rita, sample).content.decode()
    revision = ReportRevision.objects.get()
    sample.refresh_from_db()
    stored = revision.pdf.read()
    assert revision.number == 1 and not revision.is_withdrawn
    assert (revision.verified_by, revision.verified_at) == (rita, sample.verified_at)
    assert revision.sha256 == hashlib.sha256(stored).hexdigest() == verification_sha256s(sample)[0]
    text = pdf_text(stored)
    assert f"Report {sample_report_number(sample, 1)}" in text and "Revision 1 " in text
    assert "Verified by Rita Levi" in text and "Amended" not in text
    assert download(client, sample) == stored  # the report in force is the stored one, not a new print


def test_re_verifying_a_withdrawn_report_signs_revision_2_marked_amended(amended, vera, settings):
    first, second = ReportRevision.objects.order_by("number")
    assert (first.withdrawn_by, first.withdrawal_reason) == (vera, "Wrong smear scanned") and first.withdrawn_at
    assert second.number == 2 and not second.is_withdrawn
    text = pdf_text(second.pdf.read())
    assert f"Report {sample_report_number(amended, 2)} · Amended" in text
    assert "Revision 2, amended" in text
    assert (
        f"Revision 1 ({sample_report_number(amended, 1)}), signed by Rita Levi on {lab_time(first.verified_at)}, "
        f"was withdrawn (un-verified) by Vera Voss on {lab_time(first.withdrawn_at)}. Reason: Wrong smear scanned"
    ) in text
    assert "Verified by Vera Voss" in text and "Signature:" in text


def test_revision_1_still_downloads_byte_for_byte_as_signed(client, amended, user):
    first_sha256, second_sha256 = verification_sha256s(amended)
    first = download(as_user(client, user), amended, 1)
    assert hashlib.sha256(first).hexdigest() == first_sha256 != second_sha256
    text = pdf_text(first)  # as it was signed, not printed again from the sample as it is now
    assert "Verified by Rita Levi" in text and "Neutrophil 3 100.0" in text and "Amended" not in text
    assert hashlib.sha256(download(client, amended, 2)).hexdigest() == second_sha256
    assert download(client, amended) == download(client, amended, 2)


def test_the_sample_page_lists_every_revision_with_its_download(client, amended, user):
    content = as_user(client, user).get(reverse("labs:sample_detail", args=[amended.pk])).content.decode()
    assert f'id="report-number">{sample_report_number(amended, 2)}<' in content and 'id="report-amended"' in content
    revisions = content[content.index('id="report-revisions"') : content.index('id="audit-trail"')]
    for number in (1, 2):
        assert f'href="{reverse("labs:sample_revision_pdf", args=[amended.pk, number])}"' in revisions
    assert "Wrong smear scanned" in revisions and "Vera Voss" in revisions and "in force" in revisions
    trail = content[content.index('id="audit-trail"') :]
    assert all(f'sha256 <code title="{sha256}">' in trail for sha256 in verification_sha256s(amended))


def test_a_withdrawn_sample_prints_a_preliminary_report_that_names_the_withdrawal(client, sample, rita, vera):
    verify(client, rita, sample)
    unverify(client, vera, sample, "Recount")
    text = pdf_text(download(client, sample))
    assert "PRELIMINARY — NOT VERIFIED" in text and f"Report {sample_report_number(sample)} " in text
    assert "Withdrawn: the earlier signed revisions" in text and "Reason: Recount" in text


@pytest.mark.parametrize("number", [1, 2])
def test_revisions_are_downloaded_by_the_lab_only(client, amended, django_user_model, number):
    outsider = reviewer_make(django_user_model, "otto")
    lab_make(outsider, name="Elsewhere", slug="elsewhere")
    url = reverse("labs:sample_revision_pdf", args=[amended.pk, number])
    response = as_user(client, outsider).get(url)
    assert response.status_code == 404 and b"S-AMEND" not in response.getvalue()
    assert as_user(client, outsider).get(reverse("labs:sample_pdf", args=[amended.pk])).status_code == 404


def test_a_revision_that_does_not_exist_is_a_404(client, amended, user):
    assert as_user(client, user).get(reverse("labs:sample_revision_pdf", args=[amended.pk, 3])).status_code == 404


def test_the_api_verification_stores_the_revision_and_shows_its_sha256_in_the_events(sample, rita, vera):
    api = token_client(rita)
    assert api.post(reverse("api:sample-verify", args=[sample.pk])).status_code == 200
    events = api.get(reverse("api:sample-events", args=[sample.pk])).json()["results"]
    assert events[0]["kind"] == "verified" and events[0]["report_sha256"] == ReportRevision.objects.get().sha256
    withdrawn = token_client(vera).post(reverse("api:sample-unverify", args=[sample.pk]), {"reason": "Typo"})
    assert withdrawn.status_code == 200 and ReportRevision.objects.get().withdrawal_reason == "Typo"


def test_deleting_a_withdrawn_sample_deletes_its_stored_reports(
    sample, user, rita, vera, isolated_media, django_capture_on_commit_callbacks
):
    sample_verify(sample=sample, reviewer=rita)
    sample_unverify(sample=sample, actor=vera, reason="Duplicate sample")
    assert any(path.suffix == ".pdf" for path in media_files(isolated_media))
    with django_capture_on_commit_callbacks(execute=True):
        sample_delete(sample=sample, actor=user)
    assert media_files(isolated_media) == [] and not ReportRevision.objects.exists()
    assert not SampleEvent.objects.exists()
